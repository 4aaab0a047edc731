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

// The 10-digit institution code proven by the TLS client certificate (its subject CN), or ""
// when the request carried no verified certificate (plain-HTTP development mode, until the
// access-control layer makes certificates mandatory).
std::string CallerInstitution(const Request& request);

// Splits a token parameter "system|value" (kMalformed naming `parameter` otherwise).
struct Token {
  std::string system;
  std::string value;
};
Result<Token> ParseToken(std::string_view text, std::string_view parameter);

// The units named by `identifier=system|value` (required) and, to disambiguate between
// persons, `patient.identifier=system|value` (optional). kNotFound when none matches,
// kPreconditionFailed when several persons have a unit with that identifier and no patient
// was named (as FHIR conditional operations answer multiple matches).
Result<store::UnitRecord> FindUnitByQuery(const InteractionContext& ctx, const Request& request);

// Validates and extracts a parsed submission, ready to commit as one PutUnit.
Result<store::PutUnit> PrepareUnit(const InteractionContext& ctx, const Request& request,
                                   fhir::Value bundle, clins::SubmissionFacts* facts_out);

}  // namespace clinshub::api
