#include "server/server_app.h"

#include <filesystem>
#include <system_error>

#include "access/pki/certificate_authority.h"
#include "store/open_store.h"

namespace clinshub::server {

namespace {

// Secure by default: without outside certificates the hub becomes its own CA, so a fresh
// install already speaks mutual TLS. Reuses whatever a previous start (or `clinshub cert
// init`) left in the directory.
Status UseBuiltInPki(ServerConfig& config, const Clock& clock) {
  std::string dir = PkiDir(config.data_dir);
  auto ca = access::pki::CertificateAuthority::Exists(dir)
                ? access::pki::CertificateAuthority::Load(dir, clock)
                : access::pki::CertificateAuthority::Create(dir, clock);
  if (!ca.ok()) return ca.take_status();
  std::vector<std::string> names = config.server_names;
  if (config.http.bind_address != "0.0.0.0" && config.http.bind_address != "::") {
    names.push_back(config.http.bind_address);
  }
  CLINSHUB_RETURN_IF_ERROR((*ca)->EnsureServerCertificate(names));
  config.http.tls_cert_file = (*ca)->server_cert_path();
  config.http.tls_key_file = (*ca)->server_key_path();
  config.http.tls_client_ca_file = (*ca)->ca_cert_path();
  config.http.tls_crl_file = (*ca)->crl_path();
  return Status::Ok();
}

}  // namespace

Status ValidateServerConfig(const ServerConfig& config) {
  bool tls = !config.http.tls_cert_file.empty() || !config.http.tls_key_file.empty();
  if (tls && config.plain_http) {
    return MalformedError("--plain-http contradicts the configured TLS certificate");
  }
  if (config.http.tls_cert_file.empty() != config.http.tls_key_file.empty()) {
    return MalformedError("TLS needs both --tls-cert and --tls-key");
  }
  if (!config.http.tls_client_ca_file.empty() && !tls) {
    return MalformedError("--tls-client-ca needs TLS");
  }
  if (!config.api.trusted_subject_header.empty() && !config.plain_http) {
    return MalformedError("--trusted-subject-header is for plain HTTP behind a local TLS proxy");
  }
  if (!config.api.trusted_subject_header.empty() && config.http.bind_address != "127.0.0.1" &&
      config.http.bind_address != "::1" && config.http.bind_address != "localhost") {
    return MalformedError(
        "--trusted-subject-header needs a loopback --bind: anyone who can reach the port could "
        "otherwise claim any identity");
  }
  return api::ValidateApiConfig(config.api);
}

Result<std::unique_ptr<ServerApp>> ServerApp::Start(ServerConfig config, spdlog::logger& logger,
                                                    const Clock* clock) {
  CLINSHUB_RETURN_IF_ERROR(ValidateServerConfig(config));
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return UnavailableError("Cannot create data directory " + config.data_dir + ": " +
                            ec.message());
  }
  std::unique_ptr<ServerApp> app(new ServerApp(logger));
  if (clock != nullptr) app->clock_ = clock;
  if (!config.plain_http && config.http.tls_cert_file.empty()) {
    CLINSHUB_RETURN_IF_ERROR(UseBuiltInPki(config, *app->clock_));
    app->pki_dir_ = PkiDir(config.data_dir);
  }
  const std::string store_location = config.store.empty() ? config.data_dir : config.store;
  store::OpenStoreOptions store_options;
  store_options.connections = config.store_connections;
  store_options.fsync_read_audits = config.fsync_read_audits;
  Result<std::unique_ptr<store::Store>> store =
      store::OpenStore(store_location, store_options, *app->clock_);
  if (!store.ok()) return store.take_status();
  logger.info("store: {}", store::RedactStoreLocation(store_location));
  app->store_ = std::move(store).value();

  if (config.exports.directory.empty()) config.exports.directory = config.data_dir + "/exports";
  if (config.exports.secret_file.empty()) {
    config.exports.secret_file = config.data_dir + "/public-health.key";
  }
  config.api.export_dir = config.exports.directory;
  if (!config.outbox.endpoint_url.empty()) {
    CLINSHUB_RETURN_IF_ERROR(publichealth::ValidateEndpointUrl(config.outbox.endpoint_url));
    app->outbox_ = std::make_unique<publichealth::OutboxWorker>(
        *app->store_, *app->clock_, publichealth::MakeBeastPoster(config.surveillance),
        config.outbox, logger);
    app->outbox_->Start();
  }
  app->exports_ = std::make_unique<publichealth::ExportRunner>(*app->store_, *app->clock_,
                                                               config.exports, logger);
  app->exports_->Start();

  config.api.tls = !config.http.tls_cert_file.empty();
  config.api.client_certificates_required = !config.http.tls_client_ca_file.empty();
  app->api_ = std::make_unique<api::Api>(config.api, *app->store_, *app->clock_, app->ids_,
                                         app->metrics_, logger);
  app->http_ = std::make_unique<HttpServer>(config.http, *app->api_, app->metrics_, logger);
  CLINSHUB_RETURN_IF_ERROR(app->http_->Start());
  app->retention_ =
      std::make_unique<RetentionJob>(*app->store_, *app->clock_, config.retention, logger);
  logger.info("serving {} with data in {}", app->http_->url(), config.data_dir);
  return app;
}

ServerApp::~ServerApp() { Shutdown(); }

void ServerApp::Shutdown() {
  if (retention_) retention_->Stop();
  if (http_) http_->Shutdown();
  if (outbox_) outbox_->Stop();
  if (exports_) exports_->Stop();
}

}  // namespace clinshub::server
