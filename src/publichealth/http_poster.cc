#include "publichealth/http_poster.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

namespace clinshub::publichealth {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Target {
  bool tls = false;
  std::string host;
  std::string port;
  std::string path;
};

Result<Target> ParseUrl(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") ||
      parsed->encoded_host().empty()) {
    return MalformedError("'" + url + "' is not an absolute http:// or https:// URL");
  }
  Target t;
  t.tls = parsed->scheme() == "https";
  t.host = std::string(parsed->encoded_host());
  t.port = parsed->has_port() ? std::string(parsed->port()) : (t.tls ? "443" : "80");
  t.path = std::string(parsed->encoded_path());
  if (t.path.empty()) t.path = "/";
  if (parsed->has_query()) t.path += "?" + std::string(parsed->encoded_query());
  return t;
}

class BeastPoster final : public HttpPoster {
 public:
  explicit BeastPoster(PosterOptions options) : options_(std::move(options)) {}

  Result<PostResult> Post(const std::string& url, const std::string& content_type,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& body) override {
    Result<Target> t = ParseUrl(url);
    if (!t.ok()) return t.take_status();
    http::request<http::string_body> req{http::verb::post, t->path, 11};
    req.set(http::field::host, t->host);
    req.set(http::field::user_agent, "clinshub-outbox");
    req.set(http::field::content_type, content_type);
    req.set(http::field::connection, "close");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = body;
    req.prepare_payload();
    try {
      return t->tls ? Run<true>(*t, req) : Run<false>(*t, req);
    } catch (const std::exception& e) {
      return UnavailableError(std::string("POST ") + url + ": " + e.what());
    }
  }

 private:
  // Async ops on a private io_context, so the deadline (tcp_stream::expires_after) applies.
  template <bool kTls>
  Result<PostResult> Run(const Target& t, http::request<http::string_body>& req) {
    asio::io_context ioc;
    beast::error_code failure;
    std::string stage;
    http::response<http::string_body> res;
    beast::flat_buffer buffer;
    tcp::resolver resolver(ioc);
    auto fail = [&](const char* what, beast::error_code ec) {
      if (!failure) {
        failure = ec;
        stage = what;
      }
    };
    std::optional<asio::ssl::context> ssl;
    if constexpr (kTls) {
      ssl.emplace(asio::ssl::context::tls_client);
      if (options_.ca_file.empty()) {
        ssl->set_default_verify_paths();
      } else {
        ssl->load_verify_file(options_.ca_file);
      }
      if (!options_.cert_file.empty()) {
        ssl->use_certificate_chain_file(options_.cert_file);
        ssl->use_private_key_file(options_.key_file, asio::ssl::context::pem);
      }
      ssl->set_verify_mode(asio::ssl::verify_peer);
    }
    using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;
    std::unique_ptr<Stream> stream;
    if constexpr (kTls) {
      stream = std::make_unique<Stream>(ioc, *ssl);
      SSL_set_tlsext_host_name(stream->native_handle(), t.host.c_str());
      stream->set_verify_callback(asio::ssl::host_name_verification(t.host));
    } else {
      stream = std::make_unique<Stream>(ioc);
    }
    beast::tcp_stream& tcp_layer = beast::get_lowest_layer(*stream);
    tcp_layer.expires_after(options_.timeout);
    auto on_read = [&](beast::error_code ec, size_t) {
      if (ec) fail("read", ec);
    };
    auto on_write = [&](beast::error_code ec, size_t) {
      if (ec) return fail("write", ec);
      http::async_read(*stream, buffer, res, on_read);
    };
    auto send = [&]() { http::async_write(*stream, req, on_write); };
    resolver.async_resolve(t.host, t.port, [&](beast::error_code ec, tcp::resolver::results_type r) {
      if (ec) return fail("resolve", ec);
      tcp_layer.async_connect(r, [&](beast::error_code ec2, const tcp::endpoint&) {
        if (ec2) return fail("connect", ec2);
        if constexpr (kTls) {
          stream->async_handshake(asio::ssl::stream_base::client, [&](beast::error_code ec3) {
            if (ec3) return fail("TLS handshake", ec3);
            send();
          });
        } else {
          send();
        }
      });
    });
    ioc.run();
    if (failure) {
      return UnavailableError(stage + " " + t.host + ":" + t.port + ": " + failure.message());
    }
    return PostResult{static_cast<int>(res.result_int()), std::move(res.body())};
  }

  PosterOptions options_;
};

}  // namespace

Status ValidateEndpointUrl(const std::string& url) {
  Result<Target> t = ParseUrl(url);
  return t.ok() ? Status::Ok() : t.status();
}

std::unique_ptr<HttpPoster> MakeBeastPoster(PosterOptions options) {
  return std::make_unique<BeastPoster>(std::move(options));
}

}  // namespace clinshub::publichealth
