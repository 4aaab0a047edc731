// Pieces shared by the write interactions (create, update, delete).
#pragma once

#include <string>
#include <string_view>

#include "api/interactions.h"
#include "fhir/value.h"

namespace clinshub::api {

// Parses the body as a FHIR resource of `type` (kMalformed otherwise).
Result<fhir::Value> ParseBodyResource(const Request& request, std::string_view type);

// Commits one put, then returns the stored version (with its stamped JSON) and a response
// shaped per Prefer: 201 with Location when the write created version 1, else 200.
Result<Response> PutAndRespond(const InteractionContext& ctx, const Request& request,
                               store::PutResource put, const std::string& type,
                               const std::string& id);

}  // namespace clinshub::api
