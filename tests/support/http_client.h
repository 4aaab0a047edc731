// A small real HTTP/1.1 client for integration tests: a Beast synchronous client (plain or
// TLS, one keep-alive connection) and raw-socket helpers for requests no well-behaved client
// would send (slow headers, lying Content-Length, pipelining).
//
// Hang guards: raw sockets use poll() deadlines; the Beast client relies on the server's own
// timeouts and CTest's TIMEOUT. Not thread-safe; one client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace clinshub::testing {

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool keep_alive = true;

  // First header of that name (case-insensitive), or "".
  std::string Header(std::string_view name) const;
};

struct TlsClientOptions {
  std::string ca_file;    // trusted CA for the server certificate
  std::string cert_file;  // client certificate (PEM), optional
  std::string key_file;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  // Connects lazily on the first request; reconnects when the server closed the connection.
  HttpClient(std::string host, uint16_t port, std::optional<TlsClientOptions> tls = {});
  ~HttpClient();

  Result<HttpResponse> Send(std::string_view method, std::string_view target,
                            const HeaderList& headers = {}, std::string body = {});
  Result<HttpResponse> Get(std::string_view target, const HeaderList& headers = {}) {
    return Send("GET", target, headers);
  }
  // Sends with Content-Type application/fhir+json.
  Result<HttpResponse> SendJson(std::string_view method, std::string_view target,
                                std::string body, HeaderList headers = {});

  // Sent with every request unless the call sets the same header (e.g. the test identity).
  void SetDefaultHeaders(HeaderList headers) { default_headers_ = std::move(headers); }

  // Connect (and TLS handshake) now; the error says why it failed.
  Status Connect();
  void Close();
  // How many TCP connections this client has opened (to prove keep-alive).
  int connections_opened() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  HeaderList default_headers_;
};

// A plain TCP socket with deadlines, for malformed or adversarial traffic.
class RawSocket {
 public:
  static Result<RawSocket> Connect(uint16_t port);
  RawSocket(RawSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  RawSocket& operator=(RawSocket&& other) noexcept;
  ~RawSocket();

  // Writes everything; false when the peer closed or reset (expected in some tests).
  bool SendAll(std::string_view data);
  // Reads until `count` complete responses arrived, the peer closed, or the deadline passed.
  std::vector<HttpResponse> ReadResponses(size_t count, std::chrono::milliseconds deadline);
  // True if the peer closes (EOF or reset) before the deadline; discards data read.
  bool WaitForClose(std::chrono::milliseconds deadline);

 private:
  explicit RawSocket(int fd) : fd_(fd) {}
  // Appends available bytes to buffer_; false on EOF/error/deadline.
  bool ReadSome(std::chrono::steady_clock::time_point until);

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace clinshub::testing
