#include "api/bundle_units.h"

#include "clins/extract.h"
#include "common/japanese_text.h"
#include "common/sha256.h"
#include "fhir/json.h"

namespace clinshub::api {
namespace {

bool IsInstitutionCode(std::string_view s) {
  if (s.size() != 10) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string CallerInstitution(const Request& request) {
  if (!request.client) return {};
  // RFC 2253 subject: "CN=1312345678,O=…". The CN is the first attribute we issue.
  std::string_view subject = request.client->certificate_subject;
  size_t pos = 0;
  while (pos < subject.size()) {
    size_t end = subject.find(',', pos);
    if (end == std::string_view::npos) end = subject.size();
    std::string_view rdn = subject.substr(pos, end - pos);
    if (rdn.substr(0, 3) == "CN=" && IsInstitutionCode(rdn.substr(3))) {
      return std::string(rdn.substr(3));
    }
    pos = end + 1;
  }
  return {};
}

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
    Result<Token> patient = ParseToken(patients[0], "patient.identifier");
    if (!patient.ok()) return patient.take_status();
    person_key = NormaliseIdentifier(patient->value);
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

Result<store::PutUnit> PrepareUnit(const InteractionContext& ctx, const Request& request,
                                   fhir::Value bundle, clins::SubmissionFacts* facts_out) {
  clins::ValidationContext validation{CallerInstitution(request), ctx.clock.Now()};
  Result<clins::SubmissionFacts> facts = clins::ValidateSubmission(bundle, validation);
  if (!facts.ok()) return facts.take_status();
  Result<std::vector<clins::Item>> items = clins::ExtractItems(bundle, *facts);
  if (!items.ok()) return items.take_status();

  store::PutUnit put;
  put.key = {facts->patient_key, facts->bundle_id_system, facts->bundle_id_value};
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
