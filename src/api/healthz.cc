// Liveness/readiness for load balancers and orchestrators (not a FHIR interaction):
// 200 when the store answers, 503 otherwise so traffic moves elsewhere.
#include "api/interactions.h"

namespace clinshub::api {

Result<Response> Healthz(const InteractionContext& ctx, const Request& request) {
  Status ping = ctx.store.Ping();
  if (!ping.ok()) {
    // The cause (a path, a driver message) is for the log; Api logs 5xx details.
    return UnavailableError("The store is not answering: " + ping.message());
  }
  Response response;
  response.body = R"({"status":"ok"})";
  response.headers.Set("Content-Type", "application/json");
  response.headers.Set("Cache-Control", "no-store");
  return response;
}

}  // namespace clinshub::api
