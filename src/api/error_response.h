// The one place that turns an error Status into an HTTP response: each ErrorCode maps to
// exactly one HTTP status, and the body is the Status's issues as an OperationOutcome.
// Nothing else in clinshub chooses an HTTP status for an error.
#pragma once

#include "api/http_types.h"
#include "common/status.h"

namespace clinshub::api {

// The HTTP status for an error category (500 for kOk, which is a caller bug).
int HttpStatusFor(ErrorCode code);

// A complete error response: status, OperationOutcome body, Content-Type, and Retry-After
// for 503/429. kInternal issues are replaced by a generic message: internals (SQL, file
// names, exception text) are for the log, not the client.
Response ErrorResponse(const Status& status);

}  // namespace clinshub::api
