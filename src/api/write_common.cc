#include "api/write_common.h"

#include "api/resource_response.h"
#include "fhir/json.h"

namespace clinshub::api {

Result<fhir::Value> ParseBodyResource(const Request& request, std::string_view type) {
  if (request.body.empty()) return MalformedError("The request body is empty");
  Result<fhir::Value> resource = fhir::ParseResource(request.body);
  if (!resource.ok()) return resource.take_status();
  std::string_view body_type = resource->StringAt("resourceType");
  if (body_type != type) {
    return Status::Error(ErrorCode::kMalformed, "invalid",
                         "resourceType '" + std::string(body_type) +
                             "' does not match the URL's '" + std::string(type) + "'",
                         std::string(body_type) + ".resourceType");
  }
  return resource;
}

Result<Response> PutAndRespond(const InteractionContext& ctx, const Request& request,
                               store::PutResource put, const std::string& type,
                               const std::string& id) {
  store::WriteBatch batch;
  batch.ops.emplace_back(std::move(put));
  Result<store::CommitResult> committed = ctx.store.Commit(std::move(batch));
  if (!committed.ok()) return committed.take_status();
  if (committed->written.size() != 1) {
    return InternalError("Store reported " + std::to_string(committed->written.size()) +
                         " writes for one put");
  }
  int64_t version = committed->written[0].version;
  Result<store::ResourceVersion> stored = ctx.store.ReadVersion(type, id, version);
  if (!stored.ok()) return stored.take_status();

  bool created = version == 1;
  Response response = ResourceResponse(created ? 201 : 200, *stored);
  if (created) {
    response.headers.Set("Location", BaseUrl(ctx.config, request) + "/" + type + "/" + id +
                                         "/_history/" + std::to_string(version));
  }
  if (WantsMinimal(request)) {
    response.body.clear();
    response.headers.Remove("Content-Type");
  }
  return response;
}

}  // namespace clinshub::api
