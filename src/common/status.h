// Errors as values. A Status is either OK or an error category plus one or more issues,
// each of which becomes one OperationOutcome.issue. The category decides the HTTP status;
// that mapping lives in exactly one place (src/api/error_response.cc).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace clinshub {

// What kind of failure; one HTTP status per category (see api/error_response.cc).
enum class ErrorCode {
  kOk = 0,
  kMalformed,             // 400: unparseable request, bad syntax, bad parameter
  kUnauthenticated,       // 401: no or invalid client identity
  kForbidden,             // 403: authenticated but not allowed
  kNotFound,              // 404
  kMethodNotAllowed,      // 405
  kNotAcceptable,         // 406: Accept / _format asks for something we do not produce
  kConflict,              // 409: concurrent modification or duplicate
  kGone,                  // 410: resource was deleted / withdrawn
  kPreconditionFailed,    // 412: If-Match version mismatch
  kPayloadTooLarge,       // 413
  kUriTooLong,            // 414
  kUnsupportedMediaType,  // 415
  kUnprocessable,         // 422: well-formed but breaks a FHIR / JP-CLINS rule
  kTooManyRequests,       // 429
  kUnavailable,           // 503: overloaded or the database is away; retry later
  kInternal,              // 500: a bug in clinshub, never a reaction to input
};

// FHIR OperationOutcome.issue.severity
enum class Severity { kFatal, kError, kWarning, kInformation };

// One problem, rendered as one OperationOutcome.issue.
struct Issue {
  Severity severity = Severity::kError;
  // FHIR IssueType code (http://hl7.org/fhir/issue-type): "invalid", "structure", "required",
  // "value", "invariant", "not-found", "deleted", "conflict", "too-long", "not-supported",
  // "forbidden", "security", "processing", "exception", "transient", "code-invalid", ...
  std::string code = "invalid";
  // FHIRPath-style location in the request, e.g. "Bundle.entry[1].resource.code.coding[0]".
  std::string expression;
  // The JP-CLINS rule id (e.g. "R1013") when one applies, else empty.
  std::string rule;
  // Human-readable explanation in English (with Japanese where the IG gives one).
  std::string message;
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(ErrorCode code, std::vector<Issue> issues)
      : code_(code), issues_(std::move(issues)) {}

  static Status Ok() { return Status(); }
  // One-issue constructor for the common case.
  static Status Error(ErrorCode code, std::string issue_code, std::string message,
                      std::string expression = {}, std::string rule = {}) {
    return Status(code, {Issue{Severity::kError, std::move(issue_code), std::move(expression),
                               std::move(rule), std::move(message)}});
  }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::vector<Issue>& issues() const { return issues_; }
  std::vector<Issue>& mutable_issues() { return issues_; }
  // First issue's message, or "" for OK; handy for logs and tests.
  std::string message() const { return issues_.empty() ? std::string() : issues_[0].message; }
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::vector<Issue> issues_;
};

std::string_view ErrorCodeName(ErrorCode code);

// Shorthands for the frequent categories.
inline Status MalformedError(std::string message, std::string expression = {}) {
  return Status::Error(ErrorCode::kMalformed, "structure", std::move(message),
                       std::move(expression));
}
inline Status NotFoundError(std::string message) {
  return Status::Error(ErrorCode::kNotFound, "not-found", std::move(message));
}
inline Status InternalError(std::string message) {
  return Status::Error(ErrorCode::kInternal, "exception", std::move(message));
}
inline Status UnavailableError(std::string message) {
  return Status::Error(ErrorCode::kUnavailable, "transient", std::move(message));
}

}  // namespace clinshub
