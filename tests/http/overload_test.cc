// Global limits of the HTTP server: beyond max_in_flight_requests and max_connections the
// server answers 503 + Retry-After at once instead of queueing, and at twice the load it can
// serve it keeps serving at its capacity. Sizes are bounded and nothing asserts on wall-clock
// time: the service counts how many requests it runs at once, which bounds the queueing delay.
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "api/error_response.h"
#include "server/http_server.h"
#include "support/http_client.h"

namespace clinshub {
namespace {

using testing::HttpClient;
using testing::HttpResponse;
using testing::RawSocket;

constexpr std::chrono::seconds kHangGuard{20};

// "/block" waits until released; "/work" takes a little time. Counts concurrency.
class SlowService final : public api::HttpService {
 public:
  api::Response Handle(api::Request request) override {
    int now = ++running_;
    int peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
    if (request.target == "/block") {
      std::unique_lock lock(mu_);
      ++blocked_;
      cv_.notify_all();
      cv_.wait(lock, [this] { return released_; });
    } else if (request.target == "/work") {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ++handled_;
    --running_;
    return api::Response{};
  }
  api::Response TransportError(const Status& status) override {
    return api::ErrorResponse(status);
  }

  void WaitBlocked(int n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, kHangGuard, [&] { return blocked_ >= n; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  int peak() const { return peak_; }
  int handled() const { return handled_; }

 private:
  std::atomic<int> running_{0};
  std::atomic<int> peak_{0};
  std::atomic<int> handled_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  int blocked_ = 0;
  bool released_ = false;
};

class OverloadTest : public ::testing::Test {
 protected:
  void StartServer(size_t max_in_flight, size_t max_connections = 4096) {
    server::HttpServerConfig config;
    config.port = 0;
    config.io_threads = 2;
    config.worker_threads = 4;
    config.max_in_flight_requests = max_in_flight;
    config.max_connections = max_connections;
    config.linger_timeout = std::chrono::milliseconds(200);
    server_ = std::make_unique<server::HttpServer>(config, service_, metrics_, logger_);
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  void TearDown() override {
    service_.Release();
    if (server_) server_->Shutdown();
  }

  static void ExpectOverloaded(const HttpResponse& r) {
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_FALSE(r.Header("Retry-After").empty());
    EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos) << r.body;
  }

  spdlog::logger logger_{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  api::Metrics metrics_;
  SlowService service_;
  std::unique_ptr<server::HttpServer> server_;
};

TEST_F(OverloadTest, RequestsBeyondTheInFlightLimitGet503WithRetryAfter) {
  StartServer(/*max_in_flight=*/2);
  std::vector<std::future<Result<HttpResponse>>> blocked;
  for (int i = 0; i < 2; ++i) {
    blocked.push_back(std::async(std::launch::async, [this] {
      HttpClient c("127.0.0.1", server_->port());
      return c.Get("/block");
    }));
  }
  service_.WaitBlocked(2);

  HttpClient client("127.0.0.1", server_->port());
  for (int i = 0; i < 5; ++i) {
    auto r = client.Get("/work");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ExpectOverloaded(*r);
    EXPECT_TRUE(r->keep_alive) << "the connection stays usable";
  }
  EXPECT_EQ(client.connections_opened(), 1);

  service_.Release();
  for (auto& f : blocked) {
    auto r = f.get();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200);
  }
  // Capacity is back: the same connection is served.
  auto r = client.Get("/work");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(service_.peak(), 2);
}

TEST_F(OverloadTest, ConnectionsBeyondTheLimitGet503AndClose) {
  StartServer(/*max_in_flight=*/0, /*max_connections=*/3);
  std::vector<std::unique_ptr<HttpClient>> admitted;
  for (int i = 0; i < 3; ++i) {
    admitted.push_back(std::make_unique<HttpClient>("127.0.0.1", server_->port()));
    auto r = admitted.back()->Get("/work");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200);
  }
  {
    auto extra = RawSocket::Connect(server_->port());
    ASSERT_TRUE(extra.ok());
    auto responses = extra->ReadResponses(1, kHangGuard);
    ASSERT_EQ(responses.size(), 1u);
    ExpectOverloaded(responses[0]);
    EXPECT_FALSE(responses[0].keep_alive);
    EXPECT_TRUE(extra->WaitForClose(kHangGuard));
  }
  // The admitted connections keep being served.
  for (auto& c : admitted) {
    auto r = c->Get("/work");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
  }
  // Closing one makes room for a new one (the server notices the close asynchronously).
  admitted.front()->Close();
  bool served = false;
  for (int i = 0; i < 200 && !served; ++i) {
    HttpClient fresh("127.0.0.1", server_->port());
    auto r = fresh.Get("/work");
    served = r.ok() && r->status == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(served);
}

// Capacity is 2 requests at once; 4 clients each want 100 requests served and send as fast as
// they can, retrying on 503 (twice the load the server can take). Every answer is 200 or 503 +
// Retry-After, never an error or a hang; every client gets all its requests served (throughput
// holds, nobody starves); the server never runs more than its limit, so an admitted request
// never waits behind a queue: its latency is bounded by the capacity, not by the load.
TEST_F(OverloadTest, TwiceTheSustainableLoadKeepsThroughputAndBoundsLatency) {
  constexpr int kCapacity = 2;
  constexpr int kClients = 2 * kCapacity;
  constexpr int kServedPerClient = 100;
  constexpr int kMaxAttemptsPerClient = 100'000;  // hang guard
  StartServer(kCapacity);
  std::atomic<int> ok{0}, overloaded{0}, other{0};
  std::atomic<int64_t> worst_admitted_us{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      HttpClient c("127.0.0.1", server_->port());
      int served = 0;
      for (int n = 0; n < kMaxAttemptsPerClient && served < kServedPerClient; ++n) {
        auto start = std::chrono::steady_clock::now();
        auto r = c.Get("/work");
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
        if (r.ok() && r->status == 200) {
          ++ok;
          ++served;
          int64_t worst = worst_admitted_us.load();
          while (us > worst && !worst_admitted_us.compare_exchange_weak(worst, us)) {
          }
        } else if (r.ok() && r->status == 503 && !r->Header("Retry-After").empty()) {
          ++overloaded;
          std::this_thread::sleep_for(std::chrono::microseconds(200));  // a polite client
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(other, 0);
  EXPECT_EQ(ok, kClients * kServedPerClient) << overloaded << " shed";
  EXPECT_EQ(service_.handled(), ok.load()) << "a refused request never reaches a handler";
  EXPECT_LE(service_.peak(), kCapacity);
  EXPECT_GT(overloaded, 0) << "the load did exceed the capacity";
  // Only a hang guard (sanitizer builds are slow): a queue would show up as peak > capacity.
  EXPECT_LT(worst_admitted_us.load(), 10'000'000);
  std::printf("2x load: %d served, %d shed (503), worst admitted latency %.1f ms\n", ok.load(),
              overloaded.load(), worst_admitted_us.load() / 1000.0);
}

}  // namespace
}  // namespace clinshub
