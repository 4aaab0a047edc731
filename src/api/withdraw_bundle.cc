// https://hl7.org/fhir/R4/http.html#cdelete — DELETE /Bundle?identifier=system|value withdraws a
// reporting unit (6情報 delete command, document 取消). Only the sending institution may.
#include "api/access_gate.h"
#include "api/bundle_units.h"
#include "api/interactions.h"
#include "api/resource_response.h"
#include "fhir/json.h"
#include "fhir/operation_outcome.h"

namespace clinshub::api {

Result<Response> WithdrawBundle(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kSubmit, "", "Bundle");
  event.action = "withdraw";
  CLINSHUB_RETURN_IF_ERROR(Authorize(ctx, *caller, access::Action::kSubmit, {}, event));
  Result<store::UnitRecord> unit = FindUnitByQuery(ctx, request);
  if (!unit.ok()) return unit.take_status();
  event.person_key = unit->key.person_key;
  event.target = "Bundle/" + unit->bundle_id;
  event.http_status = 200;
  store::WriteBatch batch;
  // The store refuses any institution but the sender (kForbidden) inside the transaction.
  batch.ops.emplace_back(store::WithdrawUnit{unit->key, caller->actor.id});
  batch.ops.emplace_back(store::AppendAudit{std::move(event)});
  Result<store::CommitResult> committed = ctx.store.Commit(std::move(batch));
  if (!committed.ok()) return committed.take_status();
  Response response;
  response.status = 200;
  response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
  response.body = fhir::WriteJson(fhir::MakeOperationOutcome({Issue{
      Severity::kInformation, "informational", "", "",
      "Withdrew reporting unit " + unit->key.value + " (Bundle/" + unit->bundle_id + ")"}}));
  return response;
}

}  // namespace clinshub::api
