// The FHIR REST API: routing, content negotiation, error rendering, metrics and logging
// around the interaction handlers. Construct once with borrowed dependencies; Handle() is
// thread-safe and never throws (exceptions become a logged 500 with a generic message).
//
// Adding an endpoint: write one file with a `Result<Response> Fn(const InteractionContext&,
// const Request&)`, declare it in interactions.h, register it in Api::Api (api.cc).
#pragma once

#include <memory>

#include <spdlog/logger.h>

#include "api/api_config.h"
#include "api/http_service.h"
#include "api/interactions.h"
#include "api/item_cache.h"
#include "api/metrics.h"
#include "api/router.h"
#include "api/timed_store.h"
#include "common/clock.h"
#include "common/ids.h"
#include "store/store.h"

namespace clinshub::api {

// kMalformed if the configuration names resource types FHIR R4 does not define.
Status ValidateApiConfig(const ApiConfig& config);

class Api final : public HttpService {
 public:
  // Borrows everything; all must outlive the Api. `config` should pass ValidateApiConfig.
  Api(ApiConfig config, store::Store& store, const Clock& clock, IdGenerator& ids,
      Metrics& metrics, spdlog::logger& logger);

  Response Handle(Request request) override;
  Response TransportError(const Status& status) override;

  const Router& router() const { return router_; }

 private:
  Response Dispatch(Request& request, std::string& route_pattern);
  Response RenderError(const Request* request, const Status& status);

  ApiConfig config_;
  TimedStore store_;
  const Clock& clock_;
  IdGenerator& ids_;
  Metrics& metrics_;
  spdlog::logger& logger_;
  Router router_;
  PageCache page_cache_;
  ItemCache item_cache_;
  InteractionContext ctx_;
};

}  // namespace clinshub::api
