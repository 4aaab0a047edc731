// The HTTP/1.1 server (Boost.Beast/Asio), plain TCP or TLS with optional mutual
// authentication. IO threads only move bytes; each complete request is handed to a worker
// pool (handlers block on durable store commits) and the response is written back on the
// connection's strand. Pipelined requests are answered in order, one at a time.
//
// Limits answered by the transport, before a worker sees anything: body size (413, also when
// Content-Length announces too much, without reading the body), URL length (414), header size
// (400), and header/body/idle timeouts that close slow connections. These bound what one
// connection can hold (one request at a time, at most header + body limit in memory).
//
// Global limits shed load instead of queueing it: a connection beyond max_connections gets
// 503 + Retry-After (plain HTTP; over TLS it is closed before the handshake) and is closed; a
// complete request beyond max_in_flight_requests gets 503 + Retry-After without reaching a
// worker, and its connection stays open.
//
// Beast and Asio stay inside http_server.cc (pimpl): they are slow to compile.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "api/api_config.h"
#include "api/http_service.h"
#include "api/metrics.h"
#include "common/status.h"

namespace clinshub::server {

struct HttpServerConfig {
  std::string bind_address = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port; see HttpServer::port()
  int io_threads = 0;      // 0: one per core
  int worker_threads = 0;  // 0: sixteen per core
  size_t max_body_bytes = api::kMaxRequestBodyBytes;
  size_t max_header_bytes = 16 * 1024;
  size_t max_url_bytes = 8 * 1024;
  // Open client connections (idle ones included); file descriptors are the bound.
  size_t max_connections = 4096;
  // Requests handed to workers and not yet answered (queued + running). 0: 64 per worker.
  size_t max_in_flight_requests = 0;
  // From the first byte of a request to the end of its header (slow-loris guard); also bounds
  // the TLS handshake.
  std::chrono::milliseconds header_timeout{10'000};
  // For the body after the header, and for writing a response.
  std::chrono::milliseconds body_timeout{60'000};
  // How long a keep-alive connection may wait for its next request.
  std::chrono::milliseconds idle_timeout{60'000};
  // After a close: how long to drain what the client is still sending, so it reads our
  // answer (413 ...) instead of a TCP reset.
  std::chrono::milliseconds linger_timeout{2'000};
  // Hang guard for Shutdown(): in-flight requests get this long to finish.
  std::chrono::milliseconds shutdown_timeout{30'000};
  // TLS: both set → HTTPS. client_ca set → client certificates are required and verified.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // With a client CA: a CRL (PEM) checked on every handshake and reread when the file
  // changes, so a revocation takes effect on the next connection.
  std::string tls_crl_file;
};

class HttpServer {
 public:
  // Borrows service, metrics and logger; they must outlive the server.
  HttpServer(HttpServerConfig config, api::HttpService& service, api::Metrics& metrics,
             spdlog::logger& logger);
  ~HttpServer();  // Shutdown()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the threads. kUnavailable if the address cannot be bound,
  // kMalformed if TLS files cannot be loaded.
  Status Start();
  // The bound port (the real one when configured with 0). Valid after Start().
  uint16_t port() const;
  bool tls() const;
  // "http://127.0.0.1:8080" or "https://..."
  std::string url() const;

  // Graceful: stop accepting, close idle connections, let in-flight requests finish (their
  // responses say Connection: close), then stop the threads. Blocking, idempotent,
  // thread-safe; must not be called from a handler.
  void Shutdown();

  // Opaque; named here only so the connection types inside http_server.cc can reach it.
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace clinshub::server
