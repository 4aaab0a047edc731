// https://hl7.org/fhir/R4/http.html#read
#include "api/access_gate.h"
#include "api/interactions.h"
#include "api/resource_id.h"
#include "api/resource_response.h"

namespace clinshub::api {

Result<Response> ReadResource(const InteractionContext& ctx, const Request& request) {
  std::string type(request.Param("type")), id(request.Param("id"));
  CLINSHUB_RETURN_IF_ERROR(CheckResourceId(id));
  CLINSHUB_RETURN_IF_ERROR(AuthorizeResourceRead(ctx, request, type, id, true));
  Result<store::ResourceVersion> current = ctx.store.Read(type, id);
  if (!current.ok()) return current.take_status();

  // https://hl7.org/fhir/R4/http.html#cread: conditional read saves re-sending unchanged data.
  bool not_modified = false;
  if (auto inm = request.headers.Get("If-None-Match")) {
    not_modified = ParseETag(*inm) == current->version || *inm == "*";
  } else if (auto ims = request.headers.Get("If-Modified-Since")) {
    auto since = ParseHttpDate(*ims);
    // HTTP dates have second precision; compare at that precision.
    not_modified = since && std::chrono::floor<std::chrono::seconds>(current->last_updated) <= *since;
  }
  if (not_modified) {
    Response response;
    response.status = 304;
    response.headers.Set("ETag", WeakETag(current->version));
    response.headers.Set("Last-Modified", HttpDate(current->last_updated));
    return response;
  }
  return ResourceResponse(200, std::move(*current));
}

}  // namespace clinshub::api
