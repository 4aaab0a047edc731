#include "api/content_coding.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/gzip.h"

namespace clinshub::api {
namespace {

Request WithHeaders(std::vector<std::pair<std::string, std::string>> fields) {
  Request r;
  for (auto& [name, value] : fields) r.headers.Add(std::move(name), std::move(value));
  return r;
}

TEST(ContentCodingTest, AcceptsGzipTable) {
  const struct {
    std::vector<std::pair<std::string, std::string>> headers;
    bool accepts;
  } cases[] = {
      {{}, false},
      {{{"Accept-Encoding", "gzip"}}, true},
      {{{"accept-encoding", "GZIP"}}, true},
      {{{"Accept-Encoding", "gzip, deflate, br"}}, true},  // Apache HttpClient, browsers
      {{{"Accept-Encoding", "deflate, gzip;q=1.0, *;q=0.5"}}, true},  // curl --compressed
      {{{"Accept-Encoding", "x-gzip"}}, true},
      {{{"Accept-Encoding", "*"}}, true},
      {{{"Accept-Encoding", "identity"}}, false},
      {{{"Accept-Encoding", ""}}, false},
      {{{"Accept-Encoding", "br, deflate"}}, false},
      {{{"Accept-Encoding", "gzip;q=0"}}, false},
      {{{"Accept-Encoding", "gzip; q=0.000"}}, false},
      {{{"Accept-Encoding", "*, gzip;q=0"}}, false},  // explicit refusal beats *
      {{{"Accept-Encoding", "*;q=0"}}, false},
      {{{"Accept-Encoding", "gzip;q=0.2"}}, true},
      {{{"Accept-Encoding", "gzip;q=banana"}}, true},  // lenient: a bad weight counts as 1
      {{{"Accept-Encoding", "br"}, {"Accept-Encoding", "gzip"}}, true},  // two fields
      {{{"Accept-Encoding", "gzipped"}}, false},
  };
  for (const auto& c : cases) {
    std::string trace;
    for (const auto& [n, v] : c.headers) trace += n + ": " + v + "; ";
    SCOPED_TRACE(trace);
    EXPECT_EQ(AcceptsGzip(WithHeaders(c.headers)), c.accepts);
  }
}

std::string Json(size_t n) {
  std::string s = R"({"resourceType":"Bundle","entry":[)";
  while (s.size() < n) s += R"({"resource":{"resourceType":"Condition","id":"c"}},)";
  return s + "{}]}";
}

TEST(ContentCodingTest, LargeBodiesAreGzippedForClientsThatAcceptIt) {
  const std::string body = Json(5000);
  Request gzip_client = WithHeaders({{"Accept-Encoding", "gzip"}});
  Response r;
  r.body = body;
  EncodeResponseBody(gzip_client, true, r);
  EXPECT_EQ(r.headers.Get("Content-Encoding").value_or(""), "gzip");
  EXPECT_EQ(r.headers.Get("Vary").value_or(""), "Accept-Encoding");
  EXPECT_LT(r.body.size(), body.size() / 4);
  Result<std::string> text = Gunzip(r.body, 1 << 20);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, body);
}

TEST(ContentCodingTest, BodiesStayPlainWhenNotAcceptedTooSmallOrTurnedOff) {
  Request gzip_client = WithHeaders({{"Accept-Encoding", "gzip"}});
  Request plain_client;
  struct Case {
    const char* name;
    const Request* request;
    bool enabled;
    size_t size;
    bool vary;
  } cases[] = {
      {"client without Accept-Encoding", &plain_client, true, 5000, true},
      {"small body", &gzip_client, true, 100, false},
      {"compression off", &gzip_client, false, 5000, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Response r;
    r.body = Json(c.size);
    const std::string before = r.body;
    EncodeResponseBody(*c.request, c.enabled, r);
    EXPECT_EQ(r.body, before);
    EXPECT_FALSE(r.headers.Get("Content-Encoding"));
    EXPECT_EQ(r.headers.Get("Vary").has_value(), c.vary);
  }
}

TEST(ContentCodingTest, ABodyAlreadyCodedByItsHandlerIsLeftAsItIs) {
  Request gzip_client = WithHeaders({{"Accept-Encoding", "gzip"}});
  Response r;
  r.body = Gzip(Json(5000));
  r.headers.Set("Content-Encoding", "gzip");
  const std::string before = r.body;
  EncodeResponseBody(gzip_client, true, r);
  EXPECT_EQ(r.body, before);
  EXPECT_EQ(r.headers.Get("Vary").value_or(""), "Accept-Encoding");
}

TEST(ContentCodingTest, RequestBodiesAreDecodedOrRefused) {
  const std::string json = Json(3000);
  struct Case {
    const char* name;
    std::optional<std::string> coding;
    std::string body;
    ErrorCode code;  // kOk: decoded to `json`
  } cases[] = {
      {"no coding", std::nullopt, json, ErrorCode::kOk},
      {"identity", "identity", json, ErrorCode::kOk},
      {"gzip", "gzip", Gzip(json), ErrorCode::kOk},
      {"x-gzip, upper case", "X-GZIP", Gzip(json), ErrorCode::kOk},
      {"gzip that is not", "gzip", json, ErrorCode::kMalformed},
      {"truncated gzip", "gzip", Gzip(json).substr(0, 40), ErrorCode::kMalformed},
      {"brotli", "br", json, ErrorCode::kUnsupportedMediaType},
      {"two codings", "gzip, gzip", Gzip(Gzip(json)), ErrorCode::kUnsupportedMediaType},
      {"bomb", "gzip", Gzip(std::string(20 << 20, ' ')), ErrorCode::kPayloadTooLarge},
  };
  for (Case& c : cases) {
    SCOPED_TRACE(c.name);
    Request r;
    if (c.coding) r.headers.Add("Content-Encoding", *c.coding);
    r.body = c.body;
    Status s = DecodeRequestBody(r, 10 << 20);
    EXPECT_EQ(s.code(), c.code) << s.ToString();
    if (c.code == ErrorCode::kOk) {
      EXPECT_EQ(r.body, json);
      EXPECT_FALSE(r.headers.Get("Content-Encoding"));
    } else {
      EXPECT_FALSE(s.message().empty());
    }
  }
}

}  // namespace
}  // namespace clinshub::api
