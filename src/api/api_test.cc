#include "api/api.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <stdexcept>

#include "fhir/json.h"

namespace clinshub::api {
namespace {

// Enough of a Store to drive the API's own logic; the real store is exercised in tests/http.
class FakeStore final : public store::Store {
 public:
  Result<store::ResourceVersion> Read(const std::string& type, const std::string& id) override {
    if (id == "gone") return Status::Error(ErrorCode::kGone, "deleted", "deleted");
    if (id != "known") return NotFoundError(type + "/" + id + " not found");
    return store::ResourceVersion{type, id, 3, Timestamp(std::chrono::seconds(1700000000)),
                                  false, R"({"resourceType":"Basic","id":"known"})"};
  }
  Result<store::ResourceVersion> ReadVersion(const std::string& type, const std::string& id,
                                             int64_t) override {
    return Read(type, id);
  }
  Result<std::vector<store::ResourceVersion>> History(const std::string&, const std::string&,
                                                      size_t) override {
    return NotFoundError("none");
  }
  Result<store::CommitResult> Commit(store::WriteBatch) override {
    throw std::runtime_error("secret driver detail");
  }
  Status Ping() override { return ping; }

  Status ping;
};

class ApiTest : public ::testing::Test {
 protected:
  ApiTest()
      : logger_("test", std::make_shared<spdlog::sinks::null_sink_mt>()),
        clock_(Timestamp(std::chrono::seconds(1800000000))),
        ids_("id"),
        api_(MakeConfig(), store_, clock_, ids_, metrics_, logger_) {}

  static ApiConfig MakeConfig() {
    ApiConfig config;
    config.software_version = "9.9.9";
    config.read_types = {"Basic", "Patient"};
    config.write_types = {"Basic"};
    return config;
  }

  Response Send(std::string method, std::string target,
                std::vector<std::pair<std::string, std::string>> headers = {},
                std::string body = {}) {
    Request r;
    r.method = std::move(method);
    r.client = ClientIdentity{"CN=operator:test,O=clinshub,C=JP"};  // generic types: operator only
    r.target = std::move(target);
    for (auto& [n, v] : headers) r.headers.Add(n, v);
    r.body = std::move(body);
    return api_.Handle(std::move(r));
  }

  spdlog::logger logger_;
  ManualClock clock_;
  SequentialIdGenerator ids_;
  Metrics metrics_;
  FakeStore store_;
  Api api_;
};

TEST_F(ApiTest, StatusCodesForRoutingAndNegotiation) {
  const struct {
    std::string method, target, header, value;
    int status;
  } cases[] = {
      {"GET", "/Basic/known", "", "", 200},
      {"GET", "/Basic/missing", "", "", 404},
      {"GET", "/Basic/gone", "", "", 410},
      {"GET", "/Basic/a_b", "", "", 400},
      {"GET", "/Basic/..%2Fsecret", "", "", 400},
      {"GET", "/Foo/1", "", "", 404},
      {"GET", "/nothing/here/at/all", "", "", 404},
      {"PUT", "/Patient/p1", "Content-Type", "application/fhir+json", 405},
      {"PATCH", "/metadata", "", "", 405},
      {"GET", "/Basic/known", "Accept", "application/fhir+xml", 406},
      {"GET", "/Basic/known?_format=xml", "", "", 406},
      {"GET", "/Basic/known", "Accept", "text/html, */*;q=0.1", 200},
      {"PUT", "/Basic/o1", "Content-Type", "application/xml", 415},
      {"POST", "/Basic", "", "", 400},  // no body at all: nothing to type
      {"GET", "/Basic/known", "If-None-Match", "W/\"3\"", 304},
      {"GET", "/Basic/known", "If-None-Match", "W/\"2\"", 200},
      {"GET", "/Basic/known", "If-Modified-Since", "Tue, 14 Nov 2023 22:13:20 GMT", 304},
      {"GET", "/Basic/known", "If-Modified-Since", "Tue, 14 Nov 2023 22:13:19 GMT", 200},
      {"GET", "/metrics", "Accept", "text/plain;version=0.0.4", 200},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target + " " + c.header + ": " + c.value);
    std::vector<std::pair<std::string, std::string>> headers;
    if (!c.header.empty()) headers.emplace_back(c.header, c.value);
    Response r = Send(c.method, c.target, headers);
    EXPECT_EQ(r.status, c.status) << r.body;
    if (c.status >= 400) { EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos); }
  }
}

TEST_F(ApiTest, MethodNotAllowedListsAllowedMethods) {
  Response r = Send("POST", "/Basic/o1");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.Get("Allow"), "DELETE, GET, PUT");
}

TEST_F(ApiTest, ReadSetsETagAndLastModified) {
  Response r = Send("GET", "/Basic/known");
  EXPECT_EQ(r.headers.Get("ETag"), "W/\"3\"");
  EXPECT_EQ(r.headers.Get("Last-Modified"), "Tue, 14 Nov 2023 22:13:20 GMT");
  EXPECT_EQ(r.headers.Get("Content-Type"), "application/fhir+json; charset=utf-8");
}

TEST_F(ApiTest, PrettyPrintsOnRequest) {
  Response r = Send("GET", "/Basic/known?_pretty=true");
  EXPECT_NE(r.body.find("\n  \"id\""), std::string::npos) << r.body;
}

TEST_F(ApiTest, ExceptionsBecomeGeneric500) {
  Response r = Send("PUT", "/Basic/o1", {{"Content-Type", "application/fhir+json"}},
                    R"({"resourceType":"Basic","id":"o1"})");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
}

TEST_F(ApiTest, HealthzFollowsStorePing) {
  EXPECT_EQ(Send("GET", "/healthz").status, 200);
  store_.ping = UnavailableError("db away");
  Response r = Send("GET", "/healthz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.headers.Get("Retry-After"), "5");
}

TEST_F(ApiTest, CapabilityStatementListsExactlyTheRegisteredInteractions) {
  Response r = Send("GET", "/metadata");
  ASSERT_EQ(r.status, 200);
  Result<fhir::Value> cs = fhir::ParseJson(r.body);
  ASSERT_TRUE(cs.ok());
  EXPECT_EQ(cs->StringAt("fhirVersion"), "4.0.1");
  EXPECT_EQ(cs->Find("software")->StringAt("version"), "9.9.9");
  const fhir::Value& resources = *cs->Find("rest")->items()[0].Find("resource");
  auto find = [&](std::string_view type) -> const fhir::Value& {
    for (const auto& r : resources.items()) {
      if (r.StringAt("type") == type) return r;
    }
    ADD_FAILURE() << "no " << type;
    return resources.items()[0];
  };
  auto codes = [](const fhir::Value& resource) {
    std::vector<std::string> out;
    for (const auto& i : resource.Find("interaction")->items()) {
      out.emplace_back(i.StringAt("code"));
    }
    return out;
  };
  // Bundle (JP-CLINS submissions), Organization (the directory), Consent, Patient ($summary),
  // AuditEvent, the four searchable clinical types, and the configured types (Basic; Patient's
  // reads merge with $summary).
  ASSERT_EQ(resources.items().size(), 10u);
  for (const char* type : {"Condition", "AllergyIntolerance", "Observation", "MedicationRequest"}) {
    EXPECT_EQ(codes(find(type)), (std::vector<std::string>{"search-type"})) << type;
  }
  EXPECT_EQ(codes(find("Consent")),
            (std::vector<std::string>{"read", "delete", "create", "search-type"}));
  EXPECT_EQ(codes(find("AuditEvent")), (std::vector<std::string>{"search-type"}));
  // JP-CLINS submissions: create on /Bundle, withdrawal as a conditional delete, two operations;
  // read types come from the configuration (this test's configuration has no Bundle reads).
  EXPECT_EQ(codes(find("Bundle")), (std::vector<std::string>{"create", "search-type"}));
  EXPECT_EQ(find("Bundle").StringAt("conditionalDelete"), "single");
  // $restore, $status, $inbox, $referral-consent, $notify, $notification-status.
  EXPECT_EQ(find("Bundle").Find("operation")->items().size(), 6u);
  EXPECT_EQ(codes(find("Organization")),
            (std::vector<std::string>{"read", "update", "search-type"}));
  EXPECT_EQ(codes(find("Basic")),
            (std::vector<std::string>{"read", "vread", "update", "delete", "history-instance",
                                      "create"}));
  EXPECT_EQ(codes(find("Patient")),
            (std::vector<std::string>{"read", "vread", "history-instance"}));
}

TEST_F(ApiTest, MetricsCountRequestsByRoutePattern) {
  Send("GET", "/Basic/known");
  Send("GET", "/Foo/1");
  std::string text = Send("GET", "/metrics").body;
  EXPECT_NE(text.find(R"(clinshub_http_requests_total{method="GET",route="/{type}/{id}",status="200"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(route="unmatched",status="404")"), std::string::npos);
  EXPECT_EQ(text.find("known"), std::string::npos);
}

TEST(ApiConfigTest, RejectsUnknownResourceTypes) {
  ApiConfig config;
  config.write_types = {"Organisation"};
  EXPECT_EQ(ValidateApiConfig(config).code(), ErrorCode::kMalformed);
  EXPECT_TRUE(ValidateApiConfig(ApiConfig{}).ok());
}

}  // namespace
}  // namespace clinshub::api
