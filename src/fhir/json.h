// FHIR JSON in and out.
//
// Parsing (simdjson) rejects, with a precise FHIRPath-style location in each issue:
// invalid UTF-8, malformed JSON, duplicate object keys, nesting deeper than max_depth,
// and — for FHIR content (ParseResource) — empty objects, arrays and strings, and primitives
// of the wrong JSON type for their element as defined by the FHIR R4 base model.
// Writing (RapidJSON Writer) emits numbers verbatim from their source text.
//
// All functions are thread-safe (parsers are per-thread).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "fhir/value.h"

namespace clinshub::fhir {

struct ParseOptions {
  // Deepest allowed nesting of arrays/objects. Real FHIR resources stay well below 32.
  size_t max_depth = 64;
};

// Plain JSON: syntax, UTF-8, duplicate keys, depth. Errors are ErrorCode::kMalformed.
Result<Value> ParseJson(std::string_view json, const ParseOptions& options = {});

// A FHIR resource: ParseJson plus the FHIR JSON rules above. The root must be an object with
// a string "resourceType" naming a FHIR R4 resource. Errors are ErrorCode::kMalformed, each
// issue's expression rooted at the resource type (e.g. "Bundle.entry[2].resource.status").
Result<Value> ParseResource(std::string_view json, const ParseOptions& options = {});

// Compact JSON.
std::string WriteJson(const Value& value);

// Where marked nodes were written: {offset, length} per mark, {npos, 0} if not reached.
using JsonSpans = std::vector<std::pair<size_t, size_t>>;
// WriteJson, also telling where each of `marks` (nodes of `value`, compared by address) was
// written; a mark that is null or not in `value` is reported not written. Lets a caller cut
// holes or slices out of the text without searching it.
std::string WriteJsonMarked(const Value& value, std::span<const Value* const> marks,
                            JsonSpans* spans);
// Indented JSON (2 spaces), for humans.
std::string WriteJsonPretty(const Value& value);

}  // namespace clinshub::fhir
