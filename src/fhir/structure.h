// FHIR R4 JSON representation rules (https://hl7.org/fhir/R4/json.html) checked against the
// base model (fhir/model.h): which members exist, arrays exactly where an element repeats,
// primitives with the right JSON type and lexical form, `_name` primitive extensions,
// one value per choice element, extensions with a url and one value, resources (root,
// contained, Bundle.entry.resource, Parameters.parameter.resource) dispatched by their own
// resourceType. Profiles and invariants are not checked here (that is src/clins/).
//
// Thread-safe (no shared state).
#pragma once

#include <cstddef>

#include "common/status.h"
#include "fhir/value.h"

namespace clinshub::fhir {

// OK, or ErrorCode::kMalformed with one issue per problem (code "structure" for shape, "value"
// for content), each located by a FHIRPath-style expression rooted at the resource type,
// e.g. "Bundle.entry[0].resource.identifier[0].value". At most `max_issues` problems are
// listed; if there were more, a final informational issue says so.
Status ValidateResourceStructure(const Value& resource, size_t max_issues = 100);

}  // namespace clinshub::fhir
