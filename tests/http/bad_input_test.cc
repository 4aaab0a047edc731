// Hostile and broken input through the real server: every case gets the right 4xx (or a
// closed connection) within a bounded time, the server keeps answering other clients while
// the hostile connection is open, and the stored data is unchanged afterwards.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "fhir/json.h"
#include "generator/generator.h"
#include "server_fixture.h"
#include "store_snapshot.h"
#include "support/http_client.h"

namespace clinshub {
namespace {

using testing::HttpClient;
using testing::HttpResponse;
using testing::RawSocket;

// Only guards against hangs; every case should be answered long before it.
constexpr std::chrono::seconds kBound{20};
constexpr int kClosed = 0;  // expected "status": the server closes without an answer
constexpr int kRefused = -1;  // any 4xx: which one depends on the route, not on the input
constexpr int kAnswered = -2;  // any answer but a 5xx

// Raw requests act as the operator (who may write the directory), so that what is refused is
// refused for the input, not for the caller.
constexpr char kOperator[] = "X-Test-Client-Subject: CN=operator:test,O=clinshub,C=JP\r\n";
// A directory entry (Organization) the bad writes aim at, and one that exists.
constexpr char kTargetOrg[] = "/Organization/1399999999";
constexpr char kExistingOrg[] = "/Organization/1311234567";  // ServerFixture enrols it

// Submissions act as the institution the fixture enrols.
constexpr char kInstitution[] = "X-Test-Client-Subject: CN=1311234567,O=Test,C=JP\r\n";

std::string Raw(std::string_view method, std::string_view target, std::string_view content_type,
                std::string_view body, std::string_view extra_headers = "",
                std::string_view subject = kOperator) {
  std::string r = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n";
  r += subject;
  if (!content_type.empty()) r += "Content-Type: " + std::string(content_type) + "\r\n";
  r += std::string(extra_headers);
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  r += body;
  return r;
}
std::string PutOrg(std::string_view body, std::string_view type = "application/fhir+json") {
  return Raw("PUT", kTargetOrg, type, body);
}
std::string PostBundle(std::string_view body) {
  return Raw("POST", "/Bundle", "application/fhir+json", body, "", kInstitution);
}
std::string Org(std::string_view name_json) {
  return R"({"resourceType":"Organization","id":"1399999999","name":)" + std::string(name_json) + "}";
}
std::string Nested(char open, char close, size_t depth) {
  std::string s = R"({"resourceType":"Organization","id":"1399999999","extension":)";
  for (size_t i = 0; i < depth; ++i) s += open == '{' ? std::string("{\"a\":") : std::string(1, open);
  s += "1";
  for (size_t i = 0; i < depth; ++i) s += close;
  return s + "}";
}

struct RawCase {
  std::string name;
  std::string request;
  int status;  // kClosed: no answer, the connection is closed
};

class BadInputTest : public testing::ServerFixture {
 protected:
  void Configure(server::ServerConfig& config) override {
    config.http.header_timeout = std::chrono::milliseconds(300);
    config.http.body_timeout = std::chrono::milliseconds(500);
    config.http.idle_timeout = std::chrono::milliseconds(1'000);
    config.http.linger_timeout = std::chrono::milliseconds(500);
  }

  void SetUp() override {
    ServerFixture::SetUp();
    generator::Generator gen{generator::GeneratorOptions{.seed = 3, .persons = 1}};
    EnrolPopulation(gen);
    auto submissions = gen.SubmissionsFor(gen.population().persons[0]);
    ASSERT_FALSE(submissions.empty());
    HttpResponse r = Must(client_->SendJson("POST", "/Bundle", fhir::WriteJson(submissions[0].bundle),
                                            As(submissions[0].institution_code)));
    ASSERT_EQ(r.status, 201) << r.body;
    before_ = Snapshot();
    ASSERT_GT(before_.size(), 4u);
  }

  // Every stored row but the audit trail's, which records each refused request by design.
  std::vector<std::string> Snapshot() {
    std::vector<std::string> rows = testing::StoreSnapshot(dir_.path() + "/data");
    std::erase_if(rows, [](const std::string& row) { return row.rfind("audit|", 0) == 0; });
    return rows;
  }

  // Another client, on its own connection, is served.
  void ExpectOthersServed() {
    HttpClient other("127.0.0.1", app_->port());
    EXPECT_EQ(Must(other.Get("/healthz")).status, 200);
  }

  // Sends the case, checks the server still serves others while this connection is open,
  // then checks the answer.
  void Run(const RawCase& c) {
    SCOPED_TRACE(c.name);
    auto sock = RawSocket::Connect(app_->port());
    ASSERT_TRUE(sock.ok());
    sock->SendAll(c.request);  // may fail half-way when the server refuses early
    ExpectOthersServed();
    if (c.status == kClosed) {
      EXPECT_TRUE(sock->WaitForClose(kBound));
      return;
    }
    auto responses = sock->ReadResponses(1, kBound);
    ASSERT_EQ(responses.size(), 1u) << "no answer";
    if (c.status == kAnswered) {
      EXPECT_LT(responses[0].status, 500) << responses[0].body.substr(0, 500);
    } else if (c.status == kRefused) {
      EXPECT_TRUE(responses[0].status >= 400 && responses[0].status < 500)
          << responses[0].status << " " << responses[0].body.substr(0, 500);
    } else {
      EXPECT_EQ(responses[0].status, c.status) << responses[0].body.substr(0, 500);
    }
    if (c.status >= 400 || c.status == kRefused) {
      EXPECT_NE(responses[0].body.find("OperationOutcome"), std::string::npos)
          << responses[0].body.substr(0, 500);
    }
  }

  void RunAll(const std::vector<RawCase>& cases) {
    for (const RawCase& c : cases) Run(c);
    ExpectStoreUnchanged();
  }

  // Names the rows that differ (shortened) instead of printing two whole stores.
  void ExpectStoreUnchanged() {
    std::vector<std::string> after = Snapshot();
    if (after == before_) return;
    std::string diff;
    for (const std::string& row : after) {
      if (!std::binary_search(before_.begin(), before_.end(), row)) {
        diff += "+ " + row.substr(0, 200) + "\n";
      }
    }
    for (const std::string& row : before_) {
      if (!std::binary_search(after.begin(), after.end(), row)) {
        diff += "- " + row.substr(0, 200) + "\n";
      }
    }
    ADD_FAILURE() << "the store changed:\n" << diff;
  }

  std::vector<std::string> before_;
};

TEST_F(BadInputTest, BrokenJsonBodiesAre400) {
  RunAll({
      {"malformed JSON", PutOrg(R"({"resourceType":"Organization",)"), 400},
      {"JSON truncated inside a string", PutOrg(R"({"resourceType":"Organization","name":"ab)"),
       400},
      {"empty body", PutOrg(""), 400},
      {"not an object", PutOrg("[]"), 400},
      {"bare string", PostBundle(R"("Bundle")"), 400},
      {"null", PostBundle("null"), 400},
      {"trailing garbage", PutOrg(Org(R"("a")") + "}}"), 400},
      {"invalid UTF-8", PutOrg(Org("\"\xff\xfe\"")), 400},
      {"overlong UTF-8 for '/'", PutOrg(Org("\"\xc0\xaf\"")), 400},
      {"overlong UTF-8 NUL", PutOrg(Org("\"a\xc0\x80\"")), 400},
      {"UTF-8 encoded surrogate", PutOrg(Org("\"\xed\xa0\x80\"")), 400},
      {"truncated UTF-8 sequence", PutOrg(Org("\"\xe6\x9d\"")), 400},
      {"raw NUL byte in a string", PutOrg(Org(std::string("\"a\0b\"", 5))), 400},
      {"raw NUL byte between tokens", PutOrg(std::string("{\0}", 3)), 400},
      {"escaped NUL in a string", PutOrg(Org(R"("a\u0000b")")), 400},
      {"lone escaped surrogate", PutOrg(Org(R"("\ud800")")), 400},
      {"duplicate keys", PutOrg(R"({"resourceType":"Organization","name":"a","name":"b"})"), 400},
      {"duplicate resourceType",
       PutOrg(R"({"resourceType":"Organization","resourceType":"Patient"})"), 400},
      {"100,000-deep arrays", PutOrg(Nested('[', ']', 100'000)), 400},
      {"100,000-deep objects", PutOrg(Nested('{', '}', 100'000)), 400},
      {"100,000-deep bundle", PostBundle(Nested('[', ']', 100'000)), 400},
      {"huge integer", PutOrg(R"({"resourceType":"Organization","extension":[{"url":"http://x",)"
                              R"("valueInteger":99999999999999999999999999}]})"),
       400},
      {"huge exponent", PutOrg(R"({"resourceType":"Organization","extension":[{"url":"http://x",)"
                               R"("valueInteger":1e999999999}]})"),
       400},
      {"number where a boolean belongs", PutOrg(R"({"resourceType":"Organization","active":1e400})"),
       400},
      {"wrong resource type in body", PutOrg(R"({"resourceType":"Patient","id":"1399999999"})"), 400},
      {"unknown element", PutOrg(R"({"resourceType":"Organization","hack":"x"})"), 400},
  });
}

TEST_F(BadInputTest, WrongOrMissingContentTypeIs415) {
  std::string body = Org(R"("a")");
  RunAll({
      {"text/plain", PutOrg(body, "text/plain"), 415},
      {"XML", PutOrg(body, "application/fhir+xml"), 415},
      {"missing", PutOrg(body, ""), 415},
      {"another charset", PutOrg(body, "application/fhir+json; charset=iso-8859-1"), 415},
      {"garbage media type", PutOrg(body, ";;;==="), 415},
      {"bundle as form data", Raw("POST", "/Bundle", "application/x-www-form-urlencoded", "a=b"),
       415},
  });
}

TEST_F(BadInputTest, BrokenFramingIsRefusedOrClosed) {
  const std::string head = "PUT /Organization/1399999999 HTTP/1.1\r\nHost: x\r\n"
                           "Content-Type: application/fhir+json\r\n" + std::string(kOperator);
  std::string eleven_mb(11 * 1024 * 1024, ' ');
  std::string chunked_11mb = head + "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 11; ++i) {
    chunked_11mb += "100000\r\n" + std::string(0x100000, ' ') + "\r\n";
  }
  chunked_11mb += "0\r\n\r\n";
  RunAll({
      {"1 GB Content-Length with a short body",
       head + "Content-Length: 1073741824\r\n\r\n{\"resourceType\":", 413},
      {"11 MB body", PutOrg(eleven_mb), 413},
      {"11 MB chunked body", chunked_11mb, 413},
      {"Content-Length beyond 64 bits", head + "Content-Length: 99999999999999999999999\r\n\r\n{}",
       400},
      {"negative Content-Length", head + "Content-Length: -1\r\n\r\n{}", 400},
      {"two different Content-Lengths",
       head + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400},
      {"bad chunk size", head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400},
      {"unknown transfer coding", head + "Transfer-Encoding: gzip\r\n\r\n{}", 400},
      {"body shorter than its Content-Length, then silence",
       head + "Content-Length: 100\r\n\r\n{\"resourceType\":", kClosed},
      {"chunked body that never ends", head + "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n",
       kClosed},
      {"NUL in the request line", std::string("GET /meta\0data HTTP/1.1\r\nHost: x\r\n\r\n", 36),
       400},
      {"NUL in a header value", std::string("GET /metadata HTTP/1.1\r\nX-A: a\0b\r\n\r\n", 36),
       400},
      {"header without a colon", "GET /metadata HTTP/1.1\r\nHost x\r\n\r\n", 400},
      {"HTTP/0.9 request", "GET /metadata\r\n\r\n", 400},
      {"TLS ClientHello on the plain port", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + "\r\n\r\n", 400},
      {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400},
  });
}

TEST_F(BadInputTest, OversizedRequestLinesAndHeadersAreRefused) {
  std::string many_params = std::string(kExistingOrg) + "?";
  for (int i = 0; i < 10'000; ++i) many_params += "a" + std::to_string(i) + "=1&";
  std::string many_headers = "GET /metadata HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 10'000; ++i) many_headers += "X-A" + std::to_string(i) + ": b\r\n";
  RunAll({
      {"10,000 query parameters", Raw("GET", many_params, "", ""), 414},
      {"100 KB URL", Raw("GET", "/Organization/" + std::string(100'000, 'a'), "", ""), 414},
      {"1 MB URL", Raw("GET", "/metadata?x=" + std::string(1'000'000, 'a'), "", ""), 414},
      {"100 KB header", Raw("GET", "/metadata", "", "", "X-Big: " + std::string(100'000, 'b') + "\r\n"),
       400},
      {"10,000 headers", many_headers + "\r\n", 400},
  });
}

// With the URL limit raised, the query parser itself copes with 10,000 parameters.
class ManyParametersTest : public BadInputTest {
 protected:
  void Configure(server::ServerConfig& config) override {
    BadInputTest::Configure(config);
    config.http.max_url_bytes = 1024 * 1024;
    config.http.max_header_bytes = 1024 * 1024;
  }
};

TEST_F(ManyParametersTest, TenThousandQueryParametersAreParsedAndAnswered) {
  std::string query;
  for (int i = 0; i < 10'000; ++i) query += "identifier=" + std::to_string(i) + "&";
  RunAll({
      {"read with 10,000 parameters", Raw("GET", std::string(kExistingOrg) + "?" + query, "", ""),
       kAnswered},
      {"search with 10,000 parameters", Raw("GET", "/Organization?" + query, "", ""), kAnswered},
      {"withdraw with 10,000 identifiers", Raw("DELETE", "/Bundle?" + query, "", ""), kRefused},
  });
}

TEST_F(BadInputTest, PathTraversalInIdsIsRefused) {
  std::string body = Org(R"("a")");
  RunAll({
      {"encoded ../ in a read", Raw("GET", "/Organization/..%2F..%2Fetc%2Fpasswd", "", ""), kRefused},
      {"literal ../ segments", Raw("GET", "/Organization/../../etc/passwd", "", ""), kRefused},
      {"dot-dot id", Raw("GET", "/Organization/%2e%2e", "", ""), kRefused},
      {"encoded NUL in an id", Raw("GET", "/Organization/1311234567%00.json", "", ""), kRefused},
      {"backslashes", Raw("GET", "/Organization/..%5C..%5Cwindows", "", ""), kRefused},
      {"traversal in a version id", Raw("GET", "/Organization/1311234567/_history/..%2F1", "", ""),
       kRefused},
      {"traversal in a written id", Raw("PUT", "/Organization/..%2Fevil", "application/fhir+json", body),
       400},
      {"traversal in a deleted id", Raw("DELETE", "/Organization/..%2F1311234567", "", ""), kRefused},
      {"absolute path as id", Raw("GET", "/Organization/%2Fetc%2Fpasswd", "", ""), kRefused},
      {"absolute-form target", Raw("GET", "http://evil/../../etc/passwd", "", ""), 400},
      {"asterisk target", Raw("GET", "*", "", ""), 400},
  });
}

// Statuses a refusal may legitimately take: bad syntax, not found, unacceptable, gone.
bool IsRefusal(int status) { return status >= 400 && status < 500; }

TEST_F(BadInputTest, SqlMetacharactersInEveryParameterChangeNothing) {
  const std::vector<std::string> payloads = {
      "'", "\"", "' OR '1'='1", "1' OR 1=1--", "'; DROP TABLE resources; --",
      "x\"; DELETE FROM units; --", "%", "_", "*", "\\", "1; SELECT sqlite_version()",
      "x' UNION SELECT * FROM sqlite_master--", "1311234567'--", "1311234567%",
  };
  auto encode = [](std::string_view s) {
    std::string out;
    char buf[4];
    for (unsigned char c : s) {
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
    return out;
  };
  for (const std::string& p : payloads) {
    std::string e = encode(p);
    std::vector<std::string> targets = {
        "GET /Organization/" + e,
        "GET /Organization/1311234567/_history/" + e,
        "GET /Organization/" + e + "/_history",
        "DELETE /Organization/" + e,
        "DELETE /Bundle?identifier=" + e,
        "DELETE /Bundle?identifier=urn:x%7C" + e + "&patient.identifier=" + e,
        "GET /Bundle/$status?identifier=" + e,
        "GET /Bundle/$status?identifier=urn:x%7C" + e,
        "POST /Bundle/$restore?identifier=urn:x%7C" + e + "&patient.identifier=urn:y%7C" + e,
        "GET /Organization/1311234567?_format=" + e,
        "GET /" + e,
        "GET /" + e + "/1311234567",
    };
    for (const std::string& t : targets) {
      SCOPED_TRACE(p + " in " + t);
      size_t space = t.find(' ');
      HttpResponse r = Must(client_->Send(t.substr(0, space), t.substr(space + 1),
                                          {{"Content-Type", "application/fhir+json"}}));
      EXPECT_TRUE(IsRefusal(r.status)) << r.status << " " << r.body;
    }
    // In a header the server reads.
    HttpResponse r = Must(client_->Get("/Organization/1311234567", {{"Accept", p}, {"If-None-Match", p}}));
    EXPECT_TRUE(r.status == 200 || IsRefusal(r.status)) << p << ": " << r.status;
  }
  ExpectOthersServed();
  ExpectStoreUnchanged();
  EXPECT_EQ(Must(client_->Get("/Organization/1311234567")).status, 200);
}

TEST_F(BadInputTest, SqlMetacharactersInValuesAreStoredVerbatim) {
  std::string name = "Robert'); DROP TABLE resources;-- \\\" %_*";
  std::string body = R"({"resourceType":"Organization","id":"1311234567","name":)" +
                     fhir::WriteJson(fhir::Value::String(name)) + R"(,"alias":["テスト"],"type":[{"coding":[{"system":)"
                     R"("http://clinshub.example/fhir/CodeSystem/institution-kind","code":"hospital"}]}]})";
  HttpResponse put = Must(client_->SendJson("PUT", "/Organization/1311234567", body, AsOperator()));
  ASSERT_EQ(put.status, 200) << put.body;
  HttpResponse r = Must(client_->Get("/Organization/1311234567"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Json(r).StringAt("name"), name);
  EXPECT_EQ(Must(client_->Get("/Organization/1311234567")).status, 200);
}

TEST_F(BadInputTest, SlowLorisConnectionsAreCutOffWhileOthersAreServed) {
  constexpr int kSlow = 50;
  std::vector<RawSocket> slow;
  for (int i = 0; i < kSlow; ++i) {
    auto s = RawSocket::Connect(app_->port());
    ASSERT_TRUE(s.ok());
    slow.push_back(std::move(s).value());
  }
  // Half dribble a header, half dribble a body, one byte at a time.
  std::string header = "GET /metadata HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  std::string body_head = PutOrg(std::string(1000, ' ')).substr(0, 120);
  auto deadline = std::chrono::steady_clock::now() + kBound;
  size_t sent = 0;
  int open = kSlow;
  while (open > 0 && std::chrono::steady_clock::now() < deadline) {
    open = 0;
    for (int i = 0; i < kSlow; ++i) {
      const std::string& msg = i % 2 == 0 ? header : body_head;
      char c = sent < msg.size() ? msg[sent] : 'x';
      if (slow[i].SendAll(std::string_view(&c, 1))) ++open;
    }
    ++sent;
    if (sent % 10 == 0) ExpectOthersServed();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (RawSocket& s : slow) EXPECT_TRUE(s.WaitForClose(kBound));
  ExpectOthersServed();
  ExpectStoreUnchanged();
}

TEST_F(BadInputTest, AThousandIdleConnectionsDoNotStopService) {
  constexpr int kIdle = 1000;
  std::vector<RawSocket> idle;
  idle.reserve(kIdle);
  for (int i = 0; i < kIdle; ++i) {
    auto s = RawSocket::Connect(app_->port());
    ASSERT_TRUE(s.ok()) << "connection " << i << ": " << s.status().ToString();
    idle.push_back(std::move(s).value());
  }
  ExpectOthersServed();
  EXPECT_EQ(Must(client_->Get("/metadata")).status, 200);
  // The idle timeout reclaims every one of them.
  for (RawSocket& s : idle) ASSERT_TRUE(s.WaitForClose(kBound));
  ExpectOthersServed();
  ExpectStoreUnchanged();
}

}  // namespace
}  // namespace clinshub
