#include "loadtest/https_client.h"

#include <charconv>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace clinshub::loadtest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct ClientContext::Impl {
  asio::ssl::context ssl{asio::ssl::context::tls_client};
};

ClientContext::ClientContext() : impl_(std::make_unique<Impl>()) {}
ClientContext::~ClientContext() = default;

Result<std::shared_ptr<ClientContext>> ClientContext::Create(const TlsIdentity& identity) {
  std::shared_ptr<ClientContext> context(new ClientContext());
  boost::system::error_code ec;
  asio::ssl::context& ssl = context->impl_->ssl;
  ssl.add_certificate_authority(asio::buffer(identity.ca_pem), ec);
  if (ec) return MalformedError("CA certificate: " + ec.message());
  ssl.set_verify_mode(asio::ssl::verify_peer, ec);
  if (!identity.cert_pem.empty()) {
    ssl.use_certificate_chain(asio::buffer(identity.cert_pem), ec);
    if (ec) return MalformedError("client certificate: " + ec.message());
    ssl.use_private_key(asio::buffer(identity.key_pem), asio::ssl::context::pem, ec);
    if (ec) return MalformedError("client key: " + ec.message());
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

struct HttpsConnection::Impl {
  Endpoint endpoint;
  std::shared_ptr<ClientContext> context;
  asio::io_context ioc;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> stream;
  beast::flat_buffer buffer;
  int opened = 0;

  void Close() {
    boost::system::error_code ec;
    if (stream) stream->lowest_layer().close(ec);
    stream.reset();
    buffer.clear();
  }

  Status Connect() {
    Close();
    boost::system::error_code ec;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(endpoint.host, std::to_string(endpoint.port), ec);
    if (ec) return UnavailableError("resolve " + endpoint.host + ": " + ec.message());
    stream = std::make_unique<asio::ssl::stream<tcp::socket>>(ioc, context->impl().ssl);
    asio::connect(stream->lowest_layer(), endpoints, ec);
    if (ec) return UnavailableError("connect: " + ec.message());
    // Beast writes the header and body separately: without NODELAY, Nagle and delayed ACKs
    // would add 40 ms to every request.
    stream->lowest_layer().set_option(tcp::no_delay(true), ec);
    stream->set_verify_callback(asio::ssl::host_name_verification(endpoint.host));
    SSL_set_tlsext_host_name(stream->native_handle(), endpoint.host.c_str());
    stream->handshake(asio::ssl::stream_base::client, ec);
    if (ec) {
      stream.reset();
      return UnavailableError("TLS handshake: " + ec.message());
    }
    ++opened;
    return Status::Ok();
  }

  // One exchange on the current connection; `ec` says whether the transport failed.
  HttpReply Exchange(const http::request<http::string_body>& req, bool head,
                     boost::system::error_code& ec) {
    HttpReply reply;
    http::write(*stream, req, ec);
    if (ec) return reply;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256 * 1024 * 1024);
    if (head) parser.skip(true);
    http::read(*stream, buffer, parser, ec);
    if (ec) return reply;
    http::response<http::string_body>& res = parser.get();
    reply.status = static_cast<int>(res.result_int());
    if (auto it = res.find(http::field::location); it != res.end()) {
      reply.location = std::string(it->value());
    }
    reply.body = std::move(res.body());
    if (!res.keep_alive()) Close();
    return reply;
  }
};

HttpsConnection::HttpsConnection(Endpoint endpoint, std::shared_ptr<ClientContext> context)
    : impl_(std::make_unique<Impl>()) {
  impl_->endpoint = std::move(endpoint);
  impl_->context = std::move(context);
}

HttpsConnection::~HttpsConnection() { impl_->Close(); }

int HttpsConnection::connections_opened() const { return impl_->opened; }

Result<HttpReply> HttpsConnection::Send(std::string_view method, std::string_view target,
                                        const Headers& headers, std::string_view body) {
  Impl& s = *impl_;
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, s.endpoint.host + ":" + std::to_string(s.endpoint.port));
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = std::string(body);
  if (!body.empty() || method == "POST" || method == "PUT") req.prepare_payload();
  // A kept-alive connection the server closed fails on first use: reconnect once, then fail.
  const bool fresh = !s.stream;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!s.stream) CLINSHUB_RETURN_IF_ERROR(s.Connect());
    boost::system::error_code ec;
    HttpReply reply = s.Exchange(req, method == "HEAD", ec);
    if (!ec) return reply;
    s.Close();
    if (fresh || attempt == 1) return UnavailableError(std::string(method) + " " + std::string(target) + ": " + ec.message());
  }
  return UnavailableError("unreachable");
}

}  // namespace clinshub::loadtest
