// The IG's own examples (read at run time from CLINSHUB_SHARED_DIR; skipped when absent).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "clins/submission.h"
#include "clins/test_bundles.h"
#include "fhir/json.h"

namespace clinshub::clins {
namespace {

namespace fs = std::filesystem;

const fs::path kExamples = fs::path(CLINSHUB_SHARED_DIR) / "clins/examples";

ValidationContext Ctx() {
  return ValidationContext{"", Timestamp(std::chrono::sys_days(std::chrono::year{2025} / 6 / 1))};
}

fhir::Value Load(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return testing::Json(ss.str());
}

std::string Describe(const Status& st) {
  std::string out;
  for (const auto& i : st.issues()) out += "  [" + i.rule + "] " + i.expression + " — " + i.message + "\n";
  return out;
}

bool HasIssue(const Status& st, std::string_view rule, std::string_view key) {
  for (const auto& i : st.issues()) {
    if (i.rule == rule && i.message.starts_with(std::string(key) + ":")) return true;
  }
  return false;
}

struct Expectation {
  const char* file;  // below clins/examples
  bool accepted;
  const char* rule;  // when rejected: the IG rule id ("" if none) and clinshub key expected
  const char* key;
  const char* why;
};

const Expectation kBundles[] = {
    // The 6-information collection example (Observation): accepted. Its contained Encounters
    // claim the core JP_Encounter profile, which clinshub accepts alongside eCS JP_Encounter*.
    {"jp-clins-v1.5/bundles/CLINS-6info_collection-bundle_Observation_lab-results_Alb-K-eGFR-UTP.json", true,
     "", "", ""},
    // Both JP-CLINS referral letters are accepted (structured, and header plus section text).
    {"jp-clins-v1.5/bundles/eReferral_document-bundle_full-structured_with-Condition-Allergy-DocRef.json", true,
     "", "", ""},
    {"jp-clins-v1.5/bundles/eReferral_document-bundle_header-plus-section-text-only.json", true, "", "", ""},
    // The patient care summary is a JP-CLINS document, but not one institutions submit.
    {"jp-clins-v1.5/bundles/ePCS_document-bundle_patient-summary-care-plan.json", false, "",
     "bundle-not-submission-type", "ePCS is not a submission type"},
    // Legacy documents predate the service: stand-alone IG profile URLs, documentInstance
    // identifiers instead of the reporting-unit identifier, no insurance member id. Rejected.
    {"eReferral-legacy/eReferral_document-bundle_legacy-v1.1x_documentInstance-identifier.json", false, "R02151",
     "valid-system-bundleIdenfifier", "documentInstance-identifier is not a reporting unit"},
    {"eReferral-legacy/eReferral_document-bundle_legacy-v1.1x_documentInstance-identifier.json", false, "R0213",
     "bundle-legacy-profile", "pre-CLINS eReferral bundle profile"},
    {"eReferral-legacy/eReferral_document-bundle_IGpackage-0.9.6_eClinicalSummary-profiles.json", false, "R02151",
     "valid-system-bundleIdenfifier", "documentInstance-identifier is not a reporting unit"},
    {"eReferral-legacy/eReferral_document-bundle_IGpackage-0.9.6_eClinicalSummary-profiles.json", false, "R0212",
     "patients-profile-is-JP-Patient-eCS", "core JP_Patient, not JP_Patient_eCS"},
    {"eCheckupReport-legacy-1.0.0-temp/eCheckupReport_document-bundle_tokutei-kenshin-sample-01.json", false,
     "R02151", "valid-system-bundleIdenfifier", "documentInstance-identifier is not a reporting unit"},
    {"eCheckupReport-legacy-1.0.0-temp/eCheckupReport_document-bundle_tokutei-kenshin-sample-01.json", false,
     "R1012", "valid-system-insurance-patientIdentifier", "no JP_Insurance_memberID on the Patient"},
};

TEST(IgExamplesTest, SubmissionBundlesAreDecidedExplicitly) {
  if (!fs::exists(kExamples)) GTEST_SKIP() << "no " << kExamples << ": shared reference material absent";
  for (const auto& e : kBundles) {
    const fhir::Value bundle = Load(kExamples / e.file);
    auto result = ValidateSubmission(bundle, Ctx());
    if (e.accepted) {
      EXPECT_TRUE(result.ok()) << e.file << "\n" << Describe(result.status());
    } else {
      ASSERT_FALSE(result.ok()) << e.file;
      EXPECT_TRUE(HasIssue(result.status(), e.rule, e.key))
          << e.file << " (" << e.why << ") want [" << e.rule << "] " << e.key << "\n" << Describe(result.status());
    }
  }
}

// The IG's deliberately invalid single resources, placed into an otherwise valid submission.
TEST(IgExamplesTest, ErrorCasesAreRejectedForTheirIntendedReason) {
  const fs::path dir = kExamples / "jp-clins-v1.5/error-cases";
  if (!fs::exists(dir)) GTEST_SKIP() << "no " << dir << ": shared reference material absent";
  const struct {
    const char* file;
    bool in_referral;  // else an Observation collection
    const char* rule;
    const char* key;
  } cases[] = {
      // "ローカルコードなし": no local lab code.
      {"Observation-ErrorExample-ObsLabo-eGFR.json", false, "R6021", "needs-localCode-observation-laboresult"},
      // Neither YJ nor general-name code: the newest rule requires a YJ code.
      {"MedicationRequest-ErrorExample-JP-MedReq-ExtEye-Total1.json", true, "R3011", "needs-anyOf-YJ-medicationCode"},
      // A wrong general-name code and no YJ code: the newest rule (YJ required) rejects it.
      {"MedicationRequest-ErrorExample-JP-MedReq-PO-SID-28days.json", true, "R3011", "needs-anyOf-YJ-medicationCode"},
  };
  for (const auto& c : cases) {
    fhir::Value resource = Load(dir / c.file);
    // Point the subject at our Patient: the case is about its own flaw, not about references.
    testing::Remove(resource, "subject");
    testing::SetString(resource, "subject.reference", testing::kPatientUrl);
    fhir::Value bundle = c.in_referral ? testing::ReferralDocument() : testing::ObservationBundle();
    *testing::At(bundle, c.in_referral ? "entry[6].resource" : "entry[1].resource") = std::move(resource);
    auto result = ValidateSubmission(bundle, Ctx());
    ASSERT_FALSE(result.ok()) << c.file;
    EXPECT_TRUE(HasIssue(result.status(), c.rule, c.key)) << c.file << "\n" << Describe(result.status());
  }
}

}  // namespace
}  // namespace clinshub::clins
