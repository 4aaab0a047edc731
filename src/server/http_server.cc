#include "server/http_server.h"

#include "access/pki/crl_watcher.h"
#include "common/result.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace clinshub::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Bytes per socket read while waiting for the next request.
constexpr size_t kReadChunk = 16 * 1024;

std::string ClientSubject(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return {};
  std::string subject;
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    BIO* bio = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    subject.assign(data, static_cast<size_t>(len));
    BIO_free(bio);
  }
  X509_free(cert);
  return subject;
}

// What the server core offers a connection.
class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  // Called from any thread at shutdown.
  virtual void BeginShutdown() = 0;
  // Called from any thread when the shutdown deadline passed.
  virtual void ForceClose() = 0;
};

}  // namespace

struct HttpServer::Impl {
  Impl(HttpServerConfig c, api::HttpService& s, api::Metrics& m, spdlog::logger& l)
      : config(std::move(c)),
        service(s),
        metrics(m),
        logger(l),
        ioc(config.io_threads),
        work(asio::make_work_guard(ioc)),
        acceptor(asio::make_strand(ioc)),
        workers(static_cast<size_t>(config.worker_threads)) {}

  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  uint64_t Register(std::weak_ptr<ConnectionBase> conn) {
    std::lock_guard lock(mu);
    uint64_t id = next_id++;
    connections.emplace(id, std::move(conn));
    return id;
  }
  void Unregister(uint64_t id) {
    std::lock_guard lock(mu);
    connections.erase(id);
    if (connections.empty()) drained.notify_all();
  }
  std::vector<std::shared_ptr<ConnectionBase>> Snapshot() {
    std::lock_guard lock(mu);
    std::vector<std::shared_ptr<ConnectionBase>> out;
    for (auto& [id, weak] : connections) {
      if (auto c = weak.lock()) out.push_back(std::move(c));
    }
    return out;
  }

  HttpServerConfig config;
  api::HttpService& service;
  api::Metrics& metrics;
  spdlog::logger& logger;
  // The registry is declared before the io_context: destroying the context destroys pending
  // handlers, whose connections unregister themselves on the way out.
  std::mutex mu;
  std::condition_variable drained;
  std::map<uint64_t, std::weak_ptr<ConnectionBase>> connections;
  uint64_t next_id = 0;
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  // Declared before `ssl` so it outlives the context whose verify callback points at it.
  std::unique_ptr<access::pki::CrlWatcher> crl_watcher;
  std::optional<asio::ssl::context> ssl;
  tcp::acceptor acceptor;
  asio::thread_pool workers;
  std::vector<std::thread> io_threads;
  uint16_t bound_port = 0;
  // Connections counted against max_connections, and requests handed to the workers and not
  // yet answered, counted against max_in_flight_requests.
  std::atomic<size_t> admitted_connections{0};
  std::atomic<size_t> in_flight{0};
  std::atomic<bool> stopping{false};
  bool started = false;
  bool stopped = false;
  std::mutex shutdown_mu;  // serialises Shutdown()
};

namespace {

// One client connection. Everything below runs on the connection's strand (the stream's
// executor) except BeginShutdown/ForceClose, which post onto it. Only one request is read,
// handled and answered at a time, which answers pipelined requests in order.
template <typename Stream>
class Connection final : public ConnectionBase,
                         public std::enable_shared_from_this<Connection<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  template <typename... Args>
  explicit Connection(HttpServer::Impl& server, Args&&... args)
      : server_(server), stream_(std::forward<Args>(args)...) {
    server_.metrics.open_connections().Increment();
  }
  ~Connection() override {
    server_.metrics.open_connections().Decrement();
    if (admitted_) server_.admitted_connections.fetch_sub(1);
    server_.Unregister(id_);
  }

  // `admitted`: false when the connection is over max_connections (and was not counted):
  // it is answered 503 without reading anything (plain) or closed (TLS: no handshake).
  void Start(uint64_t id, bool admitted) {
    id_ = id;
    admitted_ = admitted;
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if (!self->admitted_) return self->Shed();
      if constexpr (kTls) {
        self->Lowest().expires_after(self->server_.config.header_timeout);
        self->stream_.async_handshake(
            asio::ssl::stream_base::server,
            [self](beast::error_code ec) { self->OnHandshake(ec); });
      } else {
        self->ReadIdle();
      }
    });
  }

  void BeginShutdown() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      // Idle keep-alive connections close now; the others finish their request first and
      // then close (Write() sees `stopping`).
      if (self->state_ == State::kIdle) self->Lowest().cancel();
    });
  }

  void ForceClose() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      beast::error_code ec;
      self->Lowest().socket().close(ec);
    });
  }

 private:
  enum class State { kHandshake, kIdle, kReading, kProcessing, kWriting, kClosing };

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  static Status OverloadError(std::string what) {
    return UnavailableError("The server is overloaded (" + what + "); retry later");
  }

  void Shed() {
    if constexpr (kTls) {
      Abort();
    } else {
      Write(server_.service.TransportError(OverloadError("too many connections")),
            /*keep_alive=*/false);
    }
  }
  const HttpServerConfig& config() const { return server_.config; }

  void OnHandshake(beast::error_code ec) {
    if (ec) {
      server_.logger.debug("TLS handshake failed: {}", ec.message());
      return;  // nothing to answer over a failed handshake; the socket closes with us
    }
    if constexpr (kTls) {
      std::string subject = ClientSubject(stream_.native_handle());
      if (!subject.empty()) client_ = api::ClientIdentity{std::move(subject)};
    }
    ReadIdle();
  }

  // Waits for the first byte of the next request under the idle timeout.
  void ReadIdle() {
    if (server_.stopping) return Abort();
    if (buffer_.size() > 0) return ReadHeader();  // pipelined request already here
    state_ = State::kIdle;
    Lowest().expires_after(config().idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(kReadChunk),
        [self = this->shared_from_this()](beast::error_code ec, size_t n) {
          self->buffer_.commit(n);
          if (ec) return self->Abort();
          self->ReadHeader();
        });
  }

  void ReadHeader() {
    state_ = State::kReading;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(config().max_header_bytes));
    parser_->body_limit(config().max_body_bytes);
    Lowest().expires_after(config().header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, size_t) {
                              self->OnHeader(ec);
                            });
  }

  void OnHeader(beast::error_code ec) {
    if (ec == http::error::header_limit) return Reject(HeaderLimitError());
    if (ec == http::error::body_limit) return Reject(BodyLimitError());
    if (ec) return OnReadError(ec);
    auto& req = parser_->get();
    if (req.target().size() > config().max_url_bytes) return Reject(UrlLimitError());
    if (parser_->is_done()) return Dispatch();
    Lowest().expires_after(config().body_timeout);
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      // The client waits for this before sending the body (curl does for large bodies).
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     11);
      http::async_write(stream_, *cont,
                        [self = this->shared_from_this(), cont](beast::error_code ec, size_t) {
                          if (ec) return self->Abort();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       if (ec == http::error::body_limit) return self->Reject(self->BodyLimitError());
                       if (ec) return self->OnReadError(ec);
                       self->Dispatch();
                     });
  }

  void OnReadError(beast::error_code ec) {
    // Timeouts, resets and a client closing between requests need no answer; a malformed
    // message gets a 400 before we hang up.
    if (ec == beast::error::timeout || ec == http::error::end_of_stream ||
        ec == asio::error::operation_aborted || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == http::error::partial_message ||
        ec.category() == asio::error::get_ssl_category() ||
        ec == asio::ssl::error::stream_truncated) {
      if (ec == beast::error::timeout) {
        server_.logger.debug("closing connection: {} timed out",
                             state_ == State::kReading ? "request" : "read");
      }
      return Abort();
    }
    Reject(MalformedError("Malformed HTTP request: " + ec.message()));
  }

  static Status HeaderLimitError() {
    return MalformedError("Request header fields are too large");
  }
  Status BodyLimitError() const {
    return Status::Error(ErrorCode::kPayloadTooLarge, "too-long",
                         "Request body exceeds the limit of " +
                             std::to_string(config().max_body_bytes) + " bytes");
  }
  Status UrlLimitError() const {
    return Status::Error(ErrorCode::kUriTooLong, "too-long",
                         "Request URL exceeds the limit of " +
                             std::to_string(config().max_url_bytes) + " bytes");
  }

  // Answers a request the transport refused, then closes: the rest of the stream cannot be
  // trusted (an unread body, a truncated header).
  void Reject(const Status& status) {
    // A header too large may be an oversized URL. Beast consumes the request line before
    // the fields: if it got that far the target is known; if not, the request line alone
    // outgrew the header limit, which is larger than the URL limit.
    Status final_status = status;
    if (status.message() == HeaderLimitError().message() && parser_) {
      std::string_view target = parser_->get().target();
      if (target.empty() || target.size() > config().max_url_bytes) {
        final_status = UrlLimitError();
      }
    }
    Write(server_.service.TransportError(final_status), /*keep_alive=*/false);
  }

  void Dispatch() {
    state_ = State::kProcessing;
    Lowest().expires_never();
    http::request<http::string_body> req = parser_->release();
    parser_.reset();
    bool keep_alive = req.keep_alive();
    api::Request request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    for (const auto& field : req) {
      request.headers.Add(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(req.body());
    request.secure = kTls;
    request.client = client_;
    // Beyond the in-flight limit the request is refused at once instead of queueing: queued
    // work only adds latency, and memory, while the workers are saturated.
    if (server_.in_flight.fetch_add(1) >= config().max_in_flight_requests) {
      server_.in_flight.fetch_sub(1);
      return Write(server_.service.TransportError(OverloadError("too many requests in flight")),
                   keep_alive);
    }
    // Handlers block on durable commits: run them on the worker pool, never on an IO thread.
    asio::post(server_.workers, [self = this->shared_from_this(), keep_alive,
                                 request = std::move(request)]() mutable {
      api::Response response = self->server_.service.Handle(std::move(request));
      self->server_.in_flight.fetch_sub(1);
      asio::post(self->stream_.get_executor(),
                 [self, keep_alive, response = std::move(response)]() mutable {
                   self->Write(std::move(response), keep_alive);
                 });
    });
  }

  void Write(api::Response response, bool keep_alive) {
    state_ = State::kWriting;
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(response.status));
    res->set(http::field::server, "clinshub");
    for (const auto& [name, value] : response.headers.fields()) res->insert(name, value);
    res->body() = std::move(response.body);
    bool close = !keep_alive || !response.keep_alive || server_.stopping;
    res->keep_alive(!close);
    res->prepare_payload();
    Lowest().expires_after(config().body_timeout);
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res, close](beast::error_code ec, size_t) {
                        if (ec) return self->Abort();
                        if (close) return self->Close();
                        self->ReadIdle();
                      });
  }

  // Closes at once: nothing of ours is in flight (idle, timed out, peer gone).
  void Abort() {
    state_ = State::kClosing;
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().socket().close(ignored);
  }

  // Orderly close after our last response: TLS close_notify, half-close, then drain what the client still sends for
  // a short while so it can read our last response instead of getting a reset.
  void Close() {
    if (state_ == State::kClosing) return;
    state_ = State::kClosing;
    Lowest().expires_after(config().linger_timeout);
    if constexpr (kTls) {
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->Linger(); });
    } else {
      Linger();
    }
  }

  void Linger() {
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return;
    Drain();
  }

  void Drain() {
    Lowest().async_read_some(
        asio::buffer(drain_buf_),
        [self = this->shared_from_this()](beast::error_code ec, size_t n) {
          self->drained_ += n;
          // Cap the drain so a client cannot keep us reading forever.
          if (ec || self->drained_ > 2 * self->config().max_body_bytes) {
            beast::error_code ignored;
            self->Lowest().socket().close(ignored);
            return;
          }
          self->Drain();
        });
  }

  HttpServer::Impl& server_;
  Stream stream_;
  uint64_t id_ = 0;
  bool admitted_ = true;
  State state_ = State::kHandshake;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<api::ClientIdentity> client_;
  std::array<char, 16 * 1024> drain_buf_;
  size_t drained_ = 0;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(ioc),
                        [this](beast::error_code ec, tcp::socket socket) {
                          OnAccept(ec, std::move(socket));
                        });
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopping || ec == asio::error::operation_aborted) return;
  if (ec) {
    // EMFILE and friends: log and keep accepting; the condition usually clears.
    logger.warn("accept failed: {}", ec.message());
    return Accept();
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // responses are small and latency matters
  // Runs on the acceptor's strand: one accept at a time.
  bool admitted = admitted_connections.fetch_add(1) < config.max_connections;
  if (!admitted) {
    admitted_connections.fetch_sub(1);
    logger.debug("over {} connections: shedding a new one", config.max_connections);
  }
  if (ssl) {
    auto conn = std::make_shared<Connection<TlsStream>>(*this, std::move(socket), *ssl);
    conn->Start(Register(conn), admitted);
  } else {
    auto conn = std::make_shared<Connection<PlainStream>>(*this, std::move(socket));
    conn->Start(Register(conn), admitted);
  }
  Accept();
}

HttpServer::HttpServer(HttpServerConfig config, api::HttpService& service,
                       api::Metrics& metrics, spdlog::logger& logger) {
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (config.io_threads <= 0) config.io_threads = static_cast<int>(cores);
  // Handlers block on durable commits (an fsync away): enough of them to keep the store's
  // group commits full while others wait.
  if (config.worker_threads <= 0) config.worker_threads = static_cast<int>(16 * cores);
  if (config.max_in_flight_requests == 0) {
    config.max_in_flight_requests = 64 * static_cast<size_t>(config.worker_threads);
  }
  impl_ = std::make_unique<Impl>(std::move(config), service, metrics, logger);
}

HttpServer::~HttpServer() { Shutdown(); }

Status HttpServer::Start() {
  Impl& s = *impl_;
  const HttpServerConfig& c = s.config;
  if (!c.tls_cert_file.empty() || !c.tls_key_file.empty()) {
    if (c.tls_cert_file.empty() || c.tls_key_file.empty()) {
      return MalformedError("TLS needs both a certificate and a key file");
    }
    try {
      s.ssl.emplace(asio::ssl::context::tls_server);
      SSL_CTX_set_min_proto_version(s.ssl->native_handle(), TLS1_2_VERSION);
      s.ssl->set_options(asio::ssl::context::default_workarounds |
                         asio::ssl::context::single_dh_use);
      s.ssl->use_certificate_chain_file(c.tls_cert_file);
      s.ssl->use_private_key_file(c.tls_key_file, asio::ssl::context::pem);
      if (!c.tls_client_ca_file.empty()) {
        s.ssl->load_verify_file(c.tls_client_ca_file);
        // Tell clients which CA we trust so they pick the right certificate.
        SSL_CTX_set_client_CA_list(s.ssl->native_handle(),
                                   SSL_load_client_CA_file(c.tls_client_ca_file.c_str()));
        s.ssl->set_verify_mode(asio::ssl::verify_peer |
                               asio::ssl::verify_fail_if_no_peer_cert);
        if (!c.tls_crl_file.empty()) {
          s.crl_watcher = std::make_unique<access::pki::CrlWatcher>(c.tls_crl_file);
          CLINSHUB_RETURN_IF_ERROR(s.crl_watcher->Install(s.ssl->native_handle()));
        }
      }
    } catch (const boost::system::system_error& e) {
      return MalformedError(std::string("Cannot load TLS configuration: ") + e.what());
    }
  } else if (!c.tls_client_ca_file.empty()) {
    return MalformedError("A client CA needs TLS (certificate and key)");
  }

  beast::error_code ec;
  auto address = asio::ip::make_address(c.bind_address, ec);
  if (ec) return MalformedError("Invalid bind address '" + c.bind_address + "'");
  tcp::endpoint endpoint(address, c.port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return UnavailableError("Cannot listen on " + c.bind_address + ":" +
                            std::to_string(c.port) + ": " + ec.message());
  }
  s.bound_port = s.acceptor.local_endpoint().port();
  s.Accept();
  for (int i = 0; i < c.io_threads; ++i) {
    s.io_threads.emplace_back([&s] {
      // Handlers catch their own errors; this guards against a bug killing an IO thread.
      while (true) {
        try {
          s.ioc.run();
          return;
        } catch (const std::exception& e) {
          s.logger.error("IO thread caught exception: {}", e.what());
        }
      }
    });
  }
  s.started = true;
  return Status::Ok();
}

uint16_t HttpServer::port() const { return impl_->bound_port; }
bool HttpServer::tls() const { return impl_->ssl.has_value(); }
std::string HttpServer::url() const {
  return std::string(tls() ? "https://" : "http://") + impl_->config.bind_address + ":" +
         std::to_string(port());
}

void HttpServer::Shutdown() {
  Impl& s = *impl_;
  std::lock_guard shutdown_lock(s.shutdown_mu);
  if (s.stopped) return;
  s.stopped = true;
  s.stopping = true;
  if (s.started) {
    asio::post(s.acceptor.get_executor(), [&s] {
      beast::error_code ignored;
      s.acceptor.close(ignored);
    });
    for (auto& conn : s.Snapshot()) conn->BeginShutdown();
    std::unique_lock lock(s.mu);
    if (!s.drained.wait_for(lock, s.config.shutdown_timeout,
                            [&s] { return s.connections.empty(); })) {
      s.logger.warn("shutdown deadline passed with {} connections open; closing them",
                    s.connections.size());
      lock.unlock();
      for (auto& conn : s.Snapshot()) conn->ForceClose();
      lock.lock();
      s.drained.wait_for(lock, s.config.linger_timeout, [&s] { return s.connections.empty(); });
    }
  }
  s.workers.join();
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.io_threads) t.join();
  s.io_threads.clear();
}

}  // namespace clinshub::server
