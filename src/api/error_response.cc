#include "api/error_response.h"

#include "fhir/json.h"
#include "fhir/operation_outcome.h"

namespace clinshub::api {
namespace {

// How long a client should wait before retrying an overloaded or unavailable server.
constexpr const char* kRetryAfterSeconds = "5";

}  // namespace

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kMalformed: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kForbidden: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kMethodNotAllowed: return 405;
    case ErrorCode::kNotAcceptable: return 406;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kGone: return 410;
    case ErrorCode::kPreconditionFailed: return 412;
    case ErrorCode::kPayloadTooLarge: return 413;
    case ErrorCode::kUriTooLong: return 414;
    case ErrorCode::kUnsupportedMediaType: return 415;
    case ErrorCode::kUnprocessable: return 422;
    case ErrorCode::kTooManyRequests: return 429;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kOk:
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

Response ErrorResponse(const Status& status) {
  Response response;
  response.status = HttpStatusFor(status.code());
  Status shown = status;
  if (status.code() == ErrorCode::kInternal || status.ok()) {
    shown = InternalError("Internal server error; the incident has been logged");
  } else if (shown.issues().empty()) {
    shown.mutable_issues().push_back(Issue{Severity::kError, "processing", {}, {},
                                           std::string(ErrorCodeName(status.code()))});
  }
  response.body = fhir::WriteJson(fhir::MakeOperationOutcome(shown.issues()));
  response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
  if (response.status == 503 || response.status == 429) {
    response.headers.Set("Retry-After", kRetryAfterSeconds);
  }
  return response;
}

}  // namespace clinshub::api
