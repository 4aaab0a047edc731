// Everything `clinshub serve` is configured with, after the command line and config file.
#pragma once

#include <string>

#include "api/api_config.h"
#include "server/http_server.h"

namespace clinshub::server {

struct ServerConfig {
  HttpServerConfig http;
  api::ApiConfig api;
  std::string data_dir = "./data";  // created if missing; holds the SQLite store
  // Plain HTTP must be asked for (tests, local demos); production is TLS, institutions
  // authenticate with client certificates.
  bool plain_http = false;
};

// kMalformed when the combination cannot work (no TLS and no --plain-http, half a key pair,
// unknown resource types, ...).
Status ValidateServerConfig(const ServerConfig& config);

}  // namespace clinshub::server
