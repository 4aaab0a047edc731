// FHIR REST behaviour through the real server, store and wire format.
#include <gtest/gtest.h>

#include <map>
#include <spdlog/sinks/null_sink.h>

#include <csignal>
#include <cstdio>
#include <sys/wait.h>
#include <unistd.h>

#include "fhir/json.h"
#include "server/server_app.h"
#include "support/http_client.h"
#include "support/temp_dir.h"
#include "server_fixture.h"

namespace clinshub {
namespace {

using testing::HttpClient;
using testing::HttpResponse;
using testing::RawSocket;
using testing::TempDir;

// Generous: only guards against hangs, never measures anything.
constexpr std::chrono::seconds kHangGuard{20};

class HttpIntegrationTest : public testing::ServerFixture {
 protected:
  void Configure(server::ServerConfig& config) override {
    config.http.header_timeout = std::chrono::milliseconds(300);
    // The generic FHIR interactions, on a non-clinical type the operator manages.
    config.api.read_types = {"Bundle", "Location"};
    config.api.write_types = {"Location"};
  }
  void SetUp() override {
    ServerFixture::SetUp();
    client_->SetDefaultHeaders(AsOperator());
  }
};

TEST_F(HttpIntegrationTest, MetadataDescribesTheServer) {
  HttpResponse r = Must(client_->Get("/metadata"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Type"), "application/fhir+json; charset=utf-8");
  fhir::Value cs = Json(r);
  EXPECT_EQ(cs.StringAt("resourceType"), "CapabilityStatement");
  EXPECT_EQ(cs.StringAt("fhirVersion"), "4.0.1");
  EXPECT_EQ(cs.Find("software")->StringAt("name"), "clinshub");
  const auto& resources = cs.Find("rest")->items()[0].Find("resource")->items();
  std::map<std::string, const fhir::Value*> by_type;
  for (const fhir::Value& r : resources) by_type[std::string(r.StringAt("type"))] = &r;
  std::vector<std::string> types;
  for (const auto& [type, r] : by_type) types.push_back(type);
  EXPECT_EQ(types, (std::vector<std::string>{"AllergyIntolerance", "AuditEvent", "Bundle",
                                             "Condition", "Consent", "Location",
                                             "MedicationRequest", "Observation", "Organization",
                                             "Patient"}));
  EXPECT_EQ(by_type["Bundle"]->StringAt("conditionalDelete"), "single");
  // $restore, $status, $inbox, $referral-consent, $notify, $notification-status
  EXPECT_EQ(by_type["Bundle"]->Find("operation")->items().size(), 6u);
  EXPECT_EQ(by_type["Location"]->Find("interaction")->items().size(), 6u);
  // $summary, $notification-draft
  EXPECT_EQ(by_type["Patient"]->Find("operation")->items().size(), 2u);
}

TEST_F(HttpIntegrationTest, ResourceLifecycle) {
  std::string v1 = R"({"resourceType":"Location","id":"org-1","name":"東京病院"})";
  HttpResponse created = Must(client_->SendJson("PUT", "/Location/org-1", v1));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Header("ETag"), "W/\"1\"");
  EXPECT_NE(created.Header("Location").find("/Location/org-1/_history/1"), std::string::npos);
  EXPECT_EQ(Json(created).Find("meta")->StringAt("versionId"), "1");

  HttpResponse read = Must(client_->Get("/Location/org-1"));
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(read.Header("ETag"), "W/\"1\"");
  EXPECT_FALSE(read.Header("Last-Modified").empty());
  EXPECT_EQ(Json(read).StringAt("name"), "東京病院");

  std::string v2 = R"({"resourceType":"Location","id":"org-1","name":"大阪病院"})";
  HttpResponse updated =
      Must(client_->SendJson("PUT", "/Location/org-1", v2, {{"If-Match", "W/\"1\""}}));
  EXPECT_EQ(updated.status, 200);
  EXPECT_EQ(updated.Header("ETag"), "W/\"2\"");
  EXPECT_EQ(Must(client_->SendJson("PUT", "/Location/org-1", v2, {{"If-Match", "W/\"1\""}}))
                .status,
            412);
  EXPECT_EQ(Must(client_->Get("/Location/org-1", {{"If-None-Match", "W/\"2\""}})).status,
            304);
  EXPECT_EQ(Must(client_->Get("/Location/org-1", {{"If-None-Match", "W/\"1\""}})).status,
            200);

  HttpResponse old = Must(client_->Get("/Location/org-1/_history/1"));
  EXPECT_EQ(old.status, 200);
  EXPECT_EQ(Json(old).StringAt("name"), "東京病院");

  HttpResponse history = Must(client_->Get("/Location/org-1/_history"));
  ASSERT_EQ(history.status, 200);
  fhir::Value bundle = Json(history);
  EXPECT_EQ(bundle.StringAt("type"), "history");
  const auto& entries = bundle.Find("entry")->items();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].Find("response")->StringAt("etag"), "W/\"2\"");
  EXPECT_EQ(entries[1].Find("response")->StringAt("etag"), "W/\"1\"");
  EXPECT_EQ(entries[0].Find("request")->StringAt("method"), "PUT");

  HttpResponse deleted = Must(client_->Send("DELETE", "/Location/org-1"));
  EXPECT_EQ(deleted.status, 204);
  EXPECT_EQ(Must(client_->Get("/Location/org-1")).status, 410);
  EXPECT_EQ(Must(client_->Get("/Location/org-1/_history/3")).status, 410);
  HttpResponse after = Must(client_->Get("/Location/org-1/_history"));
  EXPECT_EQ(Json(after).Find("entry")->items()[0].Find("request")->StringAt("method"), "DELETE");
}

TEST_F(HttpIntegrationTest, CreateAssignsAnId) {
  HttpResponse r = Must(client_->SendJson(
      "POST", "/Location", R"({"resourceType":"Location","id":"ignored","name":"x"})"));
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id(Json(r).StringAt("id"));
  EXPECT_NE(id, "ignored");
  EXPECT_NE(r.Header("Location").find("/Location/" + id + "/_history/1"), std::string::npos);
  EXPECT_EQ(Must(client_->Get("/Location/" + id)).status, 200);
}

TEST_F(HttpIntegrationTest, ErrorStatuses) {
  const std::string org = R"({"resourceType":"Location","id":"o1"})";
  const struct {
    std::string method, target, content_type, accept, body;
    int status;
  } cases[] = {
      {"GET", "/Location/never", "", "", "", 404},
      {"GET", "/Unknown/1", "", "", "", 404},
      {"GET", "/Location/bad_id", "", "", "", 400},
      {"GET", "/Location/..%2F..%2Fetc%2Fpasswd", "", "", "", 400},
      {"PATCH", "/Location/o1", "", "", "", 405},
      {"GET", "/metadata", "", "application/fhir+xml", "", 406},
      {"GET", "/metadata?_format=xml", "", "", "", 406},
      {"PUT", "/Location/o1", "application/fhir+xml", "", "<Location/>", 415},
      {"PUT", "/Location/o1", "application/fhir+json", "", "{not json", 400},
      {"PUT", "/Location/o2", "application/fhir+json", "", org, 400},  // id mismatch
      {"PUT", "/Location/o1", "application/fhir+json", "",
       R"({"resourceType":"Patient","id":"o1"})", 400},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target);
    testing::HeaderList headers;
    if (!c.content_type.empty()) headers.emplace_back("Content-Type", c.content_type);
    if (!c.accept.empty()) headers.emplace_back("Accept", c.accept);
    HttpResponse r = Must(client_->Send(c.method, c.target, headers, c.body));
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(Json(r).StringAt("resourceType"), "OperationOutcome");
  }
  EXPECT_EQ(Must(client_->Send("PATCH", "/Location/o1")).Header("Allow"), "DELETE, GET, PUT");
}

TEST_F(HttpIntegrationTest, HealthzAndMetrics) {
  HttpResponse health = Must(client_->Get("/healthz"));
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(Json(health).StringAt("status"), "ok");
  Must(client_->Get("/metadata"));
  Must(client_->SendJson("PUT", "/Location/m1", R"({"resourceType":"Location","id":"m1"})"));
  HttpResponse metrics = Must(client_->Get("/metrics"));
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find(
                R"(clinshub_http_requests_total{method="GET",route="/metadata",status="200"} 1)"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("clinshub_store_commit_duration_seconds_count 1"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("clinshub_http_open_connections 1"), std::string::npos);
  EXPECT_NE(metrics.body.find("clinshub_http_request_duration_seconds_bucket"),
            std::string::npos);
}

TEST_F(HttpIntegrationTest, KeepAliveServesManyRequestsOnOneConnection) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Must(client_->Get("/metadata")).status, 200);
  EXPECT_EQ(client_->connections_opened(), 1);
}

TEST_F(HttpIntegrationTest, PipelinedRequestsAreAnsweredInOrder) {
  auto sock = RawSocket::Connect(app_->port());
  ASSERT_TRUE(sock.ok());
  ASSERT_TRUE(sock->SendAll(
      "GET /Location/nope HTTP/1.1\r\nHost: x\r\n"
      "X-Test-Client-Subject: CN=operator:test\r\n\r\n"
      "GET /metadata HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto responses = sock->ReadResponses(2, kHangGuard);
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].status, 404);
  EXPECT_EQ(responses[1].status, 200);
}

TEST_F(HttpIntegrationTest, OversizedBodyIs413) {
  std::string body(11 * 1024 * 1024, ' ');
  HttpResponse r = Must(client_->SendJson("PUT", "/Location/big", body));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(Json(r).StringAt("resourceType"), "OperationOutcome");
}

TEST_F(HttpIntegrationTest, AnnouncedHugeBodyIsRefusedWithoutWaitingForIt) {
  auto sock = RawSocket::Connect(app_->port());
  ASSERT_TRUE(sock.ok());
  ASSERT_TRUE(sock->SendAll(
      "PUT /Location/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
      "Content-Length: 1073741824\r\n\r\n{\"resourceType\":"));
  auto responses = sock->ReadResponses(1, kHangGuard);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 413);
  EXPECT_FALSE(responses[0].keep_alive);
}

TEST_F(HttpIntegrationTest, LongUrlIs414AndHugeHeaderIs400) {
  EXPECT_EQ(Must(client_->Get("/Location/x?q=" + std::string(9000, 'a'))).status, 414);
  EXPECT_EQ(Must(client_->Get("/Location/x?q=" + std::string(40000, 'a'))).status, 414);
  EXPECT_EQ(Must(client_->Get("/metadata", {{"X-Big", std::string(20000, 'b')}})).status, 400);
  // The server still serves new connections afterwards.
  HttpClient fresh("127.0.0.1", app_->port());
  EXPECT_EQ(Must(fresh.Get("/metadata")).status, 200);
}

TEST_F(HttpIntegrationTest, SlowHeaderIsCutOffWhileOthersAreServed) {
  auto slow = RawSocket::Connect(app_->port());
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE(slow->SendAll("GET /metadata HTTP/1.1\r\nHost: x\r\n"));  // never finishes
  EXPECT_EQ(Must(client_->Get("/metadata")).status, 200);
  EXPECT_TRUE(slow->WaitForClose(kHangGuard));
  EXPECT_EQ(Must(client_->Get("/metadata")).status, 200);
}

// The real binary: prints its port, serves, and exits 0 on SIGTERM.
TEST(ClinshubBinaryTest, ServesAndShutsDownGracefullyOnSigterm) {
  TempDir dir;
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    std::string binary = std::string(CLINSHUB_BINARY_DIR) + "/clinshub";
    std::string data = dir.path() + "/data";
    execl(binary.c_str(), binary.c_str(), "serve", "--port", "0", "--plain-http", "--data",
          data.c_str(), "--log-level", "warn", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  FILE* stdout_pipe = fdopen(out[0], "r");
  char line[256] = {};
  ASSERT_NE(fgets(line, sizeof line, stdout_pipe), nullptr);
  std::string text(line);
  const std::string prefix = "clinshub listening on http://127.0.0.1:";
  ASSERT_EQ(text.rfind(prefix, 0), 0u) << text;
  uint16_t port = static_cast<uint16_t>(std::stoi(text.substr(prefix.size())));

  {
    HttpClient client("127.0.0.1", port);
    auto r = client.Get("/metadata");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200);
    // Without a certificate (and no trusted proxy header configured) nothing is served.
    auto anonymous = client.Get("/Bundle/some-id");
    ASSERT_TRUE(anonymous.ok());
    EXPECT_EQ(anonymous->status, 401);
    // An idle keep-alive connection stays open across the signal; shutdown must close it.
    ASSERT_EQ(kill(pid, SIGTERM), 0);
    int status = 0;
    pid_t waited = 0;
    for (int i = 0; i < 200 && waited == 0; ++i) {  // hang guard: 20 s
      waited = waitpid(pid, &status, WNOHANG);
      if (waited == 0) usleep(100'000);
    }
    if (waited == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      FAIL() << "clinshub did not exit after SIGTERM";
    }
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  fclose(stdout_pipe);
  EXPECT_FALSE(RawSocket::Connect(port).ok()) << "still listening after shutdown";
}

}  // namespace
}  // namespace clinshub
