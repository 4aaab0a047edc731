#include "api/resource_id.h"

#include <gtest/gtest.h>

#include "api/resource_response.h"

namespace clinshub::api {
namespace {

TEST(ResourceIdTest, FhirIdSyntax) {
  const std::string_view valid[] = {
      "a", "1", "o-1", "A.b-C", "..",
      "0123456789012345678901234567890123456789012345678901234567890123"};
  for (std::string_view ok : valid) {
    EXPECT_TRUE(IsValidResourceId(ok)) << ok;
  }
  const std::string_view invalid[] = {"", "../etc", "a/b", "a b", "a_b", "a%2F", "山田", "a\n",
        "01234567890123456789012345678901234567890123456789012345678901234"};
  for (std::string_view bad : invalid) {
    EXPECT_FALSE(IsValidResourceId(bad)) << bad;
    EXPECT_EQ(CheckResourceId(bad).code(), ErrorCode::kMalformed);
  }
}

TEST(ResourceIdTest, VersionIdsAndETags) {
  EXPECT_EQ(ParseVersionId("1"), 1);
  EXPECT_EQ(ParseVersionId("42"), 42);
  for (std::string_view bad : {"", "0", "01", "-1", "+1", "1a", "99999999999999999999"}) {
    EXPECT_EQ(ParseVersionId(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(WeakETag(3), "W/\"3\"");
  EXPECT_EQ(ParseETag("W/\"3\""), 3);
  EXPECT_EQ(ParseETag("\"3\""), 3);
  EXPECT_EQ(ParseETag("3"), std::nullopt);
  EXPECT_EQ(ParseETag("W/\"x\""), std::nullopt);
}

TEST(ResourceIdTest, HttpDateRoundTrip) {
  Timestamp t(std::chrono::seconds(784111777));
  EXPECT_EQ(HttpDate(t), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), t);
  EXPECT_EQ(ParseHttpDate("yesterday"), std::nullopt);
}

}  // namespace
}  // namespace clinshub::api
