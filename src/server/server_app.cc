#include "server/server_app.h"

#include <filesystem>
#include <system_error>

#include "store/sqlite/sqlite_store.h"

namespace clinshub::server {

Status ValidateServerConfig(const ServerConfig& config) {
  bool tls = !config.http.tls_cert_file.empty() || !config.http.tls_key_file.empty();
  if (!tls && !config.plain_http) {
    return MalformedError(
        "No TLS certificate configured: set --tls-cert and --tls-key, or pass --plain-http "
        "explicitly for a local, unencrypted server");
  }
  if (tls && config.plain_http) {
    return MalformedError("--plain-http contradicts the configured TLS certificate");
  }
  if (config.http.tls_cert_file.empty() != config.http.tls_key_file.empty()) {
    return MalformedError("TLS needs both --tls-cert and --tls-key");
  }
  if (!config.http.tls_client_ca_file.empty() && !tls) {
    return MalformedError("--tls-client-ca needs TLS");
  }
  return api::ValidateApiConfig(config.api);
}

Result<std::unique_ptr<ServerApp>> ServerApp::Start(ServerConfig config,
                                                    spdlog::logger& logger) {
  CLINSHUB_RETURN_IF_ERROR(ValidateServerConfig(config));
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return UnavailableError("Cannot create data directory " + config.data_dir + ": " +
                            ec.message());
  }
  std::unique_ptr<ServerApp> app(new ServerApp(logger));
  store::SqliteOptions options;
  options.path = config.data_dir;
  Result<std::unique_ptr<store::Store>> store = store::OpenSqliteStore(options, app->clock_);
  if (!store.ok()) return store.take_status();
  app->store_ = std::move(store).value();

  config.api.tls = !config.http.tls_cert_file.empty();
  config.api.client_certificates_required = !config.http.tls_client_ca_file.empty();
  app->api_ = std::make_unique<api::Api>(config.api, *app->store_, app->clock_, app->ids_,
                                         app->metrics_, logger);
  app->http_ = std::make_unique<HttpServer>(config.http, *app->api_, app->metrics_, logger);
  CLINSHUB_RETURN_IF_ERROR(app->http_->Start());
  logger.info("serving {} with data in {}", app->http_->url(), config.data_dir);
  return app;
}

ServerApp::~ServerApp() { Shutdown(); }

void ServerApp::Shutdown() {
  if (http_) http_->Shutdown();
}

}  // namespace clinshub::server
