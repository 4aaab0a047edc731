// https://hl7.org/fhir/R4/http.html#update
#include "api/access_gate.h"
#include "api/interactions.h"
#include "api/resource_id.h"
#include "api/resource_response.h"
#include "api/write_common.h"

namespace clinshub::api {

Result<Response> UpdateResource(const InteractionContext& ctx, const Request& request) {
  std::string type(request.Param("type")), id(request.Param("id"));
  CLINSHUB_RETURN_IF_ERROR(CheckResourceId(id));
  CLINSHUB_RETURN_IF_ERROR(AuthorizeOperator(ctx, request, type));
  Result<std::optional<int64_t>> if_match = IfMatchVersion(request);
  if (!if_match.ok()) return if_match.take_status();
  Result<fhir::Value> resource = ParseBodyResource(request, type);
  if (!resource.ok()) return resource.take_status();
  // The spec requires the body to carry the id, and it must be the URL's.
  std::string_view body_id = resource->StringAt("id");
  if (body_id != id) {
    return Status::Error(ErrorCode::kMalformed, "invalid",
                         body_id.empty() ? "The resource has no id; update needs id '" + id + "'"
                                         : "The resource id '" + std::string(body_id) +
                                               "' does not match the URL's '" + id + "'",
                         type + ".id");
  }
  return PutAndRespond(ctx, request, store::PutResource{std::move(resource).value(), *if_match},
                       type, id);
}

}  // namespace clinshub::api
