#include "loadtest/https_client.h"

#include <charconv>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "common/gzip.h"

namespace clinshub::loadtest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct ClientContext::Impl {
  SSL_CTX* ctx = nullptr;
  ~Impl() { SSL_CTX_free(ctx); }
};

ClientContext::ClientContext() : impl_(std::make_unique<Impl>()) {}
ClientContext::~ClientContext() = default;

namespace {

std::string OpenSslError(const char* what) {
  const unsigned long code = ERR_get_error();
  char text[256] = "";
  if (code != 0) ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return std::string(what) + (code != 0 ? std::string(": ") + text : std::string());
}

// PEM text into a BIO that the PEM readers take.
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
BioPtr PemBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
}

}  // namespace

Result<std::shared_ptr<ClientContext>> ClientContext::Create(const TlsIdentity& identity) {
  std::shared_ptr<ClientContext> context(new ClientContext());
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return InternalError(OpenSslError("SSL_CTX_new"));
  context->impl_->ctx = ctx;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  {
    BioPtr bio = PemBio(identity.ca_pem);
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    int added = 0;
    while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      added += X509_STORE_add_cert(store, ca) == 1;
      X509_free(ca);
    }
    ERR_clear_error();  // the end of the PEM text reads as an error
    if (added == 0) return MalformedError("CA certificate: no certificate in the PEM text");
  }
  if (!identity.cert_pem.empty()) {
    BioPtr bio = PemBio(identity.cert_pem);
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr || SSL_CTX_use_certificate(ctx, cert) != 1) {
      X509_free(cert);
      return MalformedError(OpenSslError("client certificate"));
    }
    X509_free(cert);
    while (X509* chain = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      if (SSL_CTX_add_extra_chain_cert(ctx, chain) != 1) X509_free(chain);
    }
    ERR_clear_error();
    BioPtr key_bio = PemBio(identity.key_pem);
    EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr);
    if (key == nullptr || SSL_CTX_use_PrivateKey(ctx, key) != 1) {
      EVP_PKEY_free(key);
      return MalformedError(OpenSslError("client key"));
    }
    EVP_PKEY_free(key);
  }
  return context;
}

Result<Endpoint> ParseHttpsUrl(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (!url.starts_with(kScheme)) return MalformedError("--url must be https://host:port");
  url.remove_prefix(kScheme.size());
  if (url.ends_with('/')) url.remove_suffix(1);
  const size_t colon = url.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return MalformedError("--url must name the port: https://host:port");
  }
  Endpoint out;
  out.host = std::string(url.substr(0, colon));
  if (out.host.size() > 2 && out.host.front() == '[') out.host = out.host.substr(1, out.host.size() - 2);
  std::string_view port = url.substr(colon + 1);
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (ec != std::errc() || end != port.data() + port.size() || out.port == 0) {
    return MalformedError("bad port in --url");
  }
  return out;
}

// One blocking socket with OpenSSL reading and writing it directly (a socket BIO): the load
// tool shares the machine with the server it measures, and Asio's TLS engine (memory BIOs, an
// error-queue reset per call, a copy per record) cost it more CPU than the TLS itself.
// Responses are parsed by Beast's HTTP parser.
struct HttpsConnection::Impl {
  Endpoint endpoint;
  std::shared_ptr<ClientContext> context;
  int fd = -1;
  SSL* ssl = nullptr;
  std::string pending;  // bytes read past the end of the last response
  int opened = 0;
  bool accept_gzip = false;
  std::string decode_error;  // the last response's body could not be decoded

  void Close() {
    if (ssl != nullptr) SSL_free(ssl);
    ssl = nullptr;
    if (fd >= 0) ::close(fd);
    fd = -1;
    pending.clear();
  }

  Status Connect() {
    Close();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(endpoint.port);
    if (int rc = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
      return UnavailableError("resolve " + endpoint.host + ": " + ::gai_strerror(rc));
    }
    std::string error = "no address";
    for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
      fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
        error = std::strerror(errno);
        ::close(fd);
        fd = -1;
      }
    }
    ::freeaddrinfo(found);
    if (fd < 0) return UnavailableError("connect: " + error);
    // Nagle and delayed ACKs would add 40 ms to every request.
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ssl = SSL_new(context->impl().ctx);
    if (ssl == nullptr) return UnavailableError(OpenSslError("SSL_new"));
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, endpoint.host.c_str());
    SSL_set1_host(ssl, endpoint.host.c_str());
    if (SSL_connect(ssl) != 1) {
      Status st = UnavailableError(OpenSslError("TLS handshake"));
      Close();
      return st;
    }
    ++opened;
    return Status::Ok();
  }

  bool WriteAll(std::string_view bytes) {
    while (!bytes.empty()) {
      const int n = SSL_write(ssl, bytes.data(), static_cast<int>(bytes.size()));
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // One exchange on the current connection; false when the transport failed.
  bool Exchange(std::string_view request, bool head, HttpReply& reply) {
    if (!WriteAll(request)) return false;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256 * 1024 * 1024);
    parser.eager(true);
    if (head) parser.skip(true);
    beast::error_code ec;
    char chunk[64 * 1024];
    while (!parser.is_done()) {
      if (!pending.empty()) {
        const size_t used = parser.put(asio::buffer(pending), ec);
        if (ec == http::error::need_more) ec = {};
        if (ec) return false;
        pending.erase(0, used);
        if (parser.is_done()) break;
        if (used > 0) continue;
      }
      const int n = SSL_read(ssl, chunk, sizeof chunk);
      if (n <= 0) {
        // The server closed after a response that ends with the connection.
        if (SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN && !parser.got_some()) return false;
        parser.put_eof(ec);
        if (ec || !parser.is_done()) return false;
        break;
      }
      pending.append(chunk, static_cast<size_t>(n));
    }
    http::response<http::string_body>& res = parser.get();
    reply.status = static_cast<int>(res.result_int());
    if (auto it = res.find(http::field::location); it != res.end()) {
      reply.location = std::string(it->value());
    }
    reply.body = std::move(res.body());
    reply.wire_body_bytes = reply.body.size();
    if (auto it = res.find(http::field::content_encoding); it != res.end()) {
      // A bad body is the server's fault, not the transport's: reported, never retried.
      if (!beast::iequals(it->value(), "gzip")) {
        decode_error = "Content-Encoding " + std::string(it->value()) + " was not asked for";
      } else if (Result<std::string> text = Gunzip(reply.body, 256 * 1024 * 1024); !text.ok()) {
        decode_error = "gzip body: " + text.status().message();
      } else {
        reply.body = std::move(text).value();
      }
    }
    if (!res.keep_alive()) Close();
    return true;
  }
};

HttpsConnection::HttpsConnection(Endpoint endpoint, std::shared_ptr<ClientContext> context,
                                 bool accept_gzip)
    : impl_(std::make_unique<Impl>()) {
  impl_->endpoint = std::move(endpoint);
  impl_->context = std::move(context);
  impl_->accept_gzip = accept_gzip;
}

HttpsConnection::~HttpsConnection() { impl_->Close(); }

int HttpsConnection::connections_opened() const { return impl_->opened; }

Result<HttpReply> HttpsConnection::Send(std::string_view method, std::string_view target,
                                        const Headers& headers, std::string_view body) {
  Impl& s = *impl_;
  std::string request;
  request.reserve(256 + target.size() + body.size());
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ");
  request.append(s.endpoint.host).append(":").append(std::to_string(s.endpoint.port));
  request.append("\r\n");
  for (const auto& [name, value] : headers) request.append(name).append(": ").append(value).append("\r\n");
  if (s.accept_gzip) request.append("Accept-Encoding: gzip\r\n");
  if (!body.empty() || method == "POST" || method == "PUT") {
    request.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  request.append("\r\n").append(body);
  // A kept-alive connection the server closed fails on first use: reconnect once, then fail.
  const bool fresh = s.ssl == nullptr;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (s.ssl == nullptr) CLINSHUB_RETURN_IF_ERROR(s.Connect());
    HttpReply reply;
    s.decode_error.clear();
    if (s.Exchange(request, method == "HEAD", reply)) {
      if (!s.decode_error.empty()) {
        return MalformedError(std::string(method) + " " + std::string(target) + ": " +
                              s.decode_error);
      }
      return reply;
    }
    s.Close();
    if (fresh || attempt == 1) {
      return UnavailableError(std::string(method) + " " + std::string(target) +
                              ": the connection failed");
    }
  }
  return UnavailableError("unreachable");
}

}  // namespace clinshub::loadtest
