// Card-reader consent (POST /Consent), its read and revocation, and the patient's own list.
//
// POST /Consent records that the patient consented at the calling institution's card reader:
// the institution may read the patient's 6 information and documents for the configured window
// (ApiConfig::consent_window, 24 h by default), and letters addressed to it that wait for
// consent (閲覧保留) become viewable (閲覧可). The institution is the caller, never the body.
#include "api/access_gate.h"
#include "api/interactions.h"
#include "api/resource_response.h"
#include "api/write_common.h"
#include "fhir/json.h"

namespace clinshub::api {
namespace {

using fhir::Value;

constexpr char kInstitutionSystem[] =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";

Value Coding(std::string system, std::string code, std::string display = {}) {
  Value c = Value::Object();
  c.Set("system", Value::String(std::move(system)));
  c.Set("code", Value::String(std::move(code)));
  if (!display.empty()) c.Set("display", Value::String(std::move(display)));
  return c;
}

Value Concept(Value coding) {
  Value codings = Value::Array();
  codings.Append(std::move(coding));
  Value cc = Value::Object();
  cc.Set("coding", std::move(codings));
  return cc;
}

// The FHIR Consent a record is served as. `patient` names the person by the identifier the
// caller used (or the roster's current one).
Value ConsentResource(const store::ConsentRecord& c, const std::string& patient_system,
                      const std::string& patient_value, Timestamp now) {
  Value r = Value::Object();
  r.Set("resourceType", Value::String("Consent"));
  r.Set("id", Value::String(c.id));
  const bool active = !c.revoked && now < c.expires;
  r.Set("status", Value::String(c.revoked ? "inactive" : active ? "active" : "inactive"));
  r.Set("scope", Concept(Coding("http://terminology.hl7.org/CodeSystem/consentscope",
                                "patient-privacy", "Privacy Consent")));
  Value categories = Value::Array();
  categories.Append(Concept(Coding("http://loinc.org", "59284-0", "Patient Consent")));
  r.Set("category", std::move(categories));
  Value patient = Value::Object();
  Value identifier = Value::Object();
  identifier.Set("system", Value::String(patient_system));
  identifier.Set("value", Value::String(patient_value));
  patient.Set("identifier", std::move(identifier));
  r.Set("patient", std::move(patient));
  r.Set("dateTime", Value::String(FormatInstant(c.granted)));
  Value org = Value::Object();
  Value org_id = Value::Object();
  org_id.Set("system", Value::String(kInstitutionSystem));
  org_id.Set("value", Value::String(c.institution));
  org.Set("identifier", std::move(org_id));
  Value orgs = Value::Array();
  orgs.Append(std::move(org));
  r.Set("organization", std::move(orgs));
  Value rules = Value::Object();
  rules.Set("coding", Value::Array());
  rules.FindMutable("coding")->Append(
      Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "OPTIN", "opt-in"));
  r.Set("policyRule", std::move(rules));
  Value provision = Value::Object();
  provision.Set("type", Value::String("permit"));
  Value period = Value::Object();
  period.Set("start", Value::String(FormatInstant(c.granted)));
  period.Set("end", Value::String(FormatInstant(c.revoked ? *c.revoked : c.expires)));
  provision.Set("period", std::move(period));
  r.Set("provision", std::move(provision));
  return r;
}

Response JsonResponse(int status, const Value& body) {
  Response response;
  response.status = status;
  response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
  response.body = fhir::WriteJson(body);
  return response;
}

}  // namespace

Result<Response> CreateConsent(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kRecordConsent, "", "Consent");
  CLINSHUB_RETURN_IF_ERROR(
      Authorize(ctx, *caller, access::Action::kRecordConsent, {}, event));
  Result<Value> body = ParseBodyResource(request, "Consent");
  if (!body.ok()) return body.take_status();
  const Value* patient = body->Find("patient");
  const Value* identifier = patient ? patient->Find("identifier") : nullptr;
  if (identifier == nullptr || identifier->StringAt("system").empty() ||
      identifier->StringAt("value").empty()) {
    return Status::Error(ErrorCode::kUnprocessable, "required",
                         "Consent.patient.identifier (system and value: the patient's insurance "
                         "identifier read at the card reader) is required",
                         "Consent.patient.identifier");
  }
  if (body->StringAt("status") != "active") {
    return Status::Error(ErrorCode::kUnprocessable, "value",
                         "A recorded consent has status 'active'", "Consent.status");
  }
  Result<Patient> resolved =
      ResolvePatient(ctx, identifier->StringAt("system"), identifier->StringAt("value"),
                     ErrorCode::kUnprocessable, "Consent.patient.identifier");
  if (!resolved.ok()) return resolved.take_status();
  Result<std::vector<store::ReferralRecipient>> letters =
      ctx.store.ListReferralsOfPerson(resolved->person_key());
  if (!letters.ok()) return letters.take_status();

  const Timestamp now = ctx.clock.Now();
  store::ConsentRecord record;
  record.id = ctx.ids.NewId();
  record.person_key = resolved->person_key();
  record.institution = caller->actor.id;
  record.method = "card-reader";
  record.granted = now;
  record.expires = now + ctx.config.consent_window;

  store::WriteBatch batch;
  batch.ops.emplace_back(store::PutConsent{record});
  for (const store::ReferralRecipient& letter : *letters) {
    if (letter.recipient != caller->actor.id || letter.state != store::ReferralState::kPending) {
      continue;
    }
    store::SetReferralState viewable;
    viewable.unit = letter.unit;
    viewable.recipient = letter.recipient;
    viewable.state = store::ReferralState::kViewable;
    viewable.allowed_from = {store::ReferralState::kPending};
    viewable.set_by = "card-reader";
    viewable.strict = false;
    batch.ops.emplace_back(std::move(viewable));
  }
  event.person_key = record.person_key;
  event.target = "Consent/" + record.id;
  event.http_status = 201;
  batch.ops.emplace_back(store::AppendAudit{std::move(event)});
  Result<store::CommitResult> committed = ctx.store.Commit(std::move(batch));
  if (!committed.ok()) return committed.take_status();

  Response response = JsonResponse(
      201, ConsentResource(record, resolved->system, resolved->value, now));
  response.headers.Set("Location", BaseUrl(ctx.config, request) + "/Consent/" + record.id);
  return response;
}

namespace {

// The consent named in the path, and whether the caller may act on it: the institution that
// recorded it, or the portal naming the same patient.
Result<store::ConsentRecord> AuthorizedConsent(const InteractionContext& ctx,
                                               const Request& request, const Caller& caller,
                                               store::AuditEvent& event) {
  std::string id(request.Param("id"));
  Result<store::ConsentRecord> consent = ctx.store.ReadConsent(id);
  if (!consent.ok()) return consent.take_status();
  access::Facts facts;
  access::Action action = access::Action::kReadOwnSubmission;
  if (caller.actor.kind == access::ActorKind::kPortal) {
    Result<Patient> patient = ResolvePatientParameter(ctx, request, "patient.identifier");
    if (!patient.ok()) return patient.take_status();
    if (patient->person_key() != consent->person_key) {
      return NotFoundError("Consent/" + id + " not found");
    }
    action = access::Action::kPatientConsent;
  } else {
    facts.is_sender = caller.actor.id == consent->institution;
  }
  event.person_key = consent->person_key;
  event.target = "Consent/" + id;
  CLINSHUB_RETURN_IF_ERROR(Authorize(ctx, caller, action, facts, event));
  return consent;
}

}  // namespace

Result<Response> ReadConsent(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kRecordConsent, "", "");
  event.action = "consent-read";
  Result<store::ConsentRecord> consent = AuthorizedConsent(ctx, request, *caller, event);
  if (!consent.ok()) return consent.take_status();
  event.http_status = 200;
  CLINSHUB_RETURN_IF_ERROR(CommitAudit(ctx, std::move(event)));
  auto [system, value] = CurrentRosterIdentifier(ctx, consent->person_key);
  return JsonResponse(200, ConsentResource(*consent, system, value, ctx.clock.Now()));
}

Result<Response> RevokeConsent(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kRecordConsent, "", "");
  event.action = "consent-revoke";
  Result<store::ConsentRecord> consent = AuthorizedConsent(ctx, request, *caller, event);
  if (!consent.ok()) return consent.take_status();
  event.http_status = 200;
  store::WriteBatch batch;
  batch.ops.emplace_back(store::RevokeConsent{consent->person_key, consent->id, ctx.clock.Now()});
  batch.ops.emplace_back(store::AppendAudit{std::move(event)});
  Result<store::CommitResult> committed = ctx.store.Commit(std::move(batch));
  if (!committed.ok()) return committed.take_status();
  Result<store::ConsentRecord> revoked = ctx.store.ReadConsent(consent->id);
  if (!revoked.ok()) return revoked.take_status();
  auto [system, value] = CurrentRosterIdentifier(ctx, revoked->person_key);
  return JsonResponse(200, ConsentResource(*revoked, system, value, ctx.clock.Now()));
}

// GET /Consent?patient.identifier=: the patient's consents (portal only).
Result<Response> SearchConsents(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  for (const auto& [name, value] : request.query.items()) {
    if (name != "patient.identifier" && name != "_format" && name != "_pretty") {
      return Status::Error(ErrorCode::kMalformed, "not-supported",
                           "Unsupported parameter '" + name +
                               "'; Consent search takes patient.identifier",
                           name);
    }
  }
  store::AuditEvent event =
      AuditFor(ctx, *caller, access::Action::kReadAccessLog, "", "Consent?patient");
  event.action = "consent-list";
  CLINSHUB_RETURN_IF_ERROR(Authorize(ctx, *caller, access::Action::kReadAccessLog, {}, event));
  Result<Patient> patient = ResolvePatientParameter(ctx, request, "patient.identifier");
  if (!patient.ok()) return patient.take_status();
  Result<std::vector<store::ConsentRecord>> consents =
      ctx.store.ListConsents(patient->person_key());
  if (!consents.ok()) return consents.take_status();
  event.person_key = patient->person_key();
  event.http_status = 200;
  CLINSHUB_RETURN_IF_ERROR(CommitAudit(ctx, std::move(event)));
  const Timestamp now = ctx.clock.Now();
  Value bundle = Value::Object();
  bundle.Set("resourceType", Value::String("Bundle"));
  bundle.Set("type", Value::String("searchset"));
  bundle.Set("total", Value::Number(std::to_string(consents->size())));
  Value entries = Value::Array();
  for (const store::ConsentRecord& c : *consents) {
    Value entry = Value::Object();
    entry.Set("fullUrl", Value::String(BaseUrl(ctx.config, request) + "/Consent/" + c.id));
    entry.Set("resource", ConsentResource(c, patient->system, patient->value, now));
    Value search = Value::Object();
    search.Set("mode", Value::String("match"));
    entry.Set("search", std::move(search));
    entries.Append(std::move(entry));
  }
  bundle.Set("entry", std::move(entries));
  return JsonResponse(200, bundle);
}

}  // namespace clinshub::api
