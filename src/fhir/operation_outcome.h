// Issues → a FHIR R4 OperationOutcome (https://hl7.org/fhir/R4/operationoutcome.html).
#pragma once

#include <vector>

#include "common/status.h"
#include "fhir/value.h"

namespace clinshub::fhir {

// The code system under which JP-CLINS rule ids (R1013 ...) appear in issue.details.
inline constexpr char kClinsRuleSystem[] = "urn:clinshub:jp-clins-rule";

// One OperationOutcome.issue per Issue, in order: severity, code, diagnostics (the message),
// expression (when set) and, when a rule id is set, details {coding: [{system: rule system,
// code: rule}], text: "[R1013] message"}. An empty list yields a single informational
// "informational" issue, since R4 requires at least one issue.
Value MakeOperationOutcome(const std::vector<Issue>& issues);

}  // namespace clinshub::fhir
