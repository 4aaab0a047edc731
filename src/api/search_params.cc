#include "api/search_params.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <set>

#include "clins/items.h"

namespace clinshub::api {
namespace {

constexpr char kAllergyCategorySystem[] =
    "http://hl7.org/fhir/allergy-intolerance-category";

Status BadValue(const std::string& name, const std::string& message) {
  return Status::Error(ErrorCode::kMalformed, "value", message, name);
}

Status Unsupported(const std::string& name, std::string_view type, std::string_view supported) {
  return Status::Error(ErrorCode::kMalformed, "not-supported",
                       "Unsupported search parameter '" + name + "' for " + std::string(type) +
                           "; supported: " + std::string(supported),
                       name);
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<Timestamp> JapanMidnight(int y, int m, int d) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT00:00:00+09:00", y, m, d);
  return ParseFhirDateTime(buf);
}

Result<std::vector<TokenValue>> ParseTokens(const std::string& name, std::string_view value) {
  std::vector<TokenValue> out;
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t comma = value.find(',', pos);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view one = value.substr(pos, comma - pos);
    TokenValue t;
    size_t bar = one.find('|');
    if (bar == std::string_view::npos) {
      t.code = std::string(one);
    } else {
      t.system = std::string(one.substr(0, bar));
      t.code = std::string(one.substr(bar + 1));
    }
    if (t.code.empty() && (!t.system || t.system->empty())) {
      return BadValue(name, name + " needs a code: system|code, code or |code (comma = or)");
    }
    out.push_back(std::move(t));
    pos = comma + 1;
  }
  return out;
}

Result<DateCriterion> ParseDateCriterion(const std::string& name, std::string_view text) {
  static constexpr std::pair<std::string_view, DatePrefix> kPrefixes[] = {
      {"eq", DatePrefix::kEq}, {"ne", DatePrefix::kNe}, {"lt", DatePrefix::kLt},
      {"gt", DatePrefix::kGt}, {"le", DatePrefix::kLe}, {"ge", DatePrefix::kGe}};
  DateCriterion c;
  if (text.size() > 2 && std::isalpha(static_cast<unsigned char>(text[0]))) {
    std::string_view p = text.substr(0, 2);
    auto it = std::find_if(std::begin(kPrefixes), std::end(kPrefixes),
                           [&](const auto& k) { return k.first == p; });
    if (it == std::end(kPrefixes)) {
      return BadValue(name, "Unsupported prefix '" + std::string(p) + "' in " + name +
                                "; supported: eq, ne, lt, gt, le, ge");
    }
    c.prefix = it->second;
    text.remove_prefix(2);
  }
  std::optional<DateRange> range = ParseDateRange(text);
  if (!range) {
    return BadValue(name, name + " must be [prefix]yyyy, yyyy-mm, yyyy-mm-dd or a dateTime "
                                 "with a zone, e.g. ge2025-04 or lt2025-04-01");
  }
  c.start = range->start;
  c.end = range->end;
  return c;
}

bool TokenMatchesCoding(const TokenValue& t, std::string_view system, std::string_view code) {
  if (t.system) {
    if (*t.system != system) return false;
    return t.code.empty() || t.code == code;
  }
  return t.code == code;
}

// Any coding of a CodeableConcept (or of an array of them) matches any token.
bool ConceptMatches(const std::vector<TokenValue>& any, const fhir::Value* codeable) {
  if (codeable == nullptr) return false;
  if (codeable->is_array()) {
    for (const fhir::Value& c : codeable->items()) {
      if (ConceptMatches(any, &c)) return true;
    }
    return false;
  }
  const fhir::Value* codings = codeable->Find("coding");
  if (codings == nullptr) return false;
  for (const fhir::Value& coding : codings->items()) {
    for (const TokenValue& t : any) {
      if (TokenMatchesCoding(t, coding.StringAt("system"), coding.StringAt("code"))) return true;
    }
  }
  return false;
}

const fhir::Value* CodeElement(std::string_view type, const fhir::Value& resource) {
  return resource.Find(type == "MedicationRequest" ? "medicationCodeableConcept" : "code");
}

bool CategoryMatches(std::string_view type, const std::vector<TokenValue>& any,
                     const store::StoredItem& item, const fhir::Value& resource) {
  if (type == "Observation") {
    const std::string_view ours =
        item.item.kind == clins::ItemKind::kInfection ? "infection" : "laboratory";
    for (const TokenValue& t : any) {
      if (t.code == ours) return true;
    }
    return false;
  }
  if (type == "AllergyIntolerance") {
    const fhir::Value* categories = resource.Find("category");
    if (categories == nullptr) return false;
    for (const fhir::Value& c : categories->items()) {
      for (const TokenValue& t : any) {
        if (c.is_string() && c.text() == t.code) return true;
      }
    }
    return false;
  }
  return ConceptMatches(any, resource.Find("category"));
}

// Checks the category vocabulary where the hub defines it (a typo must not match nothing
// silently).
Status CheckCategoryValues(std::string_view type, const std::string& name,
                           const std::vector<TokenValue>& values) {
  std::set<std::string_view> allowed;
  std::string_view system;
  if (type == "Observation") {
    allowed = {"laboratory", "infection"};
    system = kItemKindSystem;
  } else if (type == "AllergyIntolerance") {
    allowed = {"food", "medication", "environment", "biologic"};
    system = kAllergyCategorySystem;
  } else {
    return Status::Ok();
  }
  for (const TokenValue& t : values) {
    if ((t.system && *t.system != system) || !allowed.contains(t.code)) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return BadValue(name, std::string(type) + " category is one of " + list + " (system " +
                                std::string(system) + " or none)");
    }
  }
  return Status::Ok();
}

}  // namespace

bool LenientHandling(const Request& request) {
  std::string_view prefer = request.headers.Get("Prefer").value_or("");
  return prefer.find("handling=lenient") != std::string_view::npos;
}

bool IsSearchableClinicalType(std::string_view type) {
  return type == "Condition" || type == "AllergyIntolerance" || type == "Observation" ||
         type == "MedicationRequest";
}

std::optional<DateRange> ParseDateRange(std::string_view text) {
  int y = 0, m = 1, d = 1;
  auto num = [](std::string_view s, int& out) {
    return AllDigits(s) &&
           std::from_chars(s.data(), s.data() + s.size(), out).ec == std::errc();
  };
  if (text.size() == 4 && num(text, y)) {
    auto start = JapanMidnight(y, 1, 1), end = JapanMidnight(y + 1, 1, 1);
    if (start && end) return DateRange{*start, *end};
    return std::nullopt;
  }
  if (text.size() == 7 && text[4] == '-' && num(text.substr(0, 4), y) &&
      num(text.substr(5, 2), m) && m >= 1 && m <= 12) {
    auto start = JapanMidnight(y, m, 1);
    auto end = m == 12 ? JapanMidnight(y + 1, 1, 1) : JapanMidnight(y, m + 1, 1);
    if (start && end) return DateRange{*start, *end};
    return std::nullopt;
  }
  if (text.size() == 10 && text[4] == '-' && text[7] == '-' && num(text.substr(0, 4), y) &&
      num(text.substr(5, 2), m) && num(text.substr(8, 2), d)) {
    std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m),
                                    std::chrono::day(d)};
    if (!ymd.ok()) return std::nullopt;
    auto start = JapanMidnight(y, m, d);
    if (!start) return std::nullopt;
    return DateRange{*start, *start + std::chrono::hours(24)};
  }
  // A dateTime must say its zone: "the same instant" is otherwise ambiguous.
  if (text.size() > 10 && text[10] == 'T' &&
      (text.back() == 'Z' || text.find_last_of("+-") > 10)) {
    std::optional<Timestamp> t = ParseFhirDateTime(text);
    if (!t) return std::nullopt;
    return DateRange{*t, *t + std::chrono::seconds(1)};
  }
  return std::nullopt;
}

bool DateMatches(const DateCriterion& c, const DateRange& v) {
  const bool within = v.start >= c.start && v.end <= c.end;
  switch (c.prefix) {
    case DatePrefix::kEq: return within;
    case DatePrefix::kNe: return !within;
    case DatePrefix::kLt: return v.start < c.start;
    case DatePrefix::kGt: return v.end > c.end;
    case DatePrefix::kLe: return v.start < c.end;
    case DatePrefix::kGe: return v.end > c.start;
  }
  return false;
}

Result<size_t> ParseCount(std::string_view text) {
  size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc::result_out_of_range && AllDigits(text)) return kSearchMaxCount;
  if (ec != std::errc() || end != text.data() + text.size() || n < 1) {
    return BadValue("_count", "_count must be a whole number from 1 (at most 500 are served)");
  }
  return std::min(n, kSearchMaxCount);
}

Result<ClinicalSearch> ParseClinicalSearch(std::string_view type, const QueryParams& query,
                                           bool lenient) {
  ClinicalSearch s;
  s.resource_type = std::string(type);
  const bool has_onset = type == "Condition" || type == "AllergyIntolerance";
  const std::string date_name = has_onset ? "onset-date" : "date";
  const std::string supported =
      "patient.identifier (or patient), code, " +
      std::string(type == "MedicationRequest" ? "" : "category, ") + date_name + ", " +
      std::string(has_onset ? "clinical-status, " : "") + "_lastUpdated, _count, _sort, _include=" +
      std::string(type) + ":patient, _summary=count";
  std::set<std::string> seen;
  for (const auto& [name, value] : query.items()) {
    if (name == "_format" || name == "_pretty") continue;
    const bool repeatable = name == "code" || name == "category" || name == "clinical-status" ||
                            name == date_name || name == "_lastUpdated";
    if (!seen.insert(name).second && !repeatable) {
      return Status::Error(ErrorCode::kMalformed, "not-supported",
                           "Search parameter " + name + " may be given only once", name);
    }
    if (name == "patient.identifier" || name == "patient" || name == "patient:identifier") {
      if (!s.patient_param.empty()) {
        return Status::Error(ErrorCode::kMalformed, "not-supported",
                             "Name the patient once (patient.identifier or patient)", name);
      }
      s.patient_param = name;
      s.used.emplace_back(name, value);
    } else if (name == "code" ||
               (name == "category" && type != "MedicationRequest") ||
               (name == "clinical-status" && has_onset)) {
      Result<std::vector<TokenValue>> tokens = ParseTokens(name, value);
      if (!tokens.ok()) return tokens.take_status();
      if (name == "category") {
        CLINSHUB_RETURN_IF_ERROR(CheckCategoryValues(type, name, *tokens));
        s.category.push_back(std::move(*tokens));
      } else if (name == "code") {
        s.code.push_back(std::move(*tokens));
      } else {
        s.clinical_status.push_back(std::move(*tokens));
      }
      s.used.emplace_back(name, value);
    } else if (name == date_name || name == "_lastUpdated") {
      Result<DateCriterion> c = ParseDateCriterion(name, value);
      if (!c.ok()) return c.take_status();
      (name == date_name ? s.date : s.last_updated).push_back(*c);
      s.used.emplace_back(name, value);
    } else if (name == "_count") {
      Result<size_t> n = ParseCount(value);
      if (!n.ok()) return n.take_status();
      s.count = *n;
    } else if (name == "_sort") {
      if (value == "-date") s.sort = SortKey::kDateDesc;
      else if (value == "date") s.sort = SortKey::kDateAsc;
      else if (value == "-_lastUpdated") s.sort = SortKey::kLastUpdatedDesc;
      else if (value == "_lastUpdated") s.sort = SortKey::kLastUpdatedAsc;
      else {
        return BadValue(name, "_sort must be date, -date, _lastUpdated or -_lastUpdated");
      }
      s.used.emplace_back(name, value);
    } else if (name == "_include") {
      if (value != std::string(type) + ":patient") {
        if (!lenient) {
          return Status::Error(ErrorCode::kMalformed, "not-supported",
                               "Unsupported _include '" + value + "'; supported: " +
                                   std::string(type) + ":patient",
                               name);
        }
        s.ignored.push_back(name + "=" + value);
        continue;
      }
      s.include_patient = true;
      s.used.emplace_back(name, value);
    } else if (name == "_summary") {
      if (value == "count") s.summary_count = true;
      else if (value != "false") {
        return BadValue(name, "_summary supports count (or false)");
      }
      s.used.emplace_back(name, value);
    } else if (name == "_page_token" || name == "_offset") {
      return Status::Error(ErrorCode::kMalformed, "not-supported",
                           name + " belongs to the paging links and comes with _page_token "
                                  "and _offset only; follow the `next` link as given",
                           name);
    } else {
      if (!lenient) return Unsupported(name, type, supported);
      s.ignored.push_back(name);
    }
  }
  if (s.patient_param.empty()) {
    return Status::Error(ErrorCode::kMalformed, "required",
                         "Search " + std::string(type) +
                             " for one patient: patient.identifier=system|value (or patient=)",
                         "patient.identifier");
  }
  return s;
}

std::optional<DateRange> SearchDate(std::string_view type, const fhir::Value& resource) {
  std::initializer_list<std::pair<std::string_view, std::string_view>> paths;
  static const std::initializer_list<std::pair<std::string_view, std::string_view>> kOnset = {
      {"onsetDateTime", ""}, {"onsetPeriod", "start"}};
  static const std::initializer_list<std::pair<std::string_view, std::string_view>> kEffective =
      {{"effectiveDateTime", ""}, {"effectivePeriod", "start"}, {"effectiveInstant", ""}};
  static const std::initializer_list<std::pair<std::string_view, std::string_view>> kAuthored = {
      {"authoredOn", ""}};
  if (type == "Observation") paths = kEffective;
  else if (type == "MedicationRequest") paths = kAuthored;
  else paths = kOnset;
  for (const auto& [element, child] : paths) {
    const fhir::Value* v = resource.Find(element);
    if (v && !child.empty()) v = v->Find(child);
    if (v && v->is_string()) return ParseDateRange(v->text());
  }
  return std::nullopt;
}

bool ItemMatches(const ClinicalSearch& s, const store::StoredItem& item,
                 const fhir::Value& resource) {
  if (item.item.resource_type != s.resource_type) return false;
  for (const auto& any : s.code) {
    if (!ConceptMatches(any, CodeElement(s.resource_type, resource))) return false;
  }
  for (const auto& any : s.category) {
    if (!CategoryMatches(s.resource_type, any, item, resource)) return false;
  }
  for (const auto& any : s.clinical_status) {
    if (!ConceptMatches(any, resource.Find("clinicalStatus"))) return false;
  }
  if (!s.date.empty()) {
    std::optional<DateRange> date = SearchDate(s.resource_type, resource);
    if (!date) return false;  // an undated resource matches no date criterion
    for (const DateCriterion& c : s.date) {
      if (!DateMatches(c, *date)) return false;
    }
  }
  const DateRange registered{item.registered, item.registered + std::chrono::microseconds(1)};
  for (const DateCriterion& c : s.last_updated) {
    if (!DateMatches(c, registered)) return false;
  }
  return true;
}

}  // namespace clinshub::api
