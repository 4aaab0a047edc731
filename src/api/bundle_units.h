// Shared pieces of the reporting-unit operations on /Bundle (submit, withdraw, restore,
// status): who the caller is, and finding a unit from its Bundle.identifier.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.h"
#include "api/interactions.h"
#include "clins/submission.h"
#include "common/result.h"
#include "store/units.h"

namespace clinshub::api {

// Splits a token parameter "system|value" (kMalformed naming `parameter` otherwise).
struct Token {
  std::string system;
  std::string value;
};
Result<Token> ParseToken(std::string_view text, std::string_view parameter);

// The units named by `identifier=system|value` (required) and, to disambiguate between
// persons, `patient.identifier=system|value` (optional; resolved through the roster). kNotFound when none matches,
// kPreconditionFailed when several persons have a unit with that identifier and no patient
// was named (as FHIR conditional operations answer multiple matches).
Result<store::UnitRecord> FindUnitByQuery(const InteractionContext& ctx, const Request& request);

// Validates a parsed submission from `sender` (the caller's institution code), resolves its
// patient through the roster (422 if unknown or expired) and extracts its items, ready to
// commit as one PutUnit.
// `known_person_key` (restoring a stored unit) skips the roster: the unit keeps its person.
Result<store::PutUnit> PrepareUnit(const InteractionContext& ctx, const std::string& sender,
                                   fhir::Value bundle, clins::SubmissionFacts* facts_out,
                                   const std::string* known_person_key = nullptr);

}  // namespace clinshub::api
