// https://hl7.org/fhir/R4/http.html#cdelete — DELETE /Bundle?identifier=system|value withdraws a
// reporting unit (6情報 delete command, document 取消). Only the sending institution may.
#include "api/bundle_units.h"
#include "api/interactions.h"
#include "api/resource_response.h"
#include "fhir/json.h"
#include "fhir/operation_outcome.h"

namespace clinshub::api {

Result<Response> WithdrawBundle(const InteractionContext& ctx, const Request& request) {
  Result<store::UnitRecord> unit = FindUnitByQuery(ctx, request);
  if (!unit.ok()) return unit.take_status();
  std::string caller = CallerInstitution(request);
  store::WriteBatch batch;
  // Without a client certificate (development mode) the sender is taken as the caller; with
  // one, the store refuses any institution but the sender (kForbidden).
  batch.ops.emplace_back(
      store::WithdrawUnit{unit->key, caller.empty() ? unit->institution : caller});
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
