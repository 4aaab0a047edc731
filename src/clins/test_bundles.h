// Minimal valid submissions built in memory for the tests (written for clinshub, not copied
// from the IG examples), and a small path helper to break them one rule at a time.
#pragma once

#include <string>
#include <string_view>

#include "fhir/value.h"

namespace clinshub::clins::testing {

inline constexpr std::string_view kInstitution = "1312345678";
inline constexpr std::string_view kAddressee = "1318765432";
inline constexpr std::string_view kPatientUrl = "urn:uuid:00000000-0000-4000-8000-000000000001";

fhir::Value ConditionBundle();    // 2 Conditions (one uncoded, flagged UNINFORMED)
fhir::Value AllergyBundle();      // food, medication (LTS) and a dummy non-food allergen
fhir::Value ObservationBundle();  // a core lab item and an infection item flagged LTS
fhir::Value ReferralDocument();   // with an attached discharge summary (section 210)
fhir::Value DischargeDocument();
fhir::Value CheckupDocument();

fhir::Value Json(std::string_view json);  // parses or fails the test

// The element at a FHIRPath-like path below the root ("entry[1].resource.code.coding[0]"),
// created as an object when missing, or nullptr when an array index is out of range.
fhir::Value* At(fhir::Value& root, std::string_view path);
// Removes the member named by the last path step.
void Remove(fhir::Value& root, std::string_view path);
void SetString(fhir::Value& root, std::string_view path, std::string_view value);

}  // namespace clinshub::clins::testing
