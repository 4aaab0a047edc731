#include "support/http_client.h"

#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace clinshub::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

HttpResponse Convert(http::response<http::string_body>& res) {
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& f : res) {
    out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  out.keep_alive = res.keep_alive();
  out.body = std::move(res.body());
  return out;
}

Status Failed(std::string what, const boost::system::error_code& ec) {
  return UnavailableError(what + ": " + ec.message());
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return {};
}

struct HttpClient::Impl {
  std::string host;
  uint16_t port;
  std::optional<TlsClientOptions> tls_options;
  asio::io_context ioc;
  std::optional<asio::ssl::context> ssl_ctx;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls;
  std::unique_ptr<tcp::socket> plain;
  beast::flat_buffer buffer;
  int opened = 0;

  bool connected() const { return tls || plain; }

  template <typename F>
  auto WithStream(F&& f) {
    return tls ? f(*tls) : f(*plain);
  }
};

HttpClient::HttpClient(std::string host, uint16_t port, std::optional<TlsClientOptions> tls)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->tls_options = std::move(tls);
}

HttpClient::~HttpClient() { Close(); }

int HttpClient::connections_opened() const { return impl_->opened; }

void HttpClient::Close() {
  boost::system::error_code ec;
  if (impl_->tls) impl_->tls->lowest_layer().close(ec);
  if (impl_->plain) impl_->plain->close(ec);
  impl_->tls.reset();
  impl_->plain.reset();
  impl_->buffer.clear();
}

Status HttpClient::Connect() {
  Close();
  Impl& s = *impl_;
  boost::system::error_code ec;
  tcp::resolver resolver(s.ioc);
  auto endpoints = resolver.resolve(s.host, std::to_string(s.port), ec);
  if (ec) return Failed("resolve", ec);
  if (s.tls_options) {
    try {
      if (!s.ssl_ctx) {
        s.ssl_ctx.emplace(asio::ssl::context::tls_client);
        s.ssl_ctx->load_verify_file(s.tls_options->ca_file);
        s.ssl_ctx->set_verify_mode(asio::ssl::verify_peer);
        if (!s.tls_options->cert_file.empty()) {
          s.ssl_ctx->use_certificate_chain_file(s.tls_options->cert_file);
          s.ssl_ctx->use_private_key_file(s.tls_options->key_file, asio::ssl::context::pem);
        }
      }
    } catch (const boost::system::system_error& e) {
      return Failed("TLS client setup", e.code());
    }
    s.tls = std::make_unique<asio::ssl::stream<tcp::socket>>(s.ioc, *s.ssl_ctx);
    asio::connect(s.tls->lowest_layer(), endpoints, ec);
    if (ec) return Failed("connect", ec);
    s.tls->set_verify_callback(asio::ssl::host_name_verification(s.host));
    SSL_set_tlsext_host_name(s.tls->native_handle(), s.host.c_str());
    s.tls->handshake(asio::ssl::stream_base::client, ec);
    if (ec) {
      s.tls.reset();
      return Failed("TLS handshake", ec);
    }
  } else {
    s.plain = std::make_unique<tcp::socket>(s.ioc);
    asio::connect(*s.plain, endpoints, ec);
    if (ec) return Failed("connect", ec);
  }
  ++s.opened;
  return Status::Ok();
}

Result<HttpResponse> HttpClient::Send(std::string_view method, std::string_view target,
                                      const HeaderList& headers, std::string body) {
  Impl& s = *impl_;
  if (!s.connected()) CLINSHUB_RETURN_IF_ERROR(Connect());
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, s.host + ":" + std::to_string(s.port));
  for (const auto& [n, v] : default_headers_) req.set(n, v);
  for (const auto& [n, v] : headers) req.set(n, v);
  req.body() = std::move(body);
  if (!req.body().empty() || method == "POST" || method == "PUT") req.prepare_payload();

  boost::system::error_code ec;
  s.WithStream([&](auto& stream) { http::write(stream, req, ec); return 0; });
  if (ec) {
    Close();
    return Failed("write", ec);
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (method == "HEAD") parser.skip(true);
  s.WithStream([&](auto& stream) { http::read(stream, s.buffer, parser, ec); return 0; });
  if (ec) {
    Close();
    return Failed("read", ec);
  }
  http::response<http::string_body> res = parser.release();
  HttpResponse out = Convert(res);
  if (!out.keep_alive) Close();
  return out;
}

Result<HttpResponse> HttpClient::SendJson(std::string_view method, std::string_view target,
                                          std::string body, HeaderList headers) {
  headers.emplace_back("Content-Type", "application/fhir+json");
  return Send(method, target, headers, std::move(body));
}

// ---- RawSocket ----

Result<RawSocket> RawSocket::Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return UnavailableError("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return UnavailableError("connect() failed: " + std::to_string(errno));
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return RawSocket(fd);
}

RawSocket& RawSocket::operator=(RawSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawSocket::SendAll(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool RawSocket::ReadSome(std::chrono::steady_clock::time_point until) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      until - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd pfd{fd_, POLLIN, 0};
  int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
  if (ready <= 0) return false;
  char buf[16384];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) return false;
  buffer_.append(buf, static_cast<size_t>(n));
  return true;
}

std::vector<HttpResponse> RawSocket::ReadResponses(size_t count,
                                                   std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  std::vector<HttpResponse> out;
  while (out.size() < count) {
    // Parse as many complete responses as the buffer holds.
    while (out.size() < count && !buffer_.empty()) {
      http::response_parser<http::string_body> parser;
      parser.eager(true);
      parser.body_limit(64 * 1024 * 1024);
      boost::system::error_code ec;
      size_t used = 0;
      while (!parser.is_done()) {
        size_t n = parser.put(asio::buffer(buffer_.data() + used, buffer_.size() - used), ec);
        used += n;
        if (ec == http::error::need_more) {
          ec = {};
          break;
        }
        if (ec) return out;  // garbage: give up
        if (n == 0) break;
      }
      if (!parser.is_done()) break;
      buffer_.erase(0, used);
      http::response<http::string_body> res = parser.release();
      out.push_back(Convert(res));
    }
    if (out.size() >= count) break;
    if (!ReadSome(until)) break;
  }
  return out;
}

bool RawSocket::WaitForClose(std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    pollfd pfd{fd_, POLLIN, 0};
    int ready = ::poll(&pfd, 1, std::max<int>(1, static_cast<int>(left.count())));
    if (ready <= 0) continue;
    char buf[16384];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return true;  // EOF or reset
  }
  return false;
}

}  // namespace clinshub::testing
