// https://hl7.org/fhir/R4/http.html#history
#include <algorithm>
#include <charconv>

#include "api/access_gate.h"
#include "api/interactions.h"
#include "api/resource_id.h"
#include "api/resource_response.h"
#include "fhir/json.h"

namespace clinshub::api {
namespace {

Result<size_t> CountParam(const Request& request, size_t max) {
  auto text = request.query.First("_count");
  if (!text) return max;
  size_t count = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), count);
  if (ec != std::errc() || end != text->data() + text->size() || count == 0) {
    return Status::Error(ErrorCode::kMalformed, "value", "_count must be a positive integer",
                         "_count");
  }
  return std::min(count, max);
}

}  // namespace

Result<Response> HistoryInstance(const InteractionContext& ctx, const Request& request) {
  std::string type(request.Param("type")), id(request.Param("id"));
  CLINSHUB_RETURN_IF_ERROR(CheckResourceId(id));
  CLINSHUB_RETURN_IF_ERROR(AuthorizeResourceRead(ctx, request, type, id, false));
  Result<size_t> count = CountParam(request, ctx.config.max_history_count);
  if (!count.ok()) return count.take_status();
  Result<std::vector<store::ResourceVersion>> versions = ctx.store.History(type, id, *count);
  if (!versions.ok()) return versions.take_status();

  std::string base = BaseUrl(ctx.config, request);
  std::string relative = type + "/" + id;
  fhir::Value bundle = fhir::Value::Object();
  bundle.Set("resourceType", fhir::Value::String("Bundle"));
  bundle.Set("meta", fhir::Value::Object())
      .Set("lastUpdated", fhir::Value::String(FormatInstant(ctx.clock.Now())));
  bundle.Set("type", fhir::Value::String("history"));
  // total is only known when the page holds every version.
  if (versions->size() < *count) {
    bundle.Set("total", fhir::Value::Number(std::to_string(versions->size())));
  }
  fhir::Value& entries = bundle.Set("entry", fhir::Value::Array());
  for (const store::ResourceVersion& v : *versions) {
    fhir::Value entry = fhir::Value::Object();
    entry.Set("fullUrl", fhir::Value::String(base + "/" + relative));
    if (!v.deleted) {
      Result<fhir::Value> resource = fhir::ParseJson(v.json);
      if (!resource.ok()) {
        return InternalError("Stored version " + std::to_string(v.version) + " of " +
                             relative + " is not valid JSON");
      }
      entry.Set("resource", std::move(resource).value());
    }
    fhir::Value& req = entry.Set("request", fhir::Value::Object());
    // The store does not record whether version 1 came from create or update-as-create;
    // PUT describes the effect truthfully for both.
    req.Set("method", fhir::Value::String(v.deleted ? "DELETE" : "PUT"));
    req.Set("url", fhir::Value::String(relative));
    fhir::Value& resp = entry.Set("response", fhir::Value::Object());
    resp.Set("status", fhir::Value::String(v.deleted        ? "204 No Content"
                                           : v.version == 1 ? "201 Created"
                                                            : "200 OK"));
    resp.Set("etag", fhir::Value::String(WeakETag(v.version)));
    resp.Set("lastModified", fhir::Value::String(FormatInstant(v.last_updated)));
    entries.Append(std::move(entry));
  }
  if (entries.items().empty()) bundle.Erase("entry");

  Response response;
  response.body = fhir::WriteJson(bundle);
  response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
  return response;
}

}  // namespace clinshub::api
