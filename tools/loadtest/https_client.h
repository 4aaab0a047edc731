// A blocking HTTPS/1.1 client for the load tool: one keep-alive connection with mutual TLS
// (OpenSSL on a plain socket, Beast's HTTP parser), reconnecting once when the server closed an
// idle connection.
//
// TlsIdentity holds the PEM texts; ClientContext turns one into an OpenSSL context that any
// number of connections (on any threads) may share once built. An HttpsConnection is used by
// one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace clinshub::loadtest {

struct TlsIdentity {
  std::string ca_pem;    // trusted CA of the server certificate
  std::string cert_pem;  // client certificate (chain)
  std::string key_pem;   // its private key
};

// An OpenSSL client context (peer verification on, the identity's certificate loaded).
class ClientContext {
 public:
  static Result<std::shared_ptr<ClientContext>> Create(const TlsIdentity& identity);
  ~ClientContext();
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  ClientContext();
  std::unique_ptr<Impl> impl_;
};

struct Endpoint {
  std::string host;
  uint16_t port = 0;
};

// Parses https://host:port[/]; kMalformed for anything else.
Result<Endpoint> ParseHttpsUrl(std::string_view url);

struct HttpReply {
  int status = 0;
  std::string body;             // decoded when the server sent it gzip-coded
  size_t wire_body_bytes = 0;   // as received
  std::string location;  // the Location header, if any
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class HttpsConnection {
 public:
  // accept_gzip: send `Accept-Encoding: gzip`, as common FHIR clients do, and decode
  // gzip-coded bodies.
  HttpsConnection(Endpoint endpoint, std::shared_ptr<ClientContext> context,
                  bool accept_gzip = false);
  ~HttpsConnection();

  // Sends one request and reads its response. A transport failure (connect, handshake, reset)
  // is kUnavailable; HTTP error statuses are replies, not errors.
  Result<HttpReply> Send(std::string_view method, std::string_view target,
                         const Headers& headers = {}, std::string_view body = {});
  int connections_opened() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace clinshub::loadtest
