// Internal to the validator: the issue collector, path building and the per-resource and
// per-document checks shared by submission.cc, resource_checks.cc and document_checks.cc.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "clins/rules.h"
#include "clins/submission.h"
#include "fhir/value.h"

namespace clinshub::clins::internal {

// Well-known URLs.
inline constexpr std::string_view kInstitutionExt =
    "http://jpfhir.jp/fhir/clins/Extension/StructureDefinition/JP_eCS_InstitutionNumber";
inline constexpr std::string_view kDepartmentExt =
    "http://jpfhir.jp/fhir/eCS/Extension/StructureDefinition/JP_eCS_Department";
inline constexpr std::string_view kIndicationCs =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication";
inline constexpr std::string_view kInsuranceIdSystem =
    "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";
inline constexpr std::string_view kPublicPayerIdSystem =
    "http://jpfhir.jp/fhir/clins/Idsystem/JP_PublicPayer_memberID";
inline constexpr std::string_view kInstitutionIdSystem =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";

// Collects issues; every issue carries the rule's id, issue type and bilingual message.
class Issues {
 public:
  void Add(const Rule& rule, std::string expression, std::string_view detail = {},
           Severity severity = Severity::kError);
  bool has_errors() const { return errors_ > 0; }
  std::vector<Issue>& all() { return issues_; }

 private:
  std::vector<Issue> issues_;
  int errors_ = 0;
};

// Helpers over fhir::Value.
const fhir::Value* Member(const fhir::Value& v, std::string_view key);
std::string_view Str(const fhir::Value& v, std::string_view key);
bool HasNonEmpty(const fhir::Value& v, std::string_view key);
// Profile URL without a "|version" suffix.
std::string_view StripVersion(std::string_view url);
// Whether meta.profile names `url` (with or without a version).
bool HasProfile(const fhir::Value& resource, std::string_view url);
bool HasProfilePrefix(const fhir::Value& resource, std::string_view prefix);
// The first extension with this url, or nullptr.
const fhir::Value* FindExtension(const fhir::Value& v, std::string_view url, int* index = nullptr);
std::string Idx(std::string_view base, std::string_view key, size_t i);

// What the bundle-level pass knows when it checks one resource.
struct EntryContext {
  const fhir::Value& resource;
  std::string path;  // "Bundle.entry[3].resource"
  int index;
  bool document;     // inside a document (not a 6-information collection)
};

struct Shared {
  const ValidationContext& ctx;
  Issues& issues;
  SubmissionFacts& facts;
  std::string patient_full_url;
};

// resource_checks.cc
void CheckPatient(Shared& s, const EntryContext& e);
void CheckCondition(Shared& s, const EntryContext& e);
void CheckAllergy(Shared& s, const EntryContext& e);
void CheckObservation(Shared& s, const EntryContext& e);
void CheckMedicationRequest(Shared& s, const EntryContext& e);
// Institution number extension: presence (when required), format, agreement with the bundle
// identifier and with the caller.
void CheckInstitution(Shared& s, const EntryContext& e, bool required);
// meta.tag flags of JP_ehrshrs_indication.
void CheckFlags(Shared& s, const EntryContext& e);

// document_checks.cc
struct DocumentEntries {
  std::unordered_map<std::string, int> by_full_url;
  const fhir::Value* bundle;
};
void CheckDocument(Shared& s, const fhir::Value& bundle, const DocumentEntries& entries);

}  // namespace clinshub::clins::internal
