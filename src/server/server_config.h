// Everything `clinshub serve` is configured with, after the command line and config file.
#pragma once

#include <string>
#include <vector>

#include "api/api_config.h"
#include "publichealth/export_job.h"
#include "publichealth/outbox_worker.h"
#include "server/http_server.h"
#include "server/retention_job.h"

namespace clinshub::server {

struct ServerConfig {
  HttpServerConfig http;
  api::ApiConfig api;
  std::string data_dir = "./data";  // created if missing; holds the SQLite store
  // The store (store/open_store.h): empty means SQLite in data_dir; a path or sqlite:PATH is
  // SQLite there, a postgresql:// (or postgres://) URI is PostgreSQL.
  std::string store;
  // Pooled store connections for reads (the store's writer has one more).
  int store_connections = 4;
  // SQLite: fsync each read's audit event before answering (store/open_store.h).
  bool fsync_read_audits = false;
  // Retention (docs/retention.md): the periods and how often the server purges.
  RetentionConfig retention;
  // Plain HTTP must be asked for (tests, local demos); production is TLS, institutions
  // authenticate with client certificates.
  bool plain_http = false;
  // Neither --plain-http nor --tls-cert: the hub runs its own CA in <data_dir>/pki (created on
  // first start) and requires institution certificates it issued. The server certificate
  // names localhost, 127.0.0.1 and these extra DNS names / IP addresses.
  std::vector<std::string> server_names;
  // Public health (docs/public-health.md). outbox.endpoint_url (--surveillance-url) empty: no
  // delivery worker (notifications stay queued). exports.directory / secret_file empty:
  // <data_dir>/exports and <data_dir>/public-health.key.
  publichealth::OutboxOptions outbox;
  publichealth::PosterOptions surveillance;
  publichealth::ExportOptions exports;
};

// Where the built-in CA lives for a data directory.
inline std::string PkiDir(const std::string& data_dir) { return data_dir + "/pki"; }

// kMalformed when the combination cannot work (--plain-http with TLS files, half a key pair,
// a client CA without TLS, unknown resource types, ...).
Status ValidateServerConfig(const ServerConfig& config);

}  // namespace clinshub::server
