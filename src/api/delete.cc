// https://hl7.org/fhir/R4/http.html#delete
#include "api/access_gate.h"
#include "api/interactions.h"
#include "api/resource_id.h"
#include "api/resource_response.h"

namespace clinshub::api {

Result<Response> DeleteResource(const InteractionContext& ctx, const Request& request) {
  std::string type(request.Param("type")), id(request.Param("id"));
  CLINSHUB_RETURN_IF_ERROR(CheckResourceId(id));
  CLINSHUB_RETURN_IF_ERROR(AuthorizeOperator(ctx, request, type));
  Result<std::optional<int64_t>> if_match = IfMatchVersion(request);
  if (!if_match.ok()) return if_match.take_status();
  store::WriteBatch batch;
  batch.ops.emplace_back(store::DeleteResource{type, id, *if_match});
  Result<store::CommitResult> committed = ctx.store.Commit(std::move(batch));
  if (!committed.ok()) return committed.take_status();
  Response response;
  response.status = 204;
  if (committed->written.size() == 1) {
    response.headers.Set("ETag", WeakETag(committed->written[0].version));
  }
  return response;
}

}  // namespace clinshub::api
