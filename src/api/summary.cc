// GET /Patient/$summary?identifier=system|value — everything the patient's institutions
// registered, in one searchset Bundle: 傷病名, アレルギー, 薬剤禁忌, 感染症 (all current), 検査 (one
// year, or the last 3 results per test if that shows more) and 処方 (100 days, or the last 3 per
// medicine). Each entry names its source institution and registration time. Items the caller
// may not see (src/access ItemVisibility) are left out entirely — not counted, not hinted at.
#include <algorithm>
#include <map>
#include <string_view>
#include <tuple>

#include "api/access_gate.h"
#include "api/content_coding.h"
#include "api/interactions.h"
#include "api/item_cache.h"
#include "api/negotiation.h"
#include "api/resource_response.h"
#include "clins/items.h"
#include "common/gzip.h"
#include "fhir/json_string.h"

namespace clinshub::api {
namespace {

constexpr char kRegistrationExtension[] =
    "http://clinshub.example/fhir/StructureDefinition/registration";
constexpr char kInstitutionSystem[] =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";

struct KindName {
  clins::ItemKind kind;
  const char* name;
};
constexpr KindName kKinds[] = {
    {clins::ItemKind::kCondition, "condition"},
    {clins::ItemKind::kAllergy, "allergy"},
    {clins::ItemKind::kDrugContraindication, "contraindication"},
    {clins::ItemKind::kLabResult, "lab"},
    {clins::ItemKind::kInfection, "infection"},
    {clins::ItemKind::kPrescription, "prescription"},
};

// A date filter `date=[prefix]yyyy-mm-dd` on the item's clinical date (Japan dates).
struct DateFilter {
  std::string prefix;  // eq, lt, gt, le, ge
  Timestamp start, end;  // the day's [start, end)
};

Result<DateFilter> ParseDateFilter(std::string_view text) {
  DateFilter f;
  f.prefix = "eq";
  if (text.size() > 2 && std::isalpha(static_cast<unsigned char>(text[0]))) {
    f.prefix = std::string(text.substr(0, 2));
    text.remove_prefix(2);
  }
  static const char* kPrefixes[] = {"eq", "lt", "gt", "le", "ge"};
  bool known = std::find_if(std::begin(kPrefixes), std::end(kPrefixes),
                            [&](const char* p) { return f.prefix == p; }) != std::end(kPrefixes);
  std::optional<Timestamp> day =
      text.size() == 10 ? ParseFhirDateTime(std::string(text) + "T00:00:00+09:00")
                        : std::nullopt;
  if (!known || !day) {
    return Status::Error(ErrorCode::kMalformed, "value",
                         "date must be [eq|lt|gt|le|ge]yyyy-mm-dd", "date");
  }
  f.start = *day;
  f.end = *day + std::chrono::hours(24);
  return f;
}

bool Matches(const DateFilter& f, const std::optional<Timestamp>& date) {
  if (!date) return false;  // an undated item matches no date criterion
  if (f.prefix == "eq") return *date >= f.start && *date < f.end;
  if (f.prefix == "lt") return *date < f.start;
  if (f.prefix == "le") return *date < f.end;
  if (f.prefix == "gt") return *date >= f.end;
  return *date >= f.start;  // ge
}

struct Query {
  std::vector<clins::ItemKind> kinds;  // empty: all
  std::vector<DateFilter> dates;
};

Result<Query> ParseQuery(const Request& request) {
  Query q;
  for (const auto& [name, value] : request.query.items()) {
    if (name == "identifier" || name == "_format" || name == "_pretty") continue;
    if (name == "kind") {
      size_t pos = 0;
      while (pos <= value.size()) {
        size_t comma = value.find(',', pos);
        if (comma == std::string::npos) comma = value.size();
        std::string one = value.substr(pos, comma - pos);
        auto it = std::find_if(std::begin(kKinds), std::end(kKinds),
                               [&](const KindName& k) { return one == k.name; });
        if (it == std::end(kKinds)) {
          return Status::Error(ErrorCode::kMalformed, "value",
                               "kind must be a comma list of condition, allergy, "
                               "contraindication, lab, infection, prescription",
                               "kind");
        }
        q.kinds.push_back(it->kind);
        pos = comma + 1;
      }
    } else if (name == "date") {
      Result<DateFilter> f = ParseDateFilter(value);
      if (!f.ok()) return f.take_status();
      q.dates.push_back(*f);
    } else {
      return Status::Error(ErrorCode::kMalformed, "not-supported",
                           "Unsupported parameter '" + name +
                               "'; $summary takes identifier, kind and date",
                           name);
    }
  }
  return q;
}

// 検査 and 処方 are shown for a recent window, or the last three per code if that shows more.
bool IsWindowed(clins::ItemKind kind, std::chrono::hours* window) {
  if (kind == clins::ItemKind::kLabResult) {
    *window = std::chrono::hours(24 * 365);
    return true;
  }
  if (kind == clins::ItemKind::kPrescription) {
    *window = std::chrono::hours(24 * 100);
    return true;
  }
  return false;
}

// Keeps the items a viewer is shown (items arrive newest clinical date first within a kind).
std::vector<const ItemCache::CachedItem*> ApplyWindows(
    const std::vector<const ItemCache::CachedItem*>& in, Timestamp now) {
  std::vector<const ItemCache::CachedItem*> out;
  out.reserve(in.size());
  // Keyed by views into the items (which outlive this call): no key string per item.
  std::map<std::tuple<int, std::string_view, std::string_view>, int> shown_per_code;
  for (const ItemCache::CachedItem* c : in) {
    const clins::Item& item = c->stored.item;
    std::chrono::hours window{0};
    if (!IsWindowed(item.kind, &window)) {
      out.push_back(c);
      continue;
    }
    int& shown = shown_per_code[{static_cast<int>(item.kind), item.code_system, item.code}];
    const bool recent = item.clinical_date && *item.clinical_date >= now - window;
    if (recent || shown < 3) {
      out.push_back(c);
      ++shown;
    }
  }
  return out;
}

}  // namespace

std::string RenderItemEntry(const store::StoredItem& it, bool mark_uninformed,
                            size_t* json_at) {
  std::string entry;
  entry.reserve(it.item.json.size() + 512);
  entry += R"({"fullUrl":)";
  fhir::AppendJsonString(entry, "urn:clinshub:item:" + ItemRef(it.bundle_id, it.ordinal));
  entry += R"(,"extension":[{"url":")";
  entry += kRegistrationExtension;
  entry += R"(","extension":[{"url":"institution","valueIdentifier":{"system":")";
  entry += kInstitutionSystem;
  entry += R"(","value":)";
  fhir::AppendJsonString(entry, it.institution);
  entry += R"(}},{"url":"registered","valueInstant":)";
  fhir::AppendJsonString(entry, FormatInstant(it.registered));
  entry += '}';
  if (mark_uninformed) entry += R"(,{"url":"uninformed","valueBoolean":true})";
  entry += R"(]}],"resource":)";
  if (json_at != nullptr) *json_at = entry.size();
  entry += it.item.json;
  entry += R"(,"search":{"mode":"match"}})";
  return entry;
}

std::string RenderSummaryEntry(const store::StoredItem& it, size_t* json_at) {
  // The 未告知 mark for every viewer who sees the item: the patient never sees such an item at
  // all (ItemVisibility), so the entry is the same for everyone the summary shows it to.
  return RenderItemEntry(it, (it.item.flags & clins::kFlagUninformed) != 0, json_at);
}

Result<Response> PatientSummary(const InteractionContext& ctx, const Request& request) {
  // Every read below, up to the person's items, shares one snapshot and one connection; it
  // ends before the audit commit (a session does not see writes made while it is open).
  std::unique_ptr<store::ReadSession> reads = ctx.store.OpenReadSession();
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  Result<Query> query = ParseQuery(request);
  if (!query.ok()) return query.take_status();
  Result<Patient> patient = ResolvePatientParameter(ctx, request, "identifier");
  if (!patient.ok()) return patient.take_status();

  access::Facts facts;
  facts.emergency_reason = caller->emergency_reason;
  if (caller->actor.kind == access::ActorKind::kInstitution) {
    Result<bool> consent = HasActiveConsent(ctx, patient->person_key(), caller->actor.id);
    if (!consent.ok()) return consent.take_status();
    facts.active_consent = *consent;
  }
  store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kReadPatientData,
                                     patient->person_key(), "Patient/$summary");
  event.action = "summary";
  CLINSHUB_RETURN_IF_ERROR(
      Authorize(ctx, *caller, access::Action::kReadPatientData, facts, event));

  Result<ItemCache::Items> items = ctx.item_cache.Get(ctx.store, patient->person_key());
  reads.reset();
  if (!items.ok()) return items.take_status();
  const Timestamp now = ctx.clock.Now();

  std::vector<const ItemCache::CachedItem*> visible;
  visible.reserve((*items)->size());
  for (const ItemCache::CachedItem& c : **items) {
    const clins::Item& item = c.stored.item;
    access::Visibility v = access::ItemVisibility(caller->actor, item.flags, c.stored.institution);
    if (v == access::Visibility::kHidden) continue;
    if (!query->kinds.empty() &&
        std::find(query->kinds.begin(), query->kinds.end(), item.kind) == query->kinds.end()) {
      continue;
    }
    bool dated_ok = true;
    for (const DateFilter& f : query->dates) dated_ok = dated_ok && Matches(f, item.clinical_date);
    if (!dated_ok) continue;
    visible.push_back(&c);
  }
  std::vector<const ItemCache::CachedItem*> shown = ApplyWindows(visible, now);

  std::string head = R"({"resourceType":"Bundle","type":"searchset","timestamp":)";
  fhir::AppendJsonString(head, FormatInstant(now));
  head += R"(,"total":)";
  head += std::to_string(shown.size());
  head += R"(,"entry":[)";
  event.items.reserve(shown.size());
  for (const ItemCache::CachedItem* c : shown) {
    event.items.push_back(c->ref);
    // 未告知 and 未提供 items: the patient's log must not name them either.
    if ((c->stored.item.flags & (clins::kFlagUninformed | clins::kFlagUndelivered)) != 0) {
      event.patient_hidden_items.push_back(c->ref);
    }
  }
  // The entries and the closing brackets: the same for every request showing this selection.
  auto entries_text = [&shown] {
    size_t size = 2;
    for (const ItemCache::CachedItem* c : shown) size += c->entry.size() + 1;
    std::string text;
    text.reserve(size);
    for (size_t i = 0; i < shown.size(); ++i) {
      if (i > 0) text += ',';
      text += shown[i]->entry;
    }
    text += "]}";
    return text;
  };

  Response response;
  response.status = 200;
  response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
  // For a client taking gzip, the entries are deflated once per person and selection and
  // kept with the items; a request then adds only its own head. Coding the ~80 KB body whole
  // on every request (what content_coding.h does for other bodies, and does here when the
  // person is not cached) costs more CPU than sending it plain.
  std::shared_ptr<const DeflatedRun> run;
  if (ctx.config.gzip_responses && !shown.empty() && AcceptsGzip(request) &&
      !WantsPretty(request)) {
    std::vector<uint32_t> selection;
    selection.reserve(shown.size());
    for (const ItemCache::CachedItem* c : shown) {
      selection.push_back(static_cast<uint32_t>(c - (*items)->data()));
    }
    run = ctx.item_cache.KeptRun(patient->person_key(), *items, selection,
                                 [&] { return DeflateFinalRun(entries_text()); });
  }
  if (run != nullptr) {
    GzipBuilder gzip(head.size() + run->deflated.size() + 32);
    gzip.AppendText(head);
    gzip.AppendRun(*run);
    response.body = std::move(gzip).Finish();
    response.headers.Set("Content-Encoding", "gzip");
  } else {
    response.body = std::move(head) + entries_text();
  }

  event.http_status = 200;
  CLINSHUB_RETURN_IF_ERROR(CommitAudit(ctx, std::move(event)));
  return response;
}

}  // namespace clinshub::api
