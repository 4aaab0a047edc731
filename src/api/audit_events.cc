// GET /AuditEvent — the audit trail as FHIR AuditEvent resources.
//
// The portal asks with patient.identifier and gets the patient's access log: every read of the
// patient's data by an institution (consent or emergency, with the stated reason), without
// references to items the patient must not know of (未告知 / 未提供). The operator may filter by
// agent (institution code or actor), patient.identifier, date (ge/lt) and page with _count and
// after (the last seq seen). Audit records hold no clinical content, so neither view shows any.
#include "api/access_gate.h"
#include "api/interactions.h"
#include "api/resource_response.h"
#include "fhir/json.h"

namespace clinshub::api {
namespace {

using fhir::Value;

constexpr char kInstitutionSystem[] =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
constexpr size_t kDefaultCount = 100;
constexpr size_t kMaxCount = 1000;

Value Coding(std::string system, std::string code, std::string display = {}) {
  Value c = Value::Object();
  c.Set("system", Value::String(std::move(system)));
  c.Set("code", Value::String(std::move(code)));
  if (!display.empty()) c.Set("display", Value::String(std::move(display)));
  return c;
}

// Reads by others are what a patient's access log lists.
bool IsReadByOthers(const store::AuditEvent& e) {
  if (e.outcome != "permit") return false;
  if (e.actor_kind != "institution" && e.actor_kind != "system") return false;
  return e.action == "summary" || e.action == "read" || e.action == "retrieve" ||
         e.action == "search" || e.action == "public-health-export";
}

Value AuditEventResource(const store::AuditEvent& e, bool for_patient) {
  Value r = Value::Object();
  r.Set("resourceType", Value::String("AuditEvent"));
  r.Set("id", Value::String(std::to_string(e.seq)));
  r.Set("type", Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest",
                       "RESTful Operation"));
  const bool read = e.action == "summary" || e.action == "read" || e.action == "retrieve" ||
                    e.action == "search" || e.action == "inbox";
  r.Set("action", Value::String(read ? "R" : e.action == "withdraw" ? "D" : "E"));
  r.Set("recorded", Value::String(FormatInstant(e.time)));
  r.Set("outcome", Value::String(e.outcome == "permit" ? "0" : "4"));
  std::string description = e.action + " " + e.target + " (" + e.rule + ")";
  if (!e.reason.empty()) description += ": " + e.reason;
  r.Set("outcomeDesc", Value::String(description));
  Value purposes = Value::Array();
  Value purpose = Value::Object();
  purpose.Set("coding", Value::Array());
  purpose.FindMutable("coding")->Append(
      Coding("http://terminology.hl7.org/CodeSystem/v3-ActReason", e.purpose));
  purposes.Append(std::move(purpose));
  r.Set("purposeOfEvent", std::move(purposes));
  Value agent = Value::Object();
  Value who = Value::Object();
  Value who_id = Value::Object();
  if (e.actor_kind == "institution") who_id.Set("system", Value::String(kInstitutionSystem));
  who_id.Set("value", Value::String(e.actor));
  who.Set("identifier", std::move(who_id));
  who.Set("display", Value::String(e.actor_kind));
  agent.Set("who", std::move(who));
  agent.Set("requestor", Value::Bool(true));
  Value agents = Value::Array();
  agents.Append(std::move(agent));
  r.Set("agent", std::move(agents));
  Value source = Value::Object();
  Value observer = Value::Object();
  observer.Set("display", Value::String("clinshub"));
  source.Set("observer", std::move(observer));
  r.Set("source", std::move(source));
  Value entities = Value::Array();
  Value target = Value::Object();
  Value what = Value::Object();
  what.Set("display", Value::String(e.target));
  target.Set("what", std::move(what));
  entities.Append(std::move(target));
  for (const std::string& item : e.items) {
    if (for_patient && std::find(e.patient_hidden_items.begin(), e.patient_hidden_items.end(),
                                 item) != e.patient_hidden_items.end()) {
      continue;
    }
    Value entity = Value::Object();
    Value item_what = Value::Object();
    item_what.Set("reference", Value::String("urn:clinshub:item:" + item));
    entity.Set("what", std::move(item_what));
    entities.Append(std::move(entity));
  }
  r.Set("entity", std::move(entities));
  if (!for_patient) {
    Value ext = Value::Object();
    ext.Set("url", Value::String("http://clinshub.example/fhir/StructureDefinition/audit-chain"));
    ext.Set("valueString", Value::String(e.hash));
    Value exts = Value::Array();
    exts.Append(std::move(ext));
    r.Set("extension", std::move(exts));
  }
  return r;
}

Result<size_t> Count(std::string_view text) {
  size_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || n > kMaxCount) n = kMaxCount + 1;
    else n = n * 10 + static_cast<size_t>(c - '0');
  }
  if (text.empty() || n == 0 || n > kMaxCount) {
    return Status::Error(ErrorCode::kMalformed, "value",
                         "_count must be a positive integer (at most 1000)", "_count");
  }
  return n;
}

}  // namespace

Result<Response> SearchAuditEvents(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  const bool for_patient = caller->actor.kind == access::ActorKind::kPortal;
  const access::Action action =
      for_patient ? access::Action::kReadAccessLog : access::Action::kReadAudit;
  store::AuditEvent event = AuditFor(ctx, *caller, action, "", "AuditEvent");
  CLINSHUB_RETURN_IF_ERROR(Authorize(ctx, *caller, action, {}, event));

  store::AuditQuery q;
  q.limit = kDefaultCount;
  for (const auto& [name, value] : request.query.items()) {
    if (name == "patient.identifier" || name == "_format" || name == "_pretty") continue;
    if (name == "_count") {
      Result<size_t> n = Count(value);
      if (!n.ok()) return n.take_status();
      q.limit = *n;
    } else if (!for_patient && name == "agent") {
      q.actor = value;
    } else if (!for_patient && name == "after") {
      q.after_seq = std::strtoll(value.c_str(), nullptr, 10);
    } else if (name == "date" && value.size() > 2 &&
               (value.rfind("ge", 0) == 0 || value.rfind("lt", 0) == 0)) {
      std::string text = value.substr(2);
      std::optional<Timestamp> t = ParseFhirDateTime(
          text.size() == 10 ? text + "T00:00:00+09:00" : text);
      if (!t) {
        return Status::Error(ErrorCode::kMalformed, "value",
                             "date must be geYYYY-MM-DD or ltYYYY-MM-DD (or a full instant)",
                             "date");
      }
      if (value[0] == 'g') q.from = *t;
      else q.to = *t;
    } else {
      return Status::Error(
          ErrorCode::kMalformed, "not-supported",
          "Unsupported parameter '" + name + "'; " +
              (for_patient ? "the access log takes patient.identifier, date and _count"
                           : "audit search takes agent, patient.identifier, date, after, _count"),
          name);
    }
  }
  if (for_patient || request.query.First("patient.identifier")) {
    Result<Patient> patient = ResolvePatientParameter(ctx, request, "patient.identifier");
    if (!patient.ok()) return patient.take_status();
    q.person_key = patient->person_key();
  }
  Result<std::vector<store::AuditEvent>> events = ctx.store.ListAudit(q);
  if (!events.ok()) return events.take_status();

  Value bundle = Value::Object();
  bundle.Set("resourceType", Value::String("Bundle"));
  bundle.Set("type", Value::String("searchset"));
  Value entries = Value::Array();
  size_t count = 0;
  for (const store::AuditEvent& e : *events) {
    if (for_patient && !IsReadByOthers(e)) continue;
    Value entry = Value::Object();
    entry.Set("resource", AuditEventResource(e, for_patient));
    Value search = Value::Object();
    search.Set("mode", Value::String("match"));
    entry.Set("search", std::move(search));
    entries.Append(std::move(entry));
    ++count;
  }
  bundle.Set("total", Value::Number(std::to_string(count)));
  if (!events->empty() && events->size() == q.limit && !for_patient) {
    Value link = Value::Object();
    link.Set("relation", Value::String("next"));
    link.Set("url", Value::String(BaseUrl(ctx.config, request) + "/AuditEvent?after=" +
                                  std::to_string(events->back().seq) + "&_count=" +
                                  std::to_string(q.limit)));
    Value links = Value::Array();
    links.Append(std::move(link));
    bundle.Set("link", std::move(links));
  }
  bundle.Set("entry", std::move(entries));
  event.person_key = q.person_key;
  event.http_status = 200;
  CLINSHUB_RETURN_IF_ERROR(CommitAudit(ctx, std::move(event)));
  Response response;
  response.status = 200;
  response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
  response.body = fhir::WriteJson(bundle);
  return response;
}

}  // namespace clinshub::api
