#include "api/error_response.h"

#include <gtest/gtest.h>

#include "fhir/json.h"

namespace clinshub::api {
namespace {

TEST(ErrorResponseTest, EachErrorCodeMapsToOneHttpStatus) {
  const std::pair<ErrorCode, int> table[] = {
      {ErrorCode::kMalformed, 400},          {ErrorCode::kUnauthenticated, 401},
      {ErrorCode::kForbidden, 403},          {ErrorCode::kNotFound, 404},
      {ErrorCode::kMethodNotAllowed, 405},   {ErrorCode::kNotAcceptable, 406},
      {ErrorCode::kConflict, 409},           {ErrorCode::kGone, 410},
      {ErrorCode::kPreconditionFailed, 412}, {ErrorCode::kPayloadTooLarge, 413},
      {ErrorCode::kUriTooLong, 414},         {ErrorCode::kUnsupportedMediaType, 415},
      {ErrorCode::kUnprocessable, 422},      {ErrorCode::kTooManyRequests, 429},
      {ErrorCode::kUnavailable, 503},        {ErrorCode::kInternal, 500},
  };
  for (const auto& [code, http] : table) {
    SCOPED_TRACE(std::string(ErrorCodeName(code)));
    EXPECT_EQ(HttpStatusFor(code), http);
    Response r = ErrorResponse(Status::Error(code, "processing", "boom"));
    EXPECT_EQ(r.status, http);
    EXPECT_EQ(r.headers.Get("Content-Type"), "application/fhir+json; charset=utf-8");
    EXPECT_EQ(r.headers.Get("Retry-After").has_value(), http == 503 || http == 429);
    Result<fhir::Value> oo = fhir::ParseJson(r.body);
    ASSERT_TRUE(oo.ok()) << r.body;
    EXPECT_EQ(oo->StringAt("resourceType"), "OperationOutcome");
  }
}

TEST(ErrorResponseTest, RendersEveryIssueWithRuleAndExpression) {
  Status status(ErrorCode::kUnprocessable,
                {Issue{Severity::kError, "invariant", "Bundle.entry[1]", "R1013", "first"},
                 Issue{Severity::kWarning, "value", "Bundle.id", "", "second"}});
  Response r = ErrorResponse(status);
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("R1013"), std::string::npos);
  EXPECT_NE(r.body.find("Bundle.entry[1]"), std::string::npos);
  EXPECT_NE(r.body.find("second"), std::string::npos);
}

TEST(ErrorResponseTest, InternalDetailsAreNotLeaked) {
  Response r = ErrorResponse(InternalError("sqlite3_step: disk I/O error at /var/lib/x.db"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("sqlite"), std::string::npos);
  EXPECT_EQ(r.body.find("/var/lib"), std::string::npos);
}

}  // namespace
}  // namespace clinshub::api
