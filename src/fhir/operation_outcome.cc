#include "fhir/operation_outcome.h"

#include <string>

namespace clinshub::fhir {
namespace {

const char* SeverityCode(Severity s) {
  switch (s) {
    case Severity::kFatal: return "fatal";
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kInformation: return "information";
  }
  return "error";
}

Value IssueValue(const Issue& issue) {
  Value out = Value::Object();
  out.Set("severity", Value::String(SeverityCode(issue.severity)));
  out.Set("code", Value::String(issue.code.empty() ? "processing" : issue.code));
  if (!issue.rule.empty()) {
    Value coding = Value::Object();
    coding.Set("system", Value::String(kClinsRuleSystem));
    coding.Set("code", Value::String(issue.rule));
    Value details = Value::Object();
    details.Set("coding", Value::Array()).Append(std::move(coding));
    details.Set("text", Value::String("[" + issue.rule + "] " + issue.message));
    out.Set("details", std::move(details));
  }
  // FHIR strings must not be empty, so empty fields are left out rather than written as "".
  if (!issue.message.empty()) out.Set("diagnostics", Value::String(issue.message));
  if (!issue.expression.empty()) {
    out.Set("expression", Value::Array()).Append(Value::String(issue.expression));
  }
  return out;
}

}  // namespace

Value MakeOperationOutcome(const std::vector<Issue>& issues) {
  Value oo = Value::Object();
  oo.Set("resourceType", Value::String("OperationOutcome"));
  Value& list = oo.Set("issue", Value::Array());
  for (const Issue& issue : issues) list.Append(IssueValue(issue));
  if (issues.empty()) {
    list.Append(IssueValue(Issue{Severity::kInformation, "informational", {}, {}, "All OK"}));
  }
  return oo;
}

}  // namespace clinshub::fhir
