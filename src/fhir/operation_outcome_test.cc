#include "fhir/operation_outcome.h"

#include <gtest/gtest.h>

#include "fhir/json.h"

namespace clinshub::fhir {
namespace {

TEST(OperationOutcomeTest, RendersEveryFieldOfAnIssueWithARule) {
  Value oo = MakeOperationOutcome({Issue{Severity::kError, "invariant",
                                         "Bundle.entry[1].resource.code", "R1013",
                                         "コードが必要です"}});
  EXPECT_EQ(WriteJson(oo),
            R"({"resourceType":"OperationOutcome","issue":[{"severity":"error",)"
            R"("code":"invariant","details":{"coding":[{"system":"urn:clinshub:jp-clins-rule",)"
            R"("code":"R1013"}],"text":"[R1013] コードが必要です"},)"
            R"("diagnostics":"コードが必要です","expression":["Bundle.entry[1].resource.code"]}]})");
}

TEST(OperationOutcomeTest, OmitsEmptyOptionalFields) {
  Value oo = MakeOperationOutcome({Issue{Severity::kWarning, "value", "", "", "careful"}});
  EXPECT_EQ(WriteJson(oo), R"({"resourceType":"OperationOutcome","issue":[{"severity":"warning",)"
                           R"("code":"value","diagnostics":"careful"}]})");
}

TEST(OperationOutcomeTest, OutputIsAValidR4Resource) {
  Status st = MalformedError("bad", "Patient.name[0]");
  st.mutable_issues().push_back(
      Issue{Severity::kFatal, "structure", "Patient.id", "R0211", "worse"});
  for (const Value& oo : {MakeOperationOutcome(st.issues()), MakeOperationOutcome({})}) {
    Result<Value> reparsed = ParseResource(WriteJson(oo));
    EXPECT_TRUE(reparsed.ok()) << reparsed.status().ToString();
  }
}

}  // namespace
}  // namespace clinshub::fhir
