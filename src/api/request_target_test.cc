#include "api/request_target.h"

#include <gtest/gtest.h>

namespace clinshub::api {
namespace {

TEST(RequestTargetTest, SplitsAndDecodesPath) {
  RequestTarget t;
  ASSERT_TRUE(ParseRequestTarget("/Organization/o-1/_history/2", t).ok());
  EXPECT_EQ(t.path, (std::vector<std::string>{"Organization", "o-1", "_history", "2"}));
  ASSERT_TRUE(ParseRequestTarget("/metadata/", t).ok());
  EXPECT_EQ(t.path, (std::vector<std::string>{"metadata"}));
  ASSERT_TRUE(ParseRequestTarget("/", t).ok());
  EXPECT_TRUE(t.path.empty());
  // An encoded slash stays inside one segment, where id validation refuses it.
  ASSERT_TRUE(ParseRequestTarget("/Patient/..%2F..%2Fetc", t).ok());
  EXPECT_EQ(t.path, (std::vector<std::string>{"Patient", "../../etc"}));
}

TEST(RequestTargetTest, DecodesJapaneseQueryValuesInOrder) {
  RequestTarget t;
  // name=山田 (UTF-8, percent-encoded), family=ﾔﾏﾀﾞ, then repeated date parameters.
  ASSERT_TRUE(ParseRequestTarget("/Patient?name=%E5%B1%B1%E7%94%B0"
                                 "&family=%EF%BE%94%EF%BE%8F%EF%BE%80%EF%BE%9E"
                                 "&date=ge2024-01-01&date=lt2025-01-01T00:00:00%2B09:00"
                                 "&_format=application/fhir+json&flag",
                                 t)
                  .ok());
  ASSERT_EQ(t.query.items().size(), 6u);
  EXPECT_EQ(t.query.First("name"), "山田");
  EXPECT_EQ(t.query.First("family"), "ﾔﾏﾀﾞ");
  auto dates = t.query.All("date");
  ASSERT_EQ(dates.size(), 2u);
  EXPECT_EQ(dates[0], "ge2024-01-01");
  EXPECT_EQ(dates[1], "lt2025-01-01T00:00:00+09:00");
  EXPECT_EQ(t.query.First("_format"), "application/fhir json");
  EXPECT_EQ(t.query.First("flag"), "");
  EXPECT_EQ(t.query.items()[0].first, "name");
  EXPECT_EQ(t.query.items()[5].first, "flag");
}

TEST(RequestTargetTest, RejectsInvalidTargets) {
  RequestTarget t;
  for (std::string_view bad : {"Patient/1", "/a b", "http://x/Patient", "/bad%zz", "*"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(ParseRequestTarget(bad, t).code(), ErrorCode::kMalformed);
  }
}

}  // namespace
}  // namespace clinshub::api
