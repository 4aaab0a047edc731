// Splits an origin-form request-target ("/Patient/1?name=%E5%B1%B1%E7%94%B0") into decoded
// path segments and query parameters (Boost.URL). Thread-safe, no state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.h"
#include "common/status.h"

namespace clinshub::api {

struct RequestTarget {
  std::vector<std::string> path;
  QueryParams query;
};

// kMalformed when the target is not a valid origin-form URI. '+' in the query decodes to a
// space, as browsers and FHIR clients encode form values that way; a literal plus must
// arrive as %2B (e.g. time zones in date searches).
// One trailing slash is ignored ("/metadata/" == "/metadata").
Status ParseRequestTarget(std::string_view target, RequestTarget& out);

}  // namespace clinshub::api
