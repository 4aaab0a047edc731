// FHIR logical ids (https://hl7.org/fhir/R4/datatypes.html#id) and version ids.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/status.h"

namespace clinshub::api {

// [A-Za-z0-9\-\.]{1,64}. Anything else ("..", "a/b", "%00", 65 chars) is refused before it can
// reach a store key or a log line.
bool IsValidResourceId(std::string_view id);

// kMalformed naming `what` ("id") when invalid.
Status CheckResourceId(std::string_view id);

// A version id as we issue them: a positive decimal integer without sign or leading zeros.
std::optional<int64_t> ParseVersionId(std::string_view text);

}  // namespace clinshub::api
