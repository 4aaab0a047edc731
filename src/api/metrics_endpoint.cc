// Prometheus scrape endpoint (text exposition format 0.0.4), not a FHIR interaction.
#include "api/interactions.h"

namespace clinshub::api {

Result<Response> MetricsEndpoint(const InteractionContext& ctx, const Request& request) {
  Response response;
  response.body = ctx.metrics.Serialize();
  response.headers.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  response.headers.Set("Cache-Control", "no-store");
  return response;
}

}  // namespace clinshub::api
