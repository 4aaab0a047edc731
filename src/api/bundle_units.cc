#include "api/bundle_units.h"

#include "api/access_gate.h"
#include "clins/extract.h"
#include "common/japanese_text.h"
#include "common/sha256.h"
#include "fhir/json.h"

namespace clinshub::api {

Result<Token> ParseToken(std::string_view text, std::string_view parameter) {
  size_t bar = text.find('|');
  if (bar == std::string_view::npos || bar == 0 || bar + 1 >= text.size()) {
    return Status::Error(ErrorCode::kMalformed, "invalid",
                         "Parameter " + std::string(parameter) +
                             " must be 'system|value' with both parts present",
                         std::string(parameter));
  }
  return Token{std::string(text.substr(0, bar)), std::string(text.substr(bar + 1))};
}

Result<store::UnitRecord> FindUnitByQuery(const InteractionContext& ctx, const Request& request) {
  for (const auto& [name, value] : request.query.items()) {
    if (name != "identifier" && name != "patient.identifier") {
      return Status::Error(ErrorCode::kMalformed, "not-supported",
                           "Unsupported parameter '" + name +
                               "'; this operation takes identifier and patient.identifier",
                           name);
    }
  }
  std::vector<std::string_view> ids = request.query.All("identifier");
  if (ids.size() != 1) {
    return Status::Error(ErrorCode::kMalformed, "required",
                         "Exactly one identifier=system|value naming the reporting unit "
                         "(Bundle.identifier) is required",
                         "identifier");
  }
  Result<Token> unit = ParseToken(ids[0], "identifier");
  if (!unit.ok()) return unit.take_status();
  std::string person_key;
  std::vector<std::string_view> patients = request.query.All("patient.identifier");
  if (patients.size() > 1) {
    return MalformedError("At most one patient.identifier is allowed", "patient.identifier");
  }
  if (patients.size() == 1) {
    Result<Patient> patient = ResolvePatientParameter(ctx, request, "patient.identifier");
    if (!patient.ok()) return patient.take_status();
    person_key = patient->person_key();
  }

  Result<std::vector<store::UnitRecord>> found = ctx.store.FindUnits(unit->system, unit->value);
  if (!found.ok()) return found.take_status();
  std::vector<store::UnitRecord> matches;
  for (store::UnitRecord& record : *found) {
    if (person_key.empty() || record.key.person_key == person_key) {
      matches.push_back(std::move(record));
    }
  }
  if (matches.empty()) {
    return NotFoundError("No reporting unit with identifier " + unit->system + "|" +
                         unit->value + (person_key.empty() ? "" : " for that patient"));
  }
  if (matches.size() > 1) {
    return Status::Error(ErrorCode::kPreconditionFailed, "multiple-matches",
                         "Several patients have a reporting unit with this identifier; name "
                         "the patient with patient.identifier=system|value",
                         "identifier");
  }
  return std::move(matches[0]);
}

Result<store::PutUnit> PrepareUnit(const InteractionContext& ctx, const std::string& sender,
                                   fhir::Value bundle, clins::SubmissionFacts* facts_out,
                                   const std::string* known_person_key) {
  clins::ValidationContext validation{sender, ctx.clock.Now()};
  Result<clins::SubmissionFacts> facts = clins::ValidateSubmission(bundle, validation);
  if (!facts.ok()) return facts.take_status();
  std::string person_key;
  if (known_person_key != nullptr) {
    person_key = *known_person_key;
  } else {
    Result<Patient> patient = ResolvePatient(
        ctx, facts->patient_id_system, facts->patient_id_value, ErrorCode::kUnprocessable,
        "Bundle.entry[" + std::to_string(facts->patient_entry) + "].resource.identifier");
    if (!patient.ok()) return patient.take_status();
    person_key = patient->person_key();
  }
  Result<std::vector<clins::Item>> items = clins::ExtractItems(bundle, *facts);
  if (!items.ok()) return items.take_status();

  store::PutUnit put;
  put.key = {person_key, facts->bundle_id_system, facts->bundle_id_value};
  put.institution = facts->institution;
  put.kind = std::string(clins::SubmissionKindName(facts->kind));
  put.addressee = facts->addressee;
  // The hash of the canonical compact form: resending the same content with different
  // whitespace or key order-preserving reformatting is recognised as identical.
  bundle.Erase("id");
  put.content_hash = Sha256Hex(fhir::WriteJson(bundle));
  put.bundle = std::move(bundle);
  put.items = std::move(items).value();
  if (facts_out != nullptr) *facts_out = std::move(facts).value();
  return put;
}

}  // namespace clinshub::api
