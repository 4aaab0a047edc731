// https://hl7.org/fhir/R4/operations.html — GET /Bundle/$status?identifier=system|value: the
// state of a reporting unit (registered / withdrawn, version, dates, addressee) as Parameters.
#include "api/access_gate.h"
#include "api/bundle_units.h"
#include "api/interactions.h"
#include "api/resource_response.h"
#include "fhir/json.h"

namespace clinshub::api {
namespace {

fhir::Value Part(std::string name, std::string value_type, fhir::Value value) {
  fhir::Value part = fhir::Value::Object();
  part.Set("name", fhir::Value::String(std::move(name)));
  part.Set(std::move(value_type), std::move(value));
  return part;
}

}  // namespace

Result<Response> BundleStatus(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  Result<store::UnitRecord> unit = FindUnitByQuery(ctx, request);
  if (!unit.ok()) return unit.take_status();
  store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kReadOwnSubmission,
                                     unit->key.person_key, "Bundle/" + unit->bundle_id);
  access::Facts facts;
  facts.is_sender = caller->actor.id == unit->institution;
  CLINSHUB_RETURN_IF_ERROR(
      Authorize(ctx, *caller, access::Action::kReadOwnSubmission, facts, event));
  Result<std::vector<store::ReferralRecipient>> recipients =
      ctx.store.ListReferralRecipients(unit->key);
  if (!recipients.ok()) return recipients.take_status();
  fhir::Value params = fhir::Value::Object();
  params.Set("resourceType", fhir::Value::String("Parameters"));
  fhir::Value list = fhir::Value::Array();
  const bool registered = unit->status == store::UnitStatus::kRegistered;
  list.Append(Part("status", "valueCode",
                   fhir::Value::String(registered ? "registered" : "withdrawn")));
  list.Append(Part("kind", "valueCode", fhir::Value::String(unit->kind)));
  fhir::Value ref = fhir::Value::Object();
  ref.Set("reference", fhir::Value::String("Bundle/" + unit->bundle_id + "/_history/" +
                                           std::to_string(unit->version)));
  list.Append(Part("bundle", "valueReference", std::move(ref)));
  list.Append(Part("version", "valueInteger",
                   fhir::Value::Number(std::to_string(unit->version))));
  list.Append(Part("institution", "valueString", fhir::Value::String(unit->institution)));
  if (!unit->addressee.empty()) {
    list.Append(Part("addressee", "valueString", fhir::Value::String(unit->addressee)));
  }
  for (const store::ReferralRecipient& r : *recipients) {
    fhir::Value recipient = fhir::Value::Object();
    recipient.Set("name", fhir::Value::String("recipient"));
    fhir::Value parts = fhir::Value::Array();
    parts.Append(Part("institution", "valueString", fhir::Value::String(r.recipient)));
    parts.Append(Part("consentState", "valueCode",
                      fhir::Value::String(std::string(ReferralStateCode(r.state)))));
    parts.Append(Part("setBy", "valueCode", fhir::Value::String(r.set_by)));
    parts.Append(Part("updated", "valueInstant", fhir::Value::String(FormatInstant(r.updated))));
    if (r.retrieved) {
      parts.Append(
          Part("retrieved", "valueInstant", fhir::Value::String(FormatInstant(*r.retrieved))));
    }
    recipient.Set("part", std::move(parts));
    list.Append(std::move(recipient));
  }
  list.Append(Part("firstRegistered", "valueInstant",
                   fhir::Value::String(FormatInstant(unit->first_registered))));
  list.Append(Part("lastChanged", "valueInstant",
                   fhir::Value::String(FormatInstant(unit->last_changed))));
  params.Set("parameter", std::move(list));
  Response response;
  response.status = 200;
  response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
  response.body = fhir::WriteJson(params);
  return response;
}

}  // namespace clinshub::api
