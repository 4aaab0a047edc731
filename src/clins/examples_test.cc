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
    {"jp-clins-v1.5/bundles/CLINS-6info_collection-bundle_Observation_lab-results_Alb-K-eGFR-UTP.json", true, "", "", ""},
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
