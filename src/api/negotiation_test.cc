#include "api/negotiation.h"

#include <gtest/gtest.h>

namespace clinshub::api {
namespace {

using Opt = std::optional<std::string_view>;

TEST(NegotiationTest, RequestContentTypeTable) {
  const struct {
    Opt content_type;
    bool ok;
  } cases[] = {
      {"application/fhir+json", true},
      {"application/fhir+json; charset=utf-8", true},
      {"application/fhir+json;charset=UTF-8", true},
      {"Application/JSON", true},
      {"application/json; charset=\"utf-8\"", true},
      {"application/fhir+json; fhirVersion=4.0", true},
      {"application/fhir+json; charset=iso-8859-1", false},
      {"application/fhir+xml", false},
      {"text/plain", false},
      {"application/x-www-form-urlencoded", false},
      {"", false},
      {std::nullopt, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.content_type.value_or("<none>"));
    Status s = CheckRequestContentType(c.content_type);
    EXPECT_EQ(s.ok(), c.ok);
    if (!c.ok) { EXPECT_EQ(s.code(), ErrorCode::kUnsupportedMediaType); }
  }
}

TEST(NegotiationTest, ResponseFormatTable) {
  const struct {
    Opt format;
    Opt accept;
    bool ok;
  } cases[] = {
      {std::nullopt, std::nullopt, true},
      {std::nullopt, "application/fhir+json", true},
      {std::nullopt, "application/json", true},
      {std::nullopt, "*/*", true},
      {std::nullopt, "application/*", true},
      {std::nullopt, "text/html, application/xhtml+xml, */*;q=0.8", true},
      {std::nullopt, "application/fhir+xml;q=1.0, application/fhir+json;q=0.9", true},
      {std::nullopt, "application/fhir+xml", false},
      {std::nullopt, "application/fhir+xml, text/turtle", false},
      {std::nullopt, "application/fhir+json;q=0, application/fhir+xml", false},
      {std::nullopt, "text/*", false},
      {"json", std::nullopt, true},
      {"application/fhir+json", std::nullopt, true},
      {"application/fhir json", std::nullopt, true},  // '+' decoded as space
      {"application/json", "application/fhir+xml", true},  // _format wins over Accept
      {"xml", std::nullopt, false},
      {"application/fhir+xml", "*/*", false},
      {"ttl", std::nullopt, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.format.value_or("-")) + " | " +
                 std::string(c.accept.value_or("-")));
    Status s = CheckResponseFormat(c.format, c.accept);
    EXPECT_EQ(s.ok(), c.ok);
    if (!c.ok) { EXPECT_EQ(s.code(), ErrorCode::kNotAcceptable); }
  }
}

TEST(NegotiationTest, BodyCheckedOnlyForMethodsWithBodies) {
  Request get;
  get.method = "GET";
  get.headers.Add("Content-Type", "text/plain");
  EXPECT_TRUE(NegotiateFhir(get).ok());
  Request put = get;
  put.method = "PUT";
  EXPECT_EQ(NegotiateFhir(put).code(), ErrorCode::kUnsupportedMediaType);
}

}  // namespace
}  // namespace clinshub::api
