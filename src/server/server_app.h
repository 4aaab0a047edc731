// The wiring: opens the store, builds the API and starts the HTTP server. Used by main() and
// by the in-process integration tests, so both run the same assembly.
#pragma once

#include <memory>

#include <spdlog/logger.h>

#include "api/api.h"
#include "api/metrics.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"
#include "publichealth/export_job.h"
#include "publichealth/outbox_worker.h"
#include "server/http_server.h"
#include "server/server_config.h"
#include "store/store.h"

namespace clinshub::server {

class ServerApp {
 public:
  // Validates the config, creates the data directory, opens the store and starts serving.
  // `logger` must outlive the app.
  // `clock` (tests move time; must outlive the app) defaults to the system clock.
  static Result<std::unique_ptr<ServerApp>> Start(ServerConfig config, spdlog::logger& logger,
                                                  const Clock* clock = nullptr);
  ~ServerApp();  // Shutdown()

  uint16_t port() const { return http_->port(); }
  std::string url() const { return http_->url(); }
  // The built-in CA's directory when the server runs on it (see ServerConfig), else empty.
  const std::string& pki_dir() const { return pki_dir_; }
  // The open store, for tools and tests that seed data beside the API.
  store::Store& store() { return *store_; }
  // Graceful; see HttpServer::Shutdown. Idempotent.
  void Shutdown();

 private:
  explicit ServerApp(spdlog::logger& logger) : logger_(logger) {}

  spdlog::logger& logger_;
  std::string pki_dir_;
  SystemClock system_clock_;
  const Clock* clock_ = &system_clock_;
  RandomIdGenerator ids_;
  api::Metrics metrics_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<RetentionJob> retention_;  // declared after store_: stops before it closes
  std::unique_ptr<api::Api> api_;
  std::unique_ptr<HttpServer> http_;
  // Stopped before the store closes (declared after it).
  std::unique_ptr<publichealth::OutboxWorker> outbox_;
  std::unique_ptr<publichealth::ExportRunner> exports_;
};

}  // namespace clinshub::server
