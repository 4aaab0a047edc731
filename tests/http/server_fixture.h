// Starts the real server in-process on 127.0.0.1:0 over plain HTTP with a temp data directory,
// and gives a client and small response helpers. Shared by the HTTP integration tests.
//
// Identities: the server trusts kSubjectHeader as a TLS proxy's verified client subject (the
// --trusted-subject-header deployment), so a test acts as any institution, the portal or the
// operator by header. The client sends kDefaultInstitution's identity unless a call says
// otherwise (As(), AsPortal(), AsOperator()). Real-certificate tests are in access_tls_test.
// Enrol*() seed the directory and roster straight into the store.
#pragma once

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <cstdlib>
#include <functional>
#include <memory>

#include "fhir/json.h"
#include "generator/generator.h"
#include "common/japanese_text.h"
#include "server/server_app.h"
#include "store/store.h"
#include "support/http_client.h"
#include "support/temp_dir.h"

namespace clinshub::testing {

inline constexpr char kSubjectHeader[] = "X-Test-Client-Subject";
inline constexpr char kDefaultInstitution[] = "1311234567";

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
    config.api.trusted_subject_header = kSubjectHeader;
    Configure(config);
    auto app = server::ServerApp::Start(config, logger_, clock_);
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(app).value();
    client_ = std::make_unique<HttpClient>("127.0.0.1", app_->port());
    client_->SetDefaultHeaders(As(kDefaultInstitution));
    EnrolInstitution(kDefaultInstitution);
  }

  // Headers acting as an institution / the patient portal / an operator.
  static HeaderList As(const std::string& institution_code, HeaderList more = {}) {
    more.emplace_back(kSubjectHeader, "CN=" + institution_code + ",O=Test,C=JP");
    return more;
  }
  static HeaderList AsPortal(HeaderList more = {}) {
    more.emplace_back(kSubjectHeader, "CN=portal:mynaportal,O=clinshub,C=JP");
    return more;
  }
  static HeaderList AsOperator(HeaderList more = {}) {
    more.emplace_back(kSubjectHeader, "CN=operator:test,O=clinshub,C=JP");
    return more;
  }
  static HeaderList Anonymous() { return {{kSubjectHeader, ""}}; }

  void Commit(store::WriteOp op) {
    store::WriteBatch batch;
    batch.ops.push_back(std::move(op));
    auto r = app_->store().Commit(std::move(batch));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  void EnrolInstitution(const std::string& code, bool emergency = false, bool active = true) {
    store::InstitutionRecord r;
    r.code = code;
    r.name = "テスト医療機関" + code;
    r.kana = "テストイリョウキカン";
    r.kind = "hospital";
    r.emergency_permitted = emergency;
    r.active = active;
    Commit(store::PutInstitution{r});
  }
  void EnrolPatient(const std::string& system, const std::string& value,
                    const std::string& person_key, const std::string& from = "2000-01-01",
                    const std::string& to = "") {
    Commit(store::PutRosterEntry{{system, NormaliseIdentifier(value), person_key, from, to}});
  }
  // Every person's identifiers (person key "P<index>") and every institution of a generator.
  void EnrolPopulation(const generator::Generator& gen) {
    for (const generator::Institution& i : gen.population().institutions) {
      EnrolInstitution(i.code, i.emergency_permission);
    }
    for (const generator::Person& p : gen.population().persons) {
      for (const generator::HeldIdentifier& h : p.identifiers) {
        EnrolPatient(h.system, h.value, "P" + std::to_string(p.index), h.from, h.to);
      }
    }
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
  // Tests that move time set this (before SetUp) to a clock they own; null: the system clock.
  const Clock* clock_ = nullptr;
};

}  // namespace clinshub::testing
