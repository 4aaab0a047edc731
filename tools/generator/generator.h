// Synthetic, valid JP-CLINS data: a population of insured persons, a directory of institutions,
// and every kind of submission bundle the hub accepts (6-information collection bundles for
// Condition / AllergyIntolerance / Observation, and the 診療情報提供書, 退院時サマリー and
// 健康診断結果報告書 documents).
//
// Everything is a pure function of GeneratorOptions: the same options give byte-identical
// bundles on every platform (a self-contained SplitMix64 engine and our own distributions, no
// std:: distributions, no wall clock). Each person's submissions are derived from (seed, person
// index) alone, so SubmissionsFor() may be called in any order or in parallel on different
// persons. A Generator is immutable after construction and safe for concurrent use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "fhir/value.h"

namespace clinshub::generator {

inline constexpr char kInsuranceMemberIdSystem[] =
    "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";
inline constexpr char kPublicPayerMemberIdSystem[] =
    "http://jpfhir.jp/fhir/clins/Idsystem/JP_PublicPayer_memberID";
inline constexpr char kBundleIdentifierSystem[] = "http://jpfhir.jp/fhir/clins/bundle-identifier";

struct GeneratorOptions {
  uint64_t seed = 1;
  int persons = 100;
  int institutions = 30;
  // "Now" for every generated timestamp; events lie in the five years before it.
  Timestamp now = Timestamp(std::chrono::microseconds(1767225600000000));  // 2026-01-01Z
};

enum class InstitutionKind { kHospital, kClinic, kCheckupCenter };
std::string_view InstitutionKindName(InstitutionKind kind);

struct Institution {
  std::string code;  // 10 digits, ^[0-4][0-9][1-3][0-9]{7}$
  std::string name;
  std::string kana;
  std::string postcode;  // "123-4567"
  std::string prefecture;
  std::string city;
  std::string address;  // full text, prefecture first
  std::string phone;
  InstitutionKind kind = InstitutionKind::kClinic;
  bool emergency_permission = false;
};

// One identifier a person has held. `to` is empty for the current one; dates are yyyy-mm-dd.
struct HeldIdentifier {
  std::string system;  // kInsuranceMemberIdSystem or kPublicPayerMemberIdSystem
  std::string value;   // "保険者番号:記号:番号:枝番" or "公費負担者番号::受給者番号:"
  std::string from;
  std::string to;
  std::string reason;  // why it ended ("転職", "転居", ...), empty for the current one
};

struct Person {
  uint64_t index = 0;  // stable across runs: the roster key
  std::string family_kanji, given_kanji, family_kana, given_kana;
  std::string gender;      // "male" | "female"
  std::string birth_date;  // yyyy-mm-dd
  std::string postcode, prefecture, city, address, phone;
  // Oldest first; the last element is current. Submissions always use the current one.
  std::vector<HeldIdentifier> identifiers;
  const HeldIdentifier& current() const { return identifiers.back(); }
};

struct Population {
  std::vector<Institution> institutions;
  std::vector<Person> persons;
};

enum class SubmissionKind {
  kCondition,         // JP_Bundle_CLINS, tag Condition
  kAllergy,           // JP_Bundle_CLINS, tag AllergyIntolerance
  kObservation,       // JP_Bundle_CLINS, tag Observation
  kReferral,          // JP_Bundle_eReferral (document, 57133-1)
  kDischargeSummary,  // JP_Bundle_eDischargeSummary (document, 18842-5)
  kCheckup,           // JP_Bundle_eCheckupGeneral (document, 53576-5)
};
std::string_view SubmissionKindName(SubmissionKind kind);

// What the hub should extract from a submission, independent of how the bundle spells it.
enum class ItemKind {
  kCondition,          // 傷病名
  kAllergy,            // アレルギー
  kContraindication,   // 薬剤禁忌 (AllergyIntolerance.category = medication)
  kLab,                // 検査 (designated lab item or local-only)
  kInfection,          // 感染症 (designated infection item)
  kPrescription,       // 処方 (MedicationRequest inside a document)
  kDocument,           // the document itself
};
std::string_view ItemKindName(ItemKind kind);

struct ExpectedItem {
  ItemKind kind = ItemKind::kCondition;
  std::string system;  // the standard coding's system (CLINS/MEDIS/J-FAGY/YJ/doc-typecodes)
  std::string code;    // its code; for local-only lab items the local code
  std::string text;
  std::string date;      // onset / effective / authoredOn / document date
  std::string end_date;  // Condition abatement, discharge date; empty if none
  bool suspected = false;    // Condition verificationStatus = unconfirmed
  bool uninformed = false;   // UNINFORMED tag
  bool undelivered = false;  // UNDELIVERED tag
  bool long_term = false;    // LTS tag
};

struct GeneratedSubmission {
  SubmissionKind kind = SubmissionKind::kCondition;
  std::string institution_code;
  std::string patient_system;      // system of the Patient's member identifier
  std::string patient_identifier;  // its value
  std::string bundle_identifier;   // Bundle.identifier.value: the reporting unit
  std::string addressee_code;      // referral letters only: section 910's institution
  bool attached_discharge_summary = false;  // referral letters only: section 210 carries one
  uint64_t person_index = 0;
  int revision = 0;  // 0 for the first send, n for the n-th resubmission of the same unit
  fhir::Value bundle;
  std::vector<ExpectedItem> items;
};

// A request to delete (6 information) or withdraw (documents) a reporting unit.
struct Withdrawal {
  SubmissionKind kind = SubmissionKind::kCondition;
  std::string institution_code;
  std::string patient_system;
  std::string patient_identifier;
  std::string bundle_identifier;
};

class Generator {
 public:
  explicit Generator(GeneratorOptions options);

  const GeneratorOptions& options() const { return options_; }
  const Population& population() const { return population_; }

  // Every submission for one person: visits at 3+ institutions, each sending its Condition,
  // AllergyIntolerance and Observation lists, referral letters (some with prescriptions, some
  // with an attached discharge summary), discharge summaries and checkup reports.
  std::vector<GeneratedSubmission> SubmissionsFor(const Person& person) const;

  // The same reporting unit (kind, institution, patient, bundle identifier) with different
  // content, as an institution sends when its list changed. `revision` >= 1 picks the variant.
  GeneratedSubmission Resubmission(const Person& person, const GeneratedSubmission& original,
                                   int revision) const;
  static Withdrawal WithdrawalOf(const GeneratedSubmission& submission);

 private:
  GeneratorOptions options_;
  Population population_;
};

}  // namespace clinshub::generator
