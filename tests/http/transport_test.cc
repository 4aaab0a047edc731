// The HTTP server itself with a scripted service: TLS / mutual TLS and graceful shutdown
// with a request in flight.
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <future>
#include <thread>

#include "api/error_response.h"
#include "server/http_server.h"
#include "support/http_client.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"

namespace clinshub {
namespace {

using testing::HttpClient;
using testing::TempDir;

// Answers with the client certificate subject; "/block" waits until released.
class ScriptedService final : public api::HttpService {
 public:
  api::Response Handle(api::Request request) override {
    if (request.target == "/block") {
      entered.set_value();
      release_future.wait();
    }
    api::Response r;
    r.body = request.client ? request.client->certificate_subject : "anonymous";
    return r;
  }
  api::Response TransportError(const Status& status) override {
    return api::ErrorResponse(status);
  }

  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> release_future = release.get_future().share();
};

class TransportTest : public ::testing::Test {
 protected:
  std::unique_ptr<server::HttpServer> StartServer(server::HttpServerConfig config) {
    config.port = 0;
    config.io_threads = 2;
    config.worker_threads = 2;
    auto s = std::make_unique<server::HttpServer>(config, service_, metrics_, logger_);
    Status st = s->Start();
    EXPECT_TRUE(st.ok()) << st.ToString();
    return s;
  }

  spdlog::logger logger_{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  api::Metrics metrics_;
  ScriptedService service_;
};

TEST_F(TransportTest, MutualTlsExposesTheVerifiedClientSubject) {
  TempDir dir;
  testing::TestPki pki;
  ASSERT_TRUE(testing::GenerateTestPki(dir.path(), "1312345678", pki).ok());
  server::HttpServerConfig config;
  config.tls_cert_file = pki.server_cert;
  config.tls_key_file = pki.server_key;
  config.tls_client_ca_file = pki.ca_cert;
  auto server = StartServer(config);
  EXPECT_EQ(server->url().rfind("https://", 0), 0u);

  HttpClient with_cert("127.0.0.1", server->port(),
                       testing::TlsClientOptions{pki.ca_cert, pki.client_cert, pki.client_key});
  auto r = with_cert.Get("/who");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "CN=1312345678,O=Test Hospital,C=JP");

  // No certificate, or one from a CA the server does not trust: no request gets through.
  HttpClient without_cert("127.0.0.1", server->port(), testing::TlsClientOptions{pki.ca_cert});
  EXPECT_FALSE(without_cert.Get("/who").ok());
  HttpClient rogue("127.0.0.1", server->port(),
                   testing::TlsClientOptions{pki.ca_cert, pki.rogue_client_cert,
                                             pki.rogue_client_key});
  EXPECT_FALSE(rogue.Get("/who").ok());
}

TEST_F(TransportTest, TlsWithoutClientCaServesAnonymousClients) {
  TempDir dir;
  testing::TestPki pki;
  ASSERT_TRUE(testing::GenerateTestPki(dir.path(), "c", pki).ok());
  server::HttpServerConfig config;
  config.tls_cert_file = pki.server_cert;
  config.tls_key_file = pki.server_key;
  auto server = StartServer(config);
  HttpClient client("127.0.0.1", server->port(), testing::TlsClientOptions{pki.ca_cert});
  auto r = client.Get("/who");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "anonymous");
  // Plain HTTP against the TLS port does not get an answer.
  HttpClient plain("127.0.0.1", server->port());
  EXPECT_FALSE(plain.Get("/who").ok());
}

TEST_F(TransportTest, ShutdownFinishesInFlightRequestsAndClosesIdleConnections) {
  auto server = StartServer({});
  HttpClient idle("127.0.0.1", server->port());
  ASSERT_TRUE(idle.Get("/warm").ok());  // an idle keep-alive connection

  auto in_flight = std::async(std::launch::async, [&] {
    HttpClient client("127.0.0.1", server->port());
    return client.Get("/block");
  });
  service_.entered.get_future().wait();
  uint16_t port = server->port();
  auto shutdown = std::async(std::launch::async, [&] { server->Shutdown(); });
  // Once new connections are refused, shutdown has begun; it is now waiting for the blocked
  // handler, so release it and both complete.
  for (int i = 0; i < 2000 && testing::RawSocket::Connect(port).ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // hang guard: 20 s
  }
  EXPECT_EQ(shutdown.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  service_.release.set_value();
  auto r = in_flight.get();
  shutdown.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->keep_alive);
  EXPECT_FALSE(idle.Get("/after").ok());
}

}  // namespace
}  // namespace clinshub
