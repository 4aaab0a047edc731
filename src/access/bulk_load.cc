#include "access/bulk_load.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "clins/codes.h"
#include "common/japanese_text.h"
#include "fhir/json.h"

namespace clinshub::access {
namespace {

constexpr std::string_view kInsuranceSystem =
    "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";
constexpr std::string_view kPublicPayerSystem =
    "http://jpfhir.jp/fhir/clins/Idsystem/JP_PublicPayer_memberID";
// Longest name, kana or address accepted (bytes); real ones are far shorter.
constexpr size_t kMaxTextBytes = 1000;

// ---- Problems, with line numbers ----------------------------------------------------------

class Problems {
 public:
  void Add(size_t line, const std::string& field, const std::string& message) {
    ++total_;
    if (issues_.size() >= kMaxBulkIssues) return;
    std::string where = "line[" + std::to_string(line) + "]";
    if (!field.empty()) where += "." + field;
    issues_.push_back(Issue{Severity::kError, "invalid", where, {},
                            "Line " + std::to_string(line) +
                                (field.empty() ? "" : ", " + field) + ": " + message});
  }
  bool empty() const { return total_ == 0; }
  size_t count() const { return total_; }
  Status ToStatus() && {
    if (total_ > issues_.size()) {
      issues_.push_back(Issue{Severity::kError, "too-costly", {}, {},
                              std::to_string(total_ - issues_.size()) +
                                  " further problems not listed; nothing was loaded"});
    }
    return Status(ErrorCode::kUnprocessable, std::move(issues_));
  }

 private:
  std::vector<Issue> issues_;
  size_t total_ = 0;
};

// ---- Text helpers -------------------------------------------------------------------------

std::string_view StripBom(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  return text;
}

std::string Trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\r';
  });
}

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    if (len == 2 && c < 0xC2) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    if (len == 3) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)) return false;
    }
    if (len == 4) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if (c > 0xF4 || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90)) return false;
    }
    i += len;
  }
  return true;
}

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

std::string DigitsOf(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= '0' && c <= '9') out += c;
  }
  return out;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// yyyy-mm-dd naming a real calendar day.
bool IsDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!AllDigits(s.substr(0, 4)) || !AllDigits(s.substr(5, 2)) || !AllDigits(s.substr(8, 2))) {
    return false;
  }
  auto num = [&](size_t at, size_t n) { return std::stoi(std::string(s.substr(at, n))); };
  std::chrono::year_month_day ymd{std::chrono::year(num(0, 4)),
                                  std::chrono::month(static_cast<unsigned>(num(5, 2))),
                                  std::chrono::day(static_cast<unsigned>(num(8, 2)))};
  return ymd.ok();
}

std::optional<bool> ParseBoolText(std::string_view s) {
  std::string t = NormaliseForSearch(s);
  if (t == "true" || t == "1" || t == "yes") return true;
  if (t == "false" || t == "0" || t == "no" || t.empty()) return false;
  return std::nullopt;
}

// ---- Lines and records --------------------------------------------------------------------

struct Line {
  size_t number = 0;  // 1-based
  std::string_view text;
};

std::vector<Line> SplitLines(std::string_view text) {
  std::vector<Line> lines;
  size_t number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(Line{++number, line});
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

struct CsvRecord {
  size_t line = 0;  // line the record starts on
  std::vector<std::string> fields;
};

// RFC 4180: comma-separated, fields optionally in double quotes ("" inside is one quote,
// quoted fields may span lines), CRLF or LF. Blank lines are skipped.
Result<std::vector<CsvRecord>> ParseCsv(std::string_view text) {
  std::vector<CsvRecord> records;
  size_t line = 1;
  size_t i = 0;
  while (i < text.size()) {
    CsvRecord record{line, {}};
    std::string field;
    bool done = false;
    while (!done) {
      if (i < text.size() && text[i] == '"') {
        size_t start_line = line;
        ++i;
        while (true) {
          if (i >= text.size()) {
            return Status::Error(ErrorCode::kUnprocessable, "invalid",
                                 "Line " + std::to_string(start_line) +
                                     ": a quoted field is never closed",
                                 "line[" + std::to_string(start_line) + "]");
          }
          char c = text[i++];
          if (c == '"') {
            if (i < text.size() && text[i] == '"') {
              field += '"';
              ++i;
              continue;
            }
            break;
          }
          if (c == '\n') ++line;
          field += c;
        }
      }
      while (i < text.size() && text[i] != ',' && text[i] != '\n') {
        if (text[i] == '"') {
          return Status::Error(ErrorCode::kUnprocessable, "invalid",
                               "Line " + std::to_string(line) +
                                   ": a double quote inside an unquoted field (quote the field "
                                   "and double the quote)",
                               "line[" + std::to_string(line) + "]");
        }
        field += text[i++];
      }
      if (!field.empty() && field.back() == '\r' && (i >= text.size() || text[i] == '\n')) {
        field.pop_back();
      }
      record.fields.push_back(std::move(field));
      field.clear();
      if (i >= text.size()) {
        done = true;
      } else if (text[i] == ',') {
        ++i;
      } else {  // '\n'
        ++i;
        ++line;
        done = true;
      }
    }
    bool blank = record.fields.size() == 1 && IsBlank(record.fields[0]);
    if (!blank) records.push_back(std::move(record));
  }
  return records;
}

// A CSV file's header: column name → index. Unknown or repeated columns and missing required
// ones are problems on line 1.
struct CsvTable {
  std::map<std::string, size_t, std::less<>> columns;
  std::vector<CsvRecord> rows;
  std::string_view Get(const CsvRecord& r, std::string_view column) const {
    auto it = columns.find(column);
    return it == columns.end() ? std::string_view() : std::string_view(r.fields[it->second]);
  }
};

Result<CsvTable> ReadCsvTable(std::string_view text, const std::vector<std::string>& required,
                              const std::vector<std::string>& optional, Problems& problems) {
  Result<std::vector<CsvRecord>> records = ParseCsv(text);
  if (!records.ok()) return records.take_status();
  if (records->empty()) return MalformedError("The file is empty: a header row is required");
  CsvTable table;
  const CsvRecord& header = records->front();
  for (size_t i = 0; i < header.fields.size(); ++i) {
    std::string name = Trim(header.fields[i]);
    bool known = std::find(required.begin(), required.end(), name) != required.end() ||
                 std::find(optional.begin(), optional.end(), name) != optional.end();
    if (!known) {
      problems.Add(header.line, name, "unknown column");
    } else if (!table.columns.emplace(name, i).second) {
      problems.Add(header.line, name, "column given twice");
    }
  }
  for (const std::string& name : required) {
    if (!table.columns.contains(name)) problems.Add(header.line, name, "required column missing");
  }
  for (size_t r = 1; r < records->size(); ++r) {
    CsvRecord& record = (*records)[r];
    if (record.fields.size() != header.fields.size()) {
      problems.Add(record.line, "",
                   std::to_string(record.fields.size()) + " fields where the header has " +
                       std::to_string(header.fields.size()));
      continue;
    }
    table.rows.push_back(std::move(record));
  }
  return table;
}

// One NDJSON line as a JSON object; a problem otherwise.
std::optional<fhir::Value> ParseObjectLine(const Line& line, Problems& problems) {
  Result<fhir::Value> value = fhir::ParseJson(line.text);
  if (!value.ok()) {
    problems.Add(line.number, "", "not valid JSON: " + value.status().message());
    return std::nullopt;
  }
  if (!value->is_object()) {
    problems.Add(line.number, "", "not a JSON object");
    return std::nullopt;
  }
  return std::move(value).value();
}

// ---- Directory ----------------------------------------------------------------------------

const std::vector<std::string> kDirectoryRequired = {"code", "name", "kana", "kind"};
const std::vector<std::string> kDirectoryOptional = {
    "postcode", "address", "phone", "emergencyPermission", "active", "prefecture", "city"};

void CheckDirectoryEntry(size_t line, store::InstitutionRecord record,
                         std::map<std::string, size_t>& seen, Problems& problems,
                         std::vector<store::InstitutionRecord>& out) {
  std::vector<FieldProblem> found = CheckInstitution(record);
  for (const FieldProblem& p : found) problems.Add(line, p.field, p.message);
  if (!found.empty()) return;
  auto [it, inserted] = seen.emplace(record.code, line);
  if (!inserted) {
    problems.Add(line, "code", record.code + " is already on line " + std::to_string(it->second));
    return;
  }
  out.push_back(std::move(record));
}

void DirectoryFromJson(const Line& line, const fhir::Value& object, store::InstitutionRecord& r,
                       Problems& problems) {
  for (const auto& [key, value] : object.members()) {
    std::string* text = key == "code"       ? &r.code
                        : key == "name"     ? &r.name
                        : key == "kana"     ? &r.kana
                        : key == "kind"     ? &r.kind
                        : key == "postcode" ? &r.postcode
                        : key == "address"  ? &r.address
                        : key == "phone"    ? &r.phone
                                            : nullptr;
    if (text != nullptr) {
      if (!value.is_string()) {
        problems.Add(line.number, key, "must be a string");
      } else {
        *text = value.text();
      }
    } else if (key == "emergencyPermission" || key == "active") {
      if (!value.is_bool()) {
        problems.Add(line.number, key, "must be true or false");
      } else {
        (key == "active" ? r.active : r.emergency_permitted) = value.bool_value();
      }
    } else if (key != "prefecture" && key != "city") {
      problems.Add(line.number, key, "unknown field");
    }
  }
}

// ---- Roster -------------------------------------------------------------------------------

const std::vector<std::string> kRosterRequired = {"person", "system", "value", "from"};
const std::vector<std::string> kRosterOptional = {"to", "reason"};

struct RosterState {
  std::map<std::pair<std::string, std::string>, size_t> seen;  // identifier → line
  std::set<std::string> persons;
  std::vector<store::RosterEntry> entries;
};

void CheckIdentifier(size_t line, const std::string& prefix, const std::string& person_key,
                     std::string_view system, std::string_view value, std::string_view from,
                     std::string_view to, RosterState& state, Problems& problems) {
  size_t before = 0;
  auto add = [&](const std::string& field, const std::string& message) {
    ++before;
    problems.Add(line, prefix + field, message);
  };
  bool insurance = system == kInsuranceSystem;
  if (!insurance && system != kPublicPayerSystem) {
    add("system", "'" + std::string(system) + "' is not " + std::string(kInsuranceSystem) +
                      " or " + std::string(kPublicPayerSystem));
  } else if (std::optional<std::string_view> problem =
                 insurance ? clins::InsuranceMemberIdProblem(value)
                           : clins::PublicPayerMemberIdProblem(value)) {
    add("value", "'" + std::string(value) + "': " + std::string(*problem));
  }
  if (from.empty()) {
    add("from", "required (yyyy-mm-dd)");
  } else if (!IsDate(from)) {
    add("from", "'" + std::string(from) + "' is not a date (yyyy-mm-dd)");
  }
  if (!to.empty() && !IsDate(to)) {
    add("to", "'" + std::string(to) + "' is not a date (yyyy-mm-dd)");
  } else if (!to.empty() && IsDate(from) && to < from) {
    add("to", std::string(to) + " is before from " + std::string(from));
  }
  if (before > 0) return;
  store::RosterEntry entry{std::string(system), NormaliseIdentifier(value), person_key,
                           std::string(from), std::string(to)};
  auto [it, inserted] = state.seen.emplace(std::pair{entry.system, entry.value_normalised}, line);
  if (!inserted) {
    add("value", std::string(value) + " is already on line " + std::to_string(it->second));
    return;
  }
  state.persons.insert(person_key);
  state.entries.push_back(std::move(entry));
}

// The person number as text, or nullopt (a problem is recorded).
std::optional<std::string> PersonNumber(size_t line, const fhir::Value* value,
                                        Problems& problems) {
  if (value == nullptr) {
    problems.Add(line, "person", "required (the person number)");
    return std::nullopt;
  }
  if ((value->is_number() || value->is_string()) && AllDigits(value->text()) &&
      value->text().size() <= 18) {
    return value->text();
  }
  problems.Add(line, "person", "must be a non-negative whole number");
  return std::nullopt;
}

void RosterFromJson(const Line& line, const fhir::Value& object, RosterState& state,
                    Problems& problems) {
  std::optional<std::string> number = PersonNumber(line.number, object.Find("person"), problems);
  const fhir::Value* ids = object.Find("identifiers");
  if (ids == nullptr || !ids->is_array() || ids->items().empty()) {
    problems.Add(line.number, "identifiers", "required: a non-empty array");
    return;
  }
  if (!number) return;
  const std::string person_key = PersonKeyFor(*number);
  for (size_t i = 0; i < ids->items().size(); ++i) {
    const fhir::Value& id = ids->items()[i];
    const std::string prefix = "identifiers[" + std::to_string(i) + "].";
    if (!id.is_object()) {
      problems.Add(line.number, prefix.substr(0, prefix.size() - 1), "must be an object");
      continue;
    }
    bool bad = false;
    for (const auto& [key, value] : id.members()) {
      bool known = key == "system" || key == "value" || key == "from" || key == "to" ||
                   key == "reason";
      if (!known) {
        problems.Add(line.number, prefix + key, "unknown field");
        bad = true;
      } else if (!value.is_string()) {
        problems.Add(line.number, prefix + key, "must be a string");
        bad = true;
      }
    }
    if (bad) continue;
    CheckIdentifier(line.number, prefix, person_key, id.StringAt("system"), id.StringAt("value"),
                    id.StringAt("from"), id.StringAt("to"), state, problems);
  }
}

}  // namespace

Result<BulkFormat> BulkFormatForContentType(std::string_view content_type) {
  std::string media(content_type.substr(0, content_type.find(';')));
  media = Trim(media);
  std::transform(media.begin(), media.end(), media.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (media == "application/x-ndjson" || media == "application/ndjson" ||
      media == "application/fhir+ndjson" || media == "application/jsonl") {
    return BulkFormat::kNdjson;
  }
  if (media == "text/csv") return BulkFormat::kCsv;
  return Status::Error(ErrorCode::kUnsupportedMediaType, "not-supported",
                       (media.empty() ? std::string("No Content-Type")
                                      : "Content-Type " + media + " is not accepted") +
                           "; send application/x-ndjson or text/csv",
                       "Content-Type");
}

BulkFormat BulkFormatForPath(std::string_view path) {
  std::string lower(path);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.ends_with(".csv") ? BulkFormat::kCsv : BulkFormat::kNdjson;
}

std::vector<FieldProblem> CheckInstitution(store::InstitutionRecord& r) {
  std::vector<FieldProblem> out;
  auto text = [&](const char* field, std::string& value, bool required) {
    value = Trim(value);
    if (!ValidUtf8(value)) {
      out.push_back({field, "not valid UTF-8"});
    } else if (HasControl(value)) {
      out.push_back({field, "contains a control character"});
    } else if (value.size() > kMaxTextBytes) {
      out.push_back({field, "longer than " + std::to_string(kMaxTextBytes) + " bytes"});
    } else if (required && value.empty()) {
      out.push_back({field, "required"});
    } else {
      return true;
    }
    return false;
  };
  if (text("code", r.code, true)) {
    r.code = NormaliseIdentifier(r.code);
    if (!clins::IsInstitutionCode(r.code)) {
      out.push_back({"code", "'" + r.code +
                                 "' is not a 10-digit institution code "
                                 "(都道府県2 + 点数表1 + 7 digits, ^[0-4][0-9][1-3][0-9]{7}$)"});
    }
  }
  text("name", r.name, true);
  text("kana", r.kana, true);
  text("address", r.address, false);
  if (text("kind", r.kind, true)) {
    r.kind = NormaliseForSearch(r.kind);
    if (r.kind == "checkup-center") r.kind = "checkup";  // clinshub-gen's spelling
    if (r.kind != "hospital" && r.kind != "clinic" && r.kind != "checkup") {
      out.push_back({"kind", "'" + r.kind + "' is not hospital, clinic or checkup"});
    }
  }
  if (text("postcode", r.postcode, false) && !r.postcode.empty()) {
    std::string p = NormaliseIdentifier(r.postcode);
    if (AllDigits(p) && p.size() == 7) {
      r.postcode = p.substr(0, 3) + "-" + p.substr(3);
    } else if (p.size() == 8 && p[3] == '-' && AllDigits(p.substr(0, 3)) &&
               AllDigits(p.substr(4))) {
      r.postcode = p;
    } else {
      out.push_back({"postcode", "'" + r.postcode + "' is not a postcode (123-4567)"});
    }
  }
  if (text("phone", r.phone, false) && !r.phone.empty()) {
    std::string p = NormaliseIdentifier(r.phone);
    std::string digits = DigitsOf(p);
    bool shape = std::all_of(p.begin(), p.end(), [](char c) {
      return (c >= '0' && c <= '9') || c == '-' || c == '(' || c == ')' || c == ' ';
    });
    if (!shape || digits.size() < 10 || digits.size() > 11 || digits[0] != '0') {
      out.push_back({"phone", "'" + r.phone +
                                  "' is not a Japanese phone number (10 or 11 digits from 0, "
                                  "hyphens allowed)"});
    } else {
      r.phone = p;
    }
  }
  return out;
}

Result<std::vector<store::InstitutionRecord>> ParseDirectory(std::string_view text,
                                                             BulkFormat format) {
  text = StripBom(text);
  Problems problems;
  std::map<std::string, size_t> seen;
  std::vector<store::InstitutionRecord> out;
  if (format == BulkFormat::kCsv) {
    Result<CsvTable> table = ReadCsvTable(text, kDirectoryRequired, kDirectoryOptional, problems);
    if (!table.ok()) return table.take_status();
    if (!problems.empty()) return std::move(problems).ToStatus();
    for (const CsvRecord& row : table->rows) {
      store::InstitutionRecord r;
      r.code = table->Get(row, "code");
      r.name = table->Get(row, "name");
      r.kana = table->Get(row, "kana");
      r.kind = table->Get(row, "kind");
      r.postcode = table->Get(row, "postcode");
      r.address = table->Get(row, "address");
      r.phone = table->Get(row, "phone");
      bool flags_ok = true;
      for (const char* column : {"emergencyPermission", "active"}) {
        std::string_view raw = table->Get(row, column);
        std::optional<bool> b = ParseBoolText(raw);
        if (!b) {
          problems.Add(row.line, column, "'" + std::string(raw) + "' is not true or false");
          flags_ok = false;
        } else if (std::string_view(column) == "active") {
          r.active = Trim(raw).empty() ? true : *b;
        } else {
          r.emergency_permitted = *b;
        }
      }
      if (flags_ok) CheckDirectoryEntry(row.line, std::move(r), seen, problems, out);
    }
  } else {
    for (const Line& line : SplitLines(text)) {
      if (IsBlank(line.text)) continue;
      std::optional<fhir::Value> object = ParseObjectLine(line, problems);
      if (!object) continue;
      store::InstitutionRecord r;
      const size_t before = problems.count();
      DirectoryFromJson(line, *object, r, problems);
      if (problems.count() != before) continue;
      CheckDirectoryEntry(line.number, std::move(r), seen, problems, out);
    }
  }
  if (!problems.empty()) return std::move(problems).ToStatus();
  if (out.empty()) return MalformedError("The file holds no directory entries");
  return out;
}

std::string PersonKeyFor(std::string_view person_number) {
  return "P" + std::string(person_number);
}

Result<RosterLoad> ParseRoster(std::string_view text, BulkFormat format) {
  text = StripBom(text);
  Problems problems;
  RosterState state;
  if (format == BulkFormat::kCsv) {
    Result<CsvTable> table = ReadCsvTable(text, kRosterRequired, kRosterOptional, problems);
    if (!table.ok()) return table.take_status();
    if (!problems.empty()) return std::move(problems).ToStatus();
    for (const CsvRecord& row : table->rows) {
      std::string person = Trim(table->Get(row, "person"));
      if (!AllDigits(person) || person.size() > 18) {
        problems.Add(row.line, "person", "must be a non-negative whole number");
        continue;
      }
      CheckIdentifier(row.line, "", PersonKeyFor(person), Trim(table->Get(row, "system")),
                      Trim(table->Get(row, "value")), Trim(table->Get(row, "from")),
                      Trim(table->Get(row, "to")), state, problems);
    }
  } else {
    for (const Line& line : SplitLines(text)) {
      if (IsBlank(line.text)) continue;
      std::optional<fhir::Value> object = ParseObjectLine(line, problems);
      if (object) RosterFromJson(line, *object, state, problems);
    }
  }
  if (!problems.empty()) return std::move(problems).ToStatus();
  if (state.entries.empty()) return MalformedError("The file holds no roster entries");
  return RosterLoad{std::move(state.entries), state.persons.size()};
}

}  // namespace clinshub::access
