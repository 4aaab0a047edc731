// https://hl7.org/fhir/R4/search.html (GET /Condition, /AllergyIntolerance, /Observation,
// /MedicationRequest) for one patient at a time, over the patient's current items in memory,
// with paging through a snapshot (https://hl7.org/fhir/R4/http.html#paging, page_cache.h).
// Access as in $summary: consent, emergency or the patient themself; items the caller may not
// see (access::ItemVisibility) are not in entries, totals, includes or links.
#include <algorithm>
#include <charconv>

#include "api/access_gate.h"
#include "api/interactions.h"
#include "api/resource_response.h"
#include "api/search_params.h"
#include "clins/items.h"
#include "fhir/json.h"
#include "fhir/json_string.h"

namespace clinshub::api {
namespace {

using fhir::JsonString;

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string PatientIncludeJson(const InteractionContext& ctx, const std::string& person_key) {
  auto [system, value] = CurrentRosterIdentifier(ctx, person_key);
  std::string e = R"({"resource":{"resourceType":"Patient","identifier":[{"system":)";
  e += JsonString(system) + R"(,"value":)" + JsonString(value);
  e += R"(}]},"search":{"mode":"include"}})";
  return e;
}

std::string OutcomeJson(const std::vector<std::string>& ignored) {
  fhir::Value outcome = fhir::Value::Object();
  outcome.Set("resourceType", fhir::Value::String("OperationOutcome"));
  fhir::Value& issues = outcome.Set("issue", fhir::Value::Array());
  for (const std::string& name : ignored) {
    fhir::Value issue = fhir::Value::Object();
    issue.Set("severity", fhir::Value::String("warning"));
    issue.Set("code", fhir::Value::String("not-supported"));
    issue.Set("diagnostics",
              fhir::Value::String("Unsupported search parameter '" + name + "' was ignored"));
    issue.Set("expression", fhir::Value::Array())
        .Append(fhir::Value::String(name.substr(0, name.find('='))));
    issues.Append(std::move(issue));
  }
  fhir::Value entry = fhir::Value::Object();
  entry.Set("resource", std::move(outcome));
  entry.Set("search", fhir::Value::Object()).Set("mode", fhir::Value::String("outcome"));
  return fhir::WriteJson(entry);
}

// Consent for institutions; the portal and emergencies are decided by src/access.
Status AuthorizeRead(const InteractionContext& ctx, const Caller& caller,
                     const std::string& person_key, store::AuditEvent& event) {
  access::Facts facts;
  facts.emergency_reason = caller.emergency_reason;
  if (caller.actor.kind == access::ActorKind::kInstitution) {
    Result<bool> consent = HasActiveConsent(ctx, person_key, caller.actor.id);
    if (!consent.ok()) return consent.take_status();
    facts.active_consent = *consent;
  }
  return Authorize(ctx, caller, access::Action::kReadPatientData, facts, event);
}

std::string PageLink(const std::string& base, const SearchSnapshot& s, const std::string& token,
                     size_t offset, size_t count) {
  return base + "/" + s.resource_type + "?_page_token=" + token +
         "&_offset=" + std::to_string(offset) + "&_count=" + std::to_string(count);
}

// One page of a snapshot: audited (items served, 未告知 ones hidden from the patient's log),
// then rendered.
Result<Response> ServePage(const InteractionContext& ctx, const Request& request,
                           const SearchSnapshot& s, const std::string& token, size_t offset,
                           size_t count, store::AuditEvent event) {
  const std::string base = BaseUrl(ctx.config, request);
  const size_t total = s.entries.size();
  const size_t end = std::min(total, offset + count);
  std::string body = R"({"resourceType":"Bundle","type":"searchset","timestamp":)" +
                     JsonString(FormatInstant(ctx.clock.Now()));
  body += R"(,"total":)" + std::to_string(total) + R"(,"link":[{"relation":"self","url":)";
  body += JsonString(token.empty() ? base + "/" + s.resource_type + "?" + s.self_query
                                   : PageLink(base, s, token, offset, count));
  body += '}';
  if (!token.empty() && offset > 0) {
    body += R"(,{"relation":"previous","url":)" +
            JsonString(PageLink(base, s, token, offset > count ? offset - count : 0, count)) + '}';
  }
  if (!token.empty() && end < total) {
    body += R"(,{"relation":"next","url":)" + JsonString(PageLink(base, s, token, end, count)) +
            '}';
  }
  body += R"(],"entry":[)";
  bool first = true;
  auto add = [&](const std::string& json) {
    if (!first) body += ',';
    first = false;
    body += json;
  };
  for (size_t i = offset; i < end; ++i) {
    const SnapshotEntry& e = s.entries[i];
    event.items.push_back(e.item_ref);
    if (e.patient_hidden) event.patient_hidden_items.push_back(e.item_ref);
    add(e.json);
  }
  if (end > offset && !s.include_json.empty()) add(s.include_json);
  for (const std::string& o : s.outcome_json) add(o);
  body += "]}";
  event.http_status = 200;
  CLINSHUB_RETURN_IF_ERROR(CommitAudit(ctx, std::move(event)));
  Response response;
  response.status = 200;
  response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
  response.body = std::move(body);
  return response;
}

Result<size_t> ParseOffset(std::string_view text) {
  size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Status::Error(ErrorCode::kMalformed, "value", "_offset must be a whole number",
                         "_offset");
  }
  return n;
}

// A `next` / `previous` link: _page_token, _offset and optionally _count, nothing else.
Result<Response> NextPage(const InteractionContext& ctx, const Request& request,
                          const Caller& caller, const std::string& type) {
  std::string token;
  size_t offset = 0, count = kSearchDefaultCount;
  for (const auto& [name, value] : request.query.items()) {
    if (name == "_format" || name == "_pretty") continue;
    if (name == "_page_token") {
      token = value;
    } else if (name == "_offset") {
      Result<size_t> n = ParseOffset(value);
      if (!n.ok()) return n.take_status();
      offset = *n;
    } else if (name == "_count") {
      Result<size_t> n = ParseCount(value);
      if (!n.ok()) return n.take_status();
      count = *n;
    } else {
      return Status::Error(ErrorCode::kMalformed, "not-supported",
                           "A page request takes _page_token, _offset and _count only; '" +
                               name + "' belongs to the search, which the token already holds",
                           name);
    }
  }
  std::shared_ptr<const SearchSnapshot> s = ctx.page_cache.Get(token);
  if (s == nullptr) {
    return Status::Error(ErrorCode::kGone, "not-found",
                         "This page token has expired (search results are kept " +
                             std::to_string(ctx.page_cache.options().ttl.count() / 60) +
                             " minutes): run the search again",
                         "_page_token");
  }
  store::AuditEvent event = AuditFor(ctx, caller, access::Action::kReadPatientData,
                                     s->person_key, type + "?_page_token");
  event.action = "search";
  if (s->resource_type != type || s->actor_id != caller.actor.id ||
      s->actor_kind != access::ActorKindName(caller.actor.kind)) {
    event.outcome = "deny";
    event.rule = "deny.page-token-owner";
    event.reason = "A search's pages are served only to the caller who ran the search";
    event.http_status = 403;
    (void)CommitAudit(ctx, event);
    return Status::Error(ErrorCode::kForbidden, "forbidden",
                         "This page token belongs to another caller's search", "_page_token",
                         "deny.page-token-owner");
  }
  if (offset > s->entries.size()) {
    return Status::Error(ErrorCode::kMalformed, "value",
                         "_offset is beyond the " + std::to_string(s->entries.size()) +
                             " results of this search",
                         "_offset");
  }
  // Consent may have lapsed (or been revoked) since the first page.
  CLINSHUB_RETURN_IF_ERROR(AuthorizeRead(ctx, caller, s->person_key, event));
  return ServePage(ctx, request, *s, token, offset, count, std::move(event));
}

struct Match {
  const store::StoredItem* item;
  std::optional<DateRange> date;
  bool marked;
};

void Sort(std::vector<Match>& matches, SortKey key) {
  auto by_date = [](bool desc) {
    return [desc](const Match& a, const Match& b) {
      if (!a.date || !b.date) return a.date.has_value() && !b.date;  // undated last
      return desc ? a.date->start > b.date->start : a.date->start < b.date->start;
    };
  };
  auto by_registered = [](bool desc) {
    return [desc](const Match& a, const Match& b) {
      return desc ? a.item->registered > b.item->registered
                  : a.item->registered < b.item->registered;
    };
  };
  switch (key) {
    case SortKey::kDateDesc: std::stable_sort(matches.begin(), matches.end(), by_date(true)); break;
    case SortKey::kDateAsc: std::stable_sort(matches.begin(), matches.end(), by_date(false)); break;
    case SortKey::kLastUpdatedDesc:
      std::stable_sort(matches.begin(), matches.end(), by_registered(true));
      break;
    case SortKey::kLastUpdatedAsc:
      std::stable_sort(matches.begin(), matches.end(), by_registered(false));
      break;
  }
}

}  // namespace

Result<Response> SearchClinical(const InteractionContext& ctx, const Request& request) {
  // The reads up to the person's items share one snapshot and connection (store::ReadSession).
  std::unique_ptr<store::ReadSession> reads = ctx.store.OpenReadSession();
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  const std::string type = request.path.empty() ? "" : request.path[0];
  if (!IsSearchableClinicalType(type)) return NotFoundError("No such search endpoint");
  if (request.query.First("_page_token")) {
    reads.reset();  // a later page re-checks consent and reads no more
    return NextPage(ctx, request, *caller, type);
  }

  Result<ClinicalSearch> search =
      ParseClinicalSearch(type, request.query, LenientHandling(request));
  if (!search.ok()) return search.take_status();
  Result<Patient> patient = ResolvePatientParameter(ctx, request, search->patient_param);
  if (!patient.ok()) return patient.take_status();
  store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kReadPatientData,
                                     patient->person_key(), type + "?");
  event.action = "search";
  CLINSHUB_RETURN_IF_ERROR(AuthorizeRead(ctx, *caller, patient->person_key(), event));

  Result<std::vector<store::StoredItem>> items = ctx.store.ListItems(patient->person_key());
  reads.reset();
  if (!items.ok()) return items.take_status();
  std::vector<Match> matches;
  for (const store::StoredItem& it : *items) {
    if (it.item.resource_type != type) continue;
    access::Visibility v = access::ItemVisibility(caller->actor, it.item.flags, it.institution);
    if (v == access::Visibility::kHidden) continue;
    Result<fhir::Value> resource = fhir::ParseJson(it.item.json);
    if (!resource.ok()) return InternalError("stored item " + ItemRef(it.bundle_id, it.ordinal) +
                                             " is not JSON");
    if (!ItemMatches(*search, it, *resource)) continue;
    matches.push_back(
        {&it, SearchDate(type, *resource), v == access::Visibility::kVisibleMarkedUninformed});
  }
  Sort(matches, search->sort);

  SearchSnapshot s;
  s.actor_kind = std::string(access::ActorKindName(caller->actor.kind));
  s.actor_id = caller->actor.id;
  s.person_key = patient->person_key();
  s.resource_type = type;
  for (const auto& [name, value] : search->used) {
    s.self_query += PercentEncode(name) + "=" + PercentEncode(value) + "&";
  }
  s.self_query += "_count=" + std::to_string(search->count);
  if (!search->ignored.empty()) s.outcome_json.push_back(OutcomeJson(search->ignored));
  if (search->include_patient && !matches.empty()) {
    s.include_json = PatientIncludeJson(ctx, patient->person_key());
  }
  if (search->summary_count) {
    // Only the total: the items are counted, not served, so none is audited as read.
    std::string body = R"({"resourceType":"Bundle","type":"searchset","timestamp":)" +
                       JsonString(FormatInstant(ctx.clock.Now())) + R"(,"total":)" +
                       std::to_string(matches.size());
    if (!s.outcome_json.empty()) body += R"(,"entry":[)" + s.outcome_json[0] + "]";
    body += '}';
    event.http_status = 200;
    CLINSHUB_RETURN_IF_ERROR(CommitAudit(ctx, std::move(event)));
    Response response;
    response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
    response.body = std::move(body);
    return response;
  }
  s.entries.reserve(matches.size());
  for (const Match& m : matches) {
    const std::string ref = ItemRef(m.item->bundle_id, m.item->ordinal);
    // The patient's access log never names an item the patient may not know of (a sender
    // reading its own 未提供 item sees it; the patient must not).
    const bool patient_hidden =
        (m.item->item.flags & (clins::kFlagUninformed | clins::kFlagUndelivered)) != 0;
    s.entries.push_back({RenderItemEntry(*m.item, m.marked), ref, patient_hidden});
  }
  std::string token;
  if (s.entries.size() > search->count) {
    token = ctx.ids.NewId();
    if (!ctx.page_cache.Put(token, s)) {
      return Status::Error(ErrorCode::kUnavailable, "too-costly",
                           "The result is too large to page; narrow the search");
    }
  }
  return ServePage(ctx, request, s, token, 0, search->count, std::move(event));
}

}  // namespace clinshub::api
