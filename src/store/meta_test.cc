#include "store/meta.h"

#include <gtest/gtest.h>

#include "fhir/json.h"

namespace clinshub::store {
namespace {

using fhir::Value;

Value Resource(const char* json) {
  Result<Value> v = fhir::ParseJson(json);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? std::move(*v) : Value();
}

const Timestamp kT = Timestamp(std::chrono::milliseconds(1'800'000'000'123));

TEST(NameOfTest, AcceptsTypeAndFhirId) {
  Result<ResourceName> n = NameOf(Resource(R"({"resourceType":"Patient","id":"a-1.B"})"));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->type, "Patient");
  EXPECT_EQ(n->id, "a-1.B");
}

TEST(NameOfTest, RejectsMissingOrInvalidNames) {
  for (const char* json : {R"({"id":"x"})", R"({"resourceType":"Patient"})",
                           R"({"resourceType":"Patient","id":"a_b"})",
                           R"({"resourceType":"Patient","id":7})", R"([1])"}) {
    EXPECT_EQ(NameOf(Resource(json)).status().code(), ErrorCode::kMalformed) << json;
  }
  std::string long_id(65, 'a');
  Value v = Resource(R"({"resourceType":"Patient"})");
  v.Set("id", Value::String(long_id));
  EXPECT_EQ(NameOf(v).status().code(), ErrorCode::kMalformed);
}

TEST(StampMetaTest, CreatesMetaRightAfterId) {
  Value v = Resource(R"({"resourceType":"Patient","id":"p","active":true})");
  ASSERT_TRUE(StampMeta(v, 3, kT).ok());
  EXPECT_EQ(fhir::WriteJson(v),
            R"({"resourceType":"Patient","id":"p","meta":{"versionId":"3",)"
            R"("lastUpdated":"2027-01-15T08:00:00.123Z"},"active":true})");
}

TEST(StampMetaTest, OverwritesVersionAndTimeInPlaceKeepingOtherMembers) {
  Value v = Resource(
      R"({"resourceType":"Patient","id":"p","meta":{"profile":["x"],"versionId":"9"}})");
  ASSERT_TRUE(StampMeta(v, 1, kT).ok());
  EXPECT_EQ(fhir::WriteJson(v),
            R"({"resourceType":"Patient","id":"p","meta":{"profile":["x"],"versionId":"1",)"
            R"("lastUpdated":"2027-01-15T08:00:00.123Z"}})");
}

TEST(StampMetaTest, RejectsNonObjectMeta) {
  Value v = Resource(R"({"resourceType":"Patient","id":"p","meta":[]})");
  EXPECT_EQ(StampMeta(v, 1, kT).code(), ErrorCode::kMalformed);
}

TEST(NextLastUpdatedTest, TruncatesToMillisAndNeverGoesBackwards) {
  const Timestamp now = kT + std::chrono::microseconds(456);
  EXPECT_EQ(NextLastUpdated(now, std::nullopt), kT);
  EXPECT_EQ(NextLastUpdated(now, kT - std::chrono::seconds(1)), kT);
  EXPECT_EQ(NextLastUpdated(now, kT + std::chrono::seconds(1)), kT + std::chrono::seconds(1));
}

}  // namespace
}  // namespace clinshub::store
