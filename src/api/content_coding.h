// HTTP content codings (RFC 9110 §8.4, §12.5.3): gzip both ways, decided in one place.
//
// Responses: a client that accepts gzip (every common FHIR client and browser sends
// `Accept-Encoding: gzip`) gets bodies of kGzipMinBytes or more gzip-coded; JSON shrinks
// ~8×, which on a clinic's line is most of a patient summary's wait. A handler may supply a
// body already coded (the summary assembles its gzip from runs kept compressed with the
// person's items, api/item_cache.h); it is left as it is.
// Requests: a body sent with `Content-Encoding: gzip` is decoded before anything reads it, up
// to the same size limit a plain body has; other codings are refused with 415.
#pragma once

#include <cstddef>

#include "api/http_types.h"
#include "common/status.h"

namespace clinshub::api {

// Smaller bodies are not worth a compressor's set-up and the gzip framing (18 bytes).
inline constexpr size_t kGzipMinBytes = 1024;

// Whether the client takes a gzip-coded response: gzip, x-gzip or * listed with q > 0 in
// any Accept-Encoding field; an explicit gzip;q=0 refuses it even when * is listed.
bool AcceptsGzip(const Request& request);

// Decodes the request body in place according to Content-Encoding (absent or identity: as
// is; gzip / x-gzip: inflated, kPayloadTooLarge past max_bytes, kMalformed when it is not
// gzip) and removes the header; any other coding is kUnsupportedMediaType.
Status DecodeRequestBody(Request& request, size_t max_bytes);

// gzip-codes the response body when `enabled`, the client accepts gzip, the body is large
// enough and not already coded; adds `Vary: Accept-Encoding` whenever the coding depends on
// the request.
void EncodeResponseBody(const Request& request, bool enabled, Response& response);

}  // namespace clinshub::api
