// FHIR content negotiation (https://hl7.org/fhir/R4/http.html#mime-type). We speak JSON only:
// request bodies must be JSON, responses are application/fhir+json; charset=utf-8.
#pragma once

#include <optional>
#include <string_view>

#include "api/http_types.h"
#include "common/result.h"
#include "common/status.h"

namespace clinshub::api {

// Checks a request body's Content-Type: application/fhir+json or application/json, with
// charset utf-8 or no charset; kUnsupportedMediaType otherwise (also when it is missing).
Status CheckRequestContentType(std::optional<std::string_view> content_type);

// Checks that the client accepts JSON: `_format` (json, application/json,
// application/fhir+json) wins over `Accept` (media ranges with q-values; */* and
// application/* match). No preference means JSON. kNotAcceptable when only other formats
// (XML, Turtle, ...) are acceptable.
Status CheckResponseFormat(std::optional<std::string_view> format_param,
                           std::optional<std::string_view> accept);

// Both of the above for a request, reading `_format`, Accept and Content-Type; the body
// check applies only when the method carries a body (POST, PUT, PATCH).
Status NegotiateFhir(const Request& request);

// `_pretty=true` asks for indented output.
bool WantsPretty(const Request& request);

}  // namespace clinshub::api
