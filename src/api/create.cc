// https://hl7.org/fhir/R4/http.html#create
#include "api/access_gate.h"
#include "api/interactions.h"
#include "api/write_common.h"

namespace clinshub::api {

Result<Response> CreateResource(const InteractionContext& ctx, const Request& request) {
  std::string type(request.Param("type"));
  CLINSHUB_RETURN_IF_ERROR(AuthorizeOperator(ctx, request, type));
  Result<fhir::Value> resource = ParseBodyResource(request, type);
  if (!resource.ok()) return resource.take_status();
  // The server assigns the id; any id in the body is ignored, as the spec says.
  std::string id = ctx.ids.NewId();
  fhir::Value& value = *resource;
  value.Erase("id");
  auto& members = value.mutable_members();
  members.insert(members.begin() + (members.empty() ? 0 : 1),
                 {"id", fhir::Value::String(id)});
  Result<Response> response = PutAndRespond(
      ctx, request, store::PutResource{std::move(value), /*if_version=*/0}, type, id);
  if (!response.ok() && response.status().code() == ErrorCode::kPreconditionFailed) {
    // Create-only failed: the generator repeated an id, which random 128-bit ids never do.
    return InternalError("Server-assigned id " + type + "/" + id + " already exists");
  }
  return response;
}

}  // namespace clinshub::api
