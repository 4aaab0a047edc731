// The institution directory as FHIR Organization resources: a directory entry rendered for
// GET /Organization, and an Organization sent to PUT /Organization/{code} read back into an
// entry. Pure functions, thread-safe.
#pragma once

#include <string>

#include "common/result.h"
#include "fhir/value.h"
#include "store/records.h"

namespace clinshub::api {

inline constexpr char kInstitutionCodeSystem[] =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
inline constexpr char kEmergencyPermissionExtension[] =
    "http://clinshub.example/fhir/StructureDefinition/emergency-care-permission";
// Our own kana extension on Organization, accepted as an alternative to alias[0].
inline constexpr char kNameKanaExtension[] =
    "http://clinshub.example/fhir/StructureDefinition/organization-name-kana";
inline constexpr char kInstitutionKindSystem[] =
    "http://clinshub.example/fhir/CodeSystem/institution-kind";

// id = code; identifier, active, type (kind), name, alias[0] = kana, telecom (phone),
// address[0] (text, postalCode), the emergency-care-permission extension, meta.lastUpdated.
fhir::Value OrganizationFromRecord(const store::InstitutionRecord& record);

// Reads a parsed Organization for `code` (the URL's): id and the institution-number identifier,
// when present, must equal it; name and kana (alias[0] or the kana extension) and kind
// (type.coding in kInstitutionKindSystem) are required. Field rules are access::CheckInstitution's.
// kMalformed for an id mismatch, kUnprocessable (expressions into the Organization) otherwise.
Result<store::InstitutionRecord> RecordFromOrganization(const fhir::Value& organization,
                                                        const std::string& code);

}  // namespace clinshub::api
