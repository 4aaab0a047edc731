// https://hl7.org/fhir/R4/http.html#vread
#include "api/access_gate.h"
#include "api/interactions.h"
#include "api/resource_id.h"
#include "api/resource_response.h"

namespace clinshub::api {

Result<Response> VreadResource(const InteractionContext& ctx, const Request& request) {
  std::string type(request.Param("type")), id(request.Param("id"));
  CLINSHUB_RETURN_IF_ERROR(CheckResourceId(id));
  CLINSHUB_RETURN_IF_ERROR(AuthorizeResourceRead(ctx, request, type, id, true));
  auto version = ParseVersionId(request.Param("vid"));
  if (!version) {
    return Status::Error(ErrorCode::kMalformed, "value",
                         "Invalid version id: expected a positive integer");
  }
  Result<store::ResourceVersion> found = ctx.store.ReadVersion(type, id, *version);
  if (!found.ok()) return found.take_status();
  if (found->deleted) {
    return Status::Error(ErrorCode::kGone, "deleted",
                         "Version " + std::to_string(*version) + " of " + type + "/" + id +
                             " is a deletion");
  }
  return ResourceResponse(200, std::move(*found));
}

}  // namespace clinshub::api
