// Referral letters (診療情報提供書) beyond submission: the addressee's inbox and the patient's
// consent (or redirection) through the portal. Retrieval itself is GET /Bundle/{id}
// (access_gate.cc AuthorizeResourceRead moves 閲覧可 to 取得済).
#include "api/access_gate.h"
#include "api/bundle_units.h"
#include "api/interactions.h"
#include "api/resource_response.h"
#include "fhir/json.h"
#include "fhir/operation_outcome.h"

namespace clinshub::api {
namespace {

using fhir::Value;

constexpr char kInstitutionSystem[] =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
constexpr char kConsentStateExtension[] =
    "http://clinshub.example/fhir/StructureDefinition/referral-consent-state";
constexpr size_t kDefaultInboxCount = 100;
constexpr size_t kMaxInboxCount = 1000;

Value IdentifierValue(std::string system, std::string value) {
  Value id = Value::Object();
  id.Set("system", Value::String(std::move(system)));
  id.Set("value", Value::String(std::move(value)));
  return id;
}

Value OrganizationRef(const std::string& code) {
  Value ref = Value::Object();
  ref.Set("identifier", IdentifierValue(kInstitutionSystem, code));
  return ref;
}

// One inbox line: a DocumentReference pointing at the letter's Bundle, with its consent state.
// The letter's content is not in the inbox; retrieving it is a separate, audited read.
Value InboxDocument(const InteractionContext& ctx, const Request& request,
                    const store::InboxEntry& e) {
  Value doc = Value::Object();
  doc.Set("resourceType", Value::String("DocumentReference"));
  doc.Set("id", Value::String(e.unit.bundle_id));
  Value ext = Value::Object();
  ext.Set("url", Value::String(kConsentStateExtension));
  ext.Set("valueCode", Value::String(std::string(ReferralStateCode(e.recipient.state))));
  Value exts = Value::Array();
  exts.Append(std::move(ext));
  doc.Set("extension", std::move(exts));
  doc.Set("masterIdentifier", IdentifierValue(e.unit.key.system, e.unit.key.value));
  doc.Set("status", Value::String("current"));
  Value coding = Value::Object();
  coding.Set("system", Value::String("http://loinc.org"));
  coding.Set("code", Value::String("57133-1"));
  coding.Set("display", Value::String("診療情報提供書"));
  Value type = Value::Object();
  type.Set("coding", Value::Array());
  type.FindMutable("coding")->Append(std::move(coding));
  doc.Set("type", std::move(type));
  auto [system, value] = CurrentRosterIdentifier(ctx, e.unit.key.person_key);
  Value subject = Value::Object();
  subject.Set("identifier", IdentifierValue(system, value));
  doc.Set("subject", std::move(subject));
  doc.Set("date", Value::String(FormatInstant(e.unit.last_changed)));
  Value authors = Value::Array();
  authors.Append(OrganizationRef(e.unit.institution));
  doc.Set("author", std::move(authors));
  Value attachment = Value::Object();
  attachment.Set("contentType", Value::String("application/fhir+json"));
  attachment.Set("url", Value::String(BaseUrl(ctx.config, request) + "/Bundle/" +
                                      e.unit.bundle_id));
  Value content = Value::Object();
  content.Set("attachment", std::move(attachment));
  Value contents = Value::Array();
  contents.Append(std::move(content));
  doc.Set("content", std::move(contents));
  return doc;
}

Result<size_t> InboxCount(const Request& request) {
  std::optional<std::string_view> text = request.query.First("_count");
  if (!text) return kDefaultInboxCount;
  size_t n = 0;
  for (char c : *text) {
    if (c < '0' || c > '9' || n > kMaxInboxCount) {
      return Status::Error(ErrorCode::kMalformed, "value",
                           "_count must be a positive integer (at most 1000)", "_count");
    }
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  if (n == 0 || n > kMaxInboxCount) {
    return Status::Error(ErrorCode::kMalformed, "value",
                         "_count must be a positive integer (at most 1000)", "_count");
  }
  return n;
}

}  // namespace

// GET /Bundle/$inbox: letters addressed (or redirected) to the caller, newest change first.
Result<Response> ReferralInbox(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  for (const auto& [name, value] : request.query.items()) {
    if (name != "_count" && name != "_format" && name != "_pretty") {
      return Status::Error(ErrorCode::kMalformed, "not-supported",
                           "Unsupported parameter '" + name + "'; $inbox takes _count", name);
    }
  }
  store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kReadInbox, "", "Bundle/$inbox");
  CLINSHUB_RETURN_IF_ERROR(Authorize(ctx, *caller, access::Action::kReadInbox, {}, event));
  Result<size_t> count = InboxCount(request);
  if (!count.ok()) return count.take_status();
  Result<std::vector<store::InboxEntry>> inbox = ctx.store.ListInbox(caller->actor.id, *count);
  if (!inbox.ok()) return inbox.take_status();
  event.http_status = 200;
  event.reason = std::to_string(inbox->size()) + " letters listed";
  CLINSHUB_RETURN_IF_ERROR(CommitAudit(ctx, std::move(event)));

  Value bundle = Value::Object();
  bundle.Set("resourceType", Value::String("Bundle"));
  bundle.Set("type", Value::String("searchset"));
  bundle.Set("total", Value::Number(std::to_string(inbox->size())));
  Value entries = Value::Array();
  for (const store::InboxEntry& e : *inbox) {
    Value entry = Value::Object();
    entry.Set("fullUrl", Value::String(BaseUrl(ctx.config, request) + "/Bundle/" +
                                       e.unit.bundle_id));
    entry.Set("resource", InboxDocument(ctx, request, e));
    Value search = Value::Object();
    search.Set("mode", Value::String("match"));
    entry.Set("search", std::move(search));
    entries.Append(std::move(entry));
  }
  bundle.Set("entry", std::move(entries));
  Response response;
  response.status = 200;
  response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
  response.body = fhir::WriteJson(bundle);
  return response;
}

// POST /Bundle/$referral-consent?identifier=&patient.identifier=[&recipient=]: the patient
// (through the portal) makes a letter viewable (閲覧可) for its addressee, or redirects it to
// another institution (which becomes a recipient, viewable).
Result<Response> ReferralConsent(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  store::AuditEvent event =
      AuditFor(ctx, *caller, access::Action::kPatientConsent, "", "Bundle/$referral-consent");
  CLINSHUB_RETURN_IF_ERROR(Authorize(ctx, *caller, access::Action::kPatientConsent, {}, event));
  Request unit_query = request;
  unit_query.query = QueryParams();
  std::string recipient;
  for (const auto& [name, value] : request.query.items()) {
    if (name == "recipient") {
      recipient = value;
    } else if (name == "identifier" || name == "patient.identifier") {
      unit_query.query.Add(name, value);
    } else if (name != "_format" && name != "_pretty") {
      return Status::Error(ErrorCode::kMalformed, "not-supported",
                           "Unsupported parameter '" + name +
                               "'; $referral-consent takes identifier, patient.identifier and "
                               "recipient",
                           name);
    }
  }
  if (!request.query.First("patient.identifier")) {
    return Status::Error(ErrorCode::kMalformed, "required",
                         "patient.identifier (the patient the portal acts for) is required",
                         "patient.identifier");
  }
  Result<store::UnitRecord> unit = FindUnitByQuery(ctx, unit_query);
  if (!unit.ok()) return unit.take_status();
  if (unit->kind != "referral" || unit->status != store::UnitStatus::kRegistered) {
    return Status::Error(ErrorCode::kUnprocessable, "business-rule",
                         "Consent states apply to registered referral letters only",
                         "identifier");
  }
  if (recipient.empty()) recipient = unit->addressee;
  if (recipient.size() != 10 ||
      recipient.find_first_not_of("0123456789") != std::string::npos) {
    return Status::Error(ErrorCode::kMalformed, "value",
                         "recipient must be a 10-digit institution code", "recipient");
  }
  Result<store::InstitutionRecord> target = ctx.store.ReadInstitution(recipient);
  if (!target.ok()) {
    if (target.status().code() != ErrorCode::kNotFound) return target.take_status();
    return Status::Error(ErrorCode::kUnprocessable, "business-rule",
                         "Institution " + recipient + " is not in the directory", "recipient");
  }
  store::SetReferralState op;
  op.unit = unit->key;
  op.recipient = recipient;
  op.state = store::ReferralState::kViewable;
  op.allowed_from = {store::ReferralState::kNone, store::ReferralState::kPending};
  op.set_by = "patient";
  event.person_key = unit->key.person_key;
  event.target = "Bundle/" + unit->bundle_id;
  event.reason = "viewable for " + recipient;
  event.http_status = 200;
  store::WriteBatch batch;
  batch.ops.emplace_back(std::move(op));
  batch.ops.emplace_back(store::AppendAudit{std::move(event)});
  Result<store::CommitResult> committed = ctx.store.Commit(std::move(batch));
  if (!committed.ok()) return committed.take_status();
  Response response;
  response.status = 200;
  response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
  response.body = fhir::WriteJson(fhir::MakeOperationOutcome({Issue{
      Severity::kInformation, "informational", "", "",
      "Referral letter " + unit->key.value + " is viewable (閲覧可) for " + recipient}}));
  return response;
}

}  // namespace clinshub::api
