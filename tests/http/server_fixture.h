// Starts the real server in-process on 127.0.0.1:0 over plain HTTP with a temp data directory,
// and gives a client and small response helpers. Shared by the HTTP integration tests.
#pragma once

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <cstdlib>
#include <functional>
#include <memory>

#include "fhir/json.h"
#include "server/server_app.h"
#include "support/http_client.h"
#include "support/temp_dir.h"

namespace clinshub::testing {

class ServerFixture : public ::testing::Test {
 protected:
  // Tests adjust the configuration before the server starts.
  virtual void Configure(server::ServerConfig& config) {}

  void SetUp() override {
    server::ServerConfig config;
    config.plain_http = true;
    config.data_dir = dir_.path() + "/data";
    config.http.port = 0;
    config.http.io_threads = 2;
    config.http.worker_threads = 4;
    config.api.software_version = "test";
    // Under tests/support/pg_run the same tests run on PostgreSQL, one schema per test.
    if (const char* store = std::getenv("CLINSHUB_TEST_STORE")) {
      config.store = std::string(store) + "&schema=t_" + dir_.path().substr(dir_.path().size() - 6);
    }
    Configure(config);
    auto app = server::ServerApp::Start(config, logger_);
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(app).value();
    client_ = std::make_unique<HttpClient>("127.0.0.1", app_->port());
  }

  HttpResponse Must(Result<HttpResponse> r) {
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : HttpResponse{};
  }
  fhir::Value Json(const HttpResponse& r) {
    auto v = fhir::ParseJson(r.body);
    EXPECT_TRUE(v.ok()) << r.body;
    return v.ok() ? std::move(v).value() : fhir::Value();
  }

  TempDir dir_;
  spdlog::logger logger_{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  std::unique_ptr<server::ServerApp> app_;
  std::unique_ptr<HttpClient> client_;
};

}  // namespace clinshub::testing
