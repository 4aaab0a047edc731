#include "common/status.h"

#include <gtest/gtest.h>

#include "common/result.h"

namespace clinshub {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesRuleAndExpression) {
  Status s = Status::Error(ErrorCode::kUnprocessable, "invariant", "bad id",
                           "Bundle.identifier.value", "R02152");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kUnprocessable);
  EXPECT_EQ(s.ToString(), "unprocessable; [R02152] Bundle.identifier.value: bad id");
}

Result<int> Half(int v) {
  if (v % 2) return MalformedError("odd");
  return v / 2;
}

Status UsesMacro(int v, int& out) {
  auto r = Half(v);
  CLINSHUB_RETURN_IF_ERROR(r.status());
  out = *r;
  return Status::Ok();
}

TEST(ResultTest, HoldsValueOrStatus) {
  EXPECT_EQ(*Half(4), 2);
  EXPECT_EQ(Half(3).status().code(), ErrorCode::kMalformed);
  int out = 0;
  EXPECT_TRUE(UsesMacro(8, out).ok());
  EXPECT_EQ(out, 4);
  EXPECT_FALSE(UsesMacro(7, out).ok());
}

}  // namespace
}  // namespace clinshub
