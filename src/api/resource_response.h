// Shared shaping of resource responses: ETag, Last-Modified, Location, base URL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/api_config.h"
#include "api/http_types.h"
#include "common/clock.h"
#include "common/result.h"
#include "store/store.h"

namespace clinshub::api {

// W/"3"
std::string WeakETag(int64_t version);
// Accepts W/"3" and "3" (If-Match / If-None-Match); nullopt if malformed.
std::optional<int64_t> ParseETag(std::string_view text);
// The If-Match header as a store precondition: nullopt without the header, kMalformed if it
// is not a version ETag.
Result<std::optional<int64_t>> IfMatchVersion(const Request& request);

// IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7).
std::string HttpDate(Timestamp t);
std::optional<Timestamp> ParseHttpDate(std::string_view text);

// "https://host/fhir" without a trailing slash.
std::string BaseUrl(const ApiConfig& config, const Request& request);

// 200/201 with the version's JSON, Content-Type, ETag and Last-Modified.
// By value: a caller done with the version moves it in and its JSON becomes the body uncopied.
Response ResourceResponse(int status, store::ResourceVersion version);

// `Prefer: return=representation` asks for the stored resource where the default body is an
// OperationOutcome (JP-CLINS submissions).
bool PrefersRepresentation(const Request& request);

// `Prefer: return=minimal` asks for no body on writes.
bool WantsMinimal(const Request& request);

}  // namespace clinshub::api
