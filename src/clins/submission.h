// Acceptance of JP-CLINS submissions (POST /Bundle): the 6-information collection bundles and
// the three documents. The validator is as strict as the national service and reports every
// problem it finds in one pass, each with the IG rule id where the IG has one.
//
// Pure functions; thread-safe; no I/O. Code tables are compiled in (see tools/clins_tables).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/status.h"
#include "fhir/value.h"

namespace clinshub::clins {

// The kinds of submission the hub accepts.
enum class SubmissionKind {
  kConditions,        // JP_Bundle_CLINS tagged Condition (傷病名)
  kAllergies,         // JP_Bundle_CLINS tagged AllergyIntolerance (アレルギー・薬剤禁忌)
  kObservations,      // JP_Bundle_CLINS tagged Observation (検査・感染症)
  kReferral,          // JP_Bundle_eReferral (診療情報提供書)
  kDischargeSummary,  // JP_Bundle_eDischargeSummary (退院時サマリー)
  kCheckup,           // JP_Bundle_eCheckupGeneral (健康診断結果報告書)
};
std::string_view SubmissionKindName(SubmissionKind kind);
bool IsDocument(SubmissionKind kind);

// What later stages need, learned while validating.
struct SubmissionFacts {
  SubmissionKind kind = SubmissionKind::kConditions;
  std::string institution;  // 10-digit 医療機関コード of the sender (from Bundle.identifier)
  std::string bundle_id_system, bundle_id_value;  // the reporting-unit identifier
  std::string patient_id_system;  // JP_Insurance_memberID or JP_PublicPayer_memberID
  std::string patient_id_value;   // as sent
  std::string patient_key;        // NormaliseIdentifier(patient_id_value)
  int patient_entry = -1;         // index of the Patient in Bundle.entry
  // Indexes of the entries carrying the information (Condition/AllergyIntolerance/Observation
  // for the 6 information; every clinical entry for documents, in bundle order).
  std::vector<int> item_entries;

  // Documents only.
  int composition_entry = -1;
  std::string document_type_code;  // 57133-1, 18842-5, 53576-5
  std::string composition_date;    // Composition.date as sent
  std::string addressee;           // referral: 10-digit addressee institution (section 910)
  std::string admission_date;      // discharge summary: Composition.event.period.start
  std::string discharge_date;      // discharge summary: Composition.event.period.end
  // Referral: indexes of DocumentReference/Binary entries attached in section 210, and whether
  // one of them is declared to be a 退院時サマリー (type 18842-5).
  std::vector<int> attachment_entries;
  bool has_attached_discharge_summary = false;

  // Non-fatal findings (severity warning); the submission is accepted with them.
  std::vector<Issue> warnings;
};

struct ValidationContext {
  // The authenticated sender. Empty until mutual TLS lands: then the bundle's own institution
  // is taken as the sender.
  std::string caller_institution;
  // Decides which code-table entries are still valid (retired J-FAGY codes).
  Timestamp now;
};

// The HTTP limit for one submission (10 MB), checked before parsing; kPayloadTooLarge.
inline constexpr size_t kMaxSubmissionBytes = 10 * 1024 * 1024;
Status CheckSubmissionSize(size_t bytes);

// Decides acceptance. On rejection the Status is kUnprocessable and carries ALL issues found
// (severity error, plus any warnings); expressions are FHIRPath-style paths into the submitted
// bundle ("Bundle.entry[2].resource.code.coding[0].system").
Result<SubmissionFacts> ValidateSubmission(const fhir::Value& bundle, const ValidationContext& ctx);

}  // namespace clinshub::clins
