#include "clins/submission.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "clins/test_bundles.h"

namespace clinshub::clins {
namespace {

using testing::At;
using testing::Remove;
using testing::SetString;

ValidationContext Ctx() {
  return ValidationContext{"", Timestamp(std::chrono::sys_days(std::chrono::year{2025} / 6 / 1))};
}

std::string Describe(const Status& st) {
  std::string out;
  for (const auto& i : st.issues()) out += "  [" + i.rule + "] " + i.expression + " — " + i.message + "\n";
  return out;
}

TEST(ValidateSubmissionTest, AcceptsEveryValidSubmissionKind) {
  struct Case {
    const char* name;
    std::function<fhir::Value()> build;
    SubmissionKind kind;
  } cases[] = {
      {"conditions", testing::ConditionBundle, SubmissionKind::kConditions},
      {"allergies", testing::AllergyBundle, SubmissionKind::kAllergies},
      {"observations", testing::ObservationBundle, SubmissionKind::kObservations},
      {"referral", testing::ReferralDocument, SubmissionKind::kReferral},
      {"discharge summary", testing::DischargeDocument, SubmissionKind::kDischargeSummary},
      {"checkup", testing::CheckupDocument, SubmissionKind::kCheckup},
  };
  for (const auto& c : cases) {
    auto result = ValidateSubmission(c.build(), Ctx());
    ASSERT_TRUE(result.ok()) << c.name << "\n" << Describe(result.status());
    EXPECT_EQ(result->kind, c.kind) << c.name;
    EXPECT_EQ(result->institution, testing::kInstitution) << c.name;
    EXPECT_EQ(result->patient_key, "06123456:AB:1234:01") << c.name;
    EXPECT_FALSE(result->item_entries.empty()) << c.name;
  }
}

TEST(ValidateSubmissionTest, ReferralFactsNameAddresseeAndAttachedSummary) {
  auto result = ValidateSubmission(testing::ReferralDocument(), Ctx());
  ASSERT_TRUE(result.ok()) << Describe(result.status());
  EXPECT_EQ(result->addressee, testing::kAddressee);
  EXPECT_TRUE(result->has_attached_discharge_summary);
  EXPECT_EQ(result->document_type_code, "57133-1");
  EXPECT_EQ(result->bundle_id_value, "1312345678^2025^doc-0001");
}

TEST(ValidateSubmissionTest, DischargeFactsCarryAdmissionDates) {
  auto result = ValidateSubmission(testing::DischargeDocument(), Ctx());
  ASSERT_TRUE(result.ok()) << Describe(result.status());
  EXPECT_EQ(result->admission_date, "2025-05-20");
  EXPECT_EQ(result->discharge_date, "2025-05-31");
}

struct Breakage {
  const char* name;
  std::function<fhir::Value()> build;
  std::function<void(fhir::Value&)> mutate;
  const char* rule;        // IG rule id, or "" when the IG has none
  const char* expression;  // must appear among the issues with that rule
  const char* key;         // clinshub's check key (message prefix)
};

const Breakage kBreakages[] = {
    // Bundle level.
    {"bundle profile missing", testing::ConditionBundle, [](auto& b) { Remove(b, "meta.profile"); },
     "R0213", "Bundle.meta.profile", "bundle-profile"},
    {"collection profile on a document type", testing::ConditionBundle,
     [](auto& b) { SetString(b, "type", "transaction"); }, "", "Bundle.type", "bundle-type"},
    {"resource-type tag missing", testing::ConditionBundle, [](auto& b) { Remove(b, "meta.tag"); },
     "R02141", "Bundle.meta.tag", "bundle-meta-tag-resourceType-exists"},
    {"resource-type tag invalid", testing::ConditionBundle,
     [](auto& b) { SetString(b, "meta.tag[0].code", "MedicationRequest"); }, "R02142",
     "Bundle.meta.tag[0].code", "bundle-meta-tag-resourceType-valid"},
    {"tag names another type than the entries", testing::ConditionBundle,
     [](auto& b) { SetString(b, "meta.tag[0].code", "Observation"); }, "",
     "Bundle.entry[1].resource.resourceType", "bundle-one-resource-type"},
    {"no entry of the tagged type", testing::ConditionBundle,
     [](auto& b) { b.FindMutable("entry")->mutable_items().resize(1); }, "R02143", "Bundle.entry",
     "mustHaveOneMoreResources-with-designatedResourceType"},
    {"identifier system wrong", testing::ConditionBundle,
     [](auto& b) { SetString(b, "identifier.system", "http://jpfhir.jp/fhir/core/IdSystem/documentInstance-identifier"); },
     "R02151", "Bundle.identifier.system", "valid-system-bundleIdenfifier"},
    {"identifier value year out of range", testing::ConditionBundle,
     [](auto& b) { SetString(b, "identifier.value", "1312345678^2045^unit-0001"); }, "R02152",
     "Bundle.identifier.value", "valid-value-bundleIdenfifier"},
    {"identifier value local part too long", testing::ConditionBundle,
     [](auto& b) { SetString(b, "identifier.value", "1312345678^2025^" + std::string(37, 'a')); }, "R02152",
     "Bundle.identifier.value", "valid-value-bundleIdenfifier"},
    {"identifier value with underscore", testing::ConditionBundle,
     [](auto& b) { SetString(b, "identifier.value", "1312345678^2025^unit_1"); }, "R02152",
     "Bundle.identifier.value", "valid-value-bundleIdenfifier"},
    {"fullUrl not a urn:uuid", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[1].fullUrl", "Condition/1"); }, "", "Bundle.entry[1].fullUrl",
     "bundle-fullurl-uuid"},
    {"fullUrl upper-case uuid", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[1].fullUrl", "urn:uuid:00000000-0000-4000-8000-00000000000A"); }, "",
     "Bundle.entry[1].fullUrl", "bundle-fullurl-uuid"},
    {"fullUrl repeated", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[2].fullUrl", "urn:uuid:00000000-0000-4000-8000-000000000010"); }, "",
     "Bundle.entry[2].fullUrl", "bundle-fullurl-unique"},
    {"reference to something other than the Patient", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[1].resource.encounter.reference", "Encounter/123"); }, "",
     "Bundle.entry[1].resource.encounter.reference", "reference-target"},
    {"contained reference unresolved", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[1].resource.encounter.reference", "#nowhere"); }, "",
     "Bundle.entry[1].resource.encounter.reference", "contained-reference-resolves"},
    {"subject not the Patient fullUrl", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[1].resource.subject.reference", "urn:uuid:00000000-0000-4000-8000-000000000077"); },
     "", "Bundle.entry[1].resource.subject.reference", "subject-is-patient"},
    // Patient.
    {"first entry not the Patient", testing::ConditionBundle,
     [](auto& b) { std::swap(At(b, "entry[0]")->mutable_members(), At(b, "entry[1]")->mutable_members()); },
     "R0211", "Bundle.entry[0].resource", "first-bundle-entry-is-Patient"},
    {"Patient without JP_Patient_eCS", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[0].resource.meta.profile[0]", "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient"); },
     "R0212", "Bundle.entry[0].resource.meta.profile", "patients-profile-is-JP-Patient-eCS"},
    {"no insurance identifier", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[0].resource.identifier[1].system", "urn:example"); }, "R1012",
     "Bundle.entry[0].resource.identifier", "valid-system-insurance-patientIdentifier"},
    {"insurance and public-payer identifiers both", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[0].resource.identifier[0].system", "http://jpfhir.jp/fhir/clins/Idsystem/JP_PublicPayer_memberID"); },
     "R1012", "Bundle.entry[0].resource.identifier", "valid-system-insurance-patientIdentifier"},
    {"insurer number not 8 digits", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[0].resource.identifier[1].value", "6123456:AB:1234:01"); }, "R1013",
     "Bundle.entry[0].resource.identifier[1].value", "valid-value-insurance-patientIdentifier"},
    {"branch number one digit", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[0].resource.identifier[1].value", "06123456:AB:1234:1"); }, "R1013",
     "Bundle.entry[0].resource.identifier[1].value", "valid-value-insurance-patientIdentifier"},
    {"full-width space in 番号", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[0].resource.identifier[1].value", "06123456:AB:12　34:01"); }, "R1013",
     "Bundle.entry[0].resource.identifier[1].value", "valid-value-insurance-patientIdentifier"},
    {"half- and full-width mixed in 番号", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[0].resource.identifier[1].value", "06123456:AB:12３4:01"); }, "R1013",
     "Bundle.entry[0].resource.identifier[1].value", "valid-value-insurance-patientIdentifier"},
    {"public-payer recipient number 6 characters", testing::ConditionBundle,
     [](auto& b) {
       SetString(b, "entry[0].resource.identifier[1].system", "http://jpfhir.jp/fhir/clins/Idsystem/JP_PublicPayer_memberID");
       SetString(b, "entry[0].resource.identifier[1].value", "12345678::123456:");
     },
     "R1013", "Bundle.entry[0].resource.identifier[1].value", "valid-value-publicPayer-patientIdentifier"},
    {"full-width space in kanji name", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[0].resource.name[0].text", "東京　花子"); }, "R1113",
     "Bundle.entry[0].resource.name[0].text", "kanjiName-kanaName-donot-contain-ZenkakuKuuhaku"},
    // Institution number.
    {"institution extension missing", testing::ConditionBundle,
     [](auto& b) { At(b, "entry[1].resource.extension")->mutable_items().erase(At(b, "entry[1].resource.extension")->mutable_items().begin()); },
     "R9011", "Bundle.entry[1].resource.extension", "all-entries-needs-extension-of-institutionNumber"},
    {"institution number with 11 digits", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[1].resource.extension[0].valueIdentifier.value", "13123456789"); }, "R1021",
     "Bundle.entry[1].resource.extension[0].valueIdentifier.value", "valid-value-institutionNumber"},
    {"institution number with bad 点数表 digit", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[1].resource.extension[0].valueIdentifier.value", "1342345678"); }, "R1021",
     "Bundle.entry[1].resource.extension[0].valueIdentifier.value", "valid-value-institutionNumber"},
    {"institution number differs from the bundle identifier", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[1].resource.extension[0].valueIdentifier.value", "1312345679"); }, "",
     "Bundle.entry[1].resource.extension[0].valueIdentifier.value", "institution-consistent"},
    // Flags.
    {"unknown flag code", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[2].resource.meta.tag[0].code", "SECRET"); }, "R70010",
     "Bundle.entry[2].resource.meta.tag[0].code", "meta-tag-code-LTS-restriction"},
    {"UNINFORMED on an allergy", testing::AllergyBundle,
     [](auto& b) { SetString(b, "entry[2].resource.meta.tag[0].code", "UNINFORMED"); }, "R70010",
     "Bundle.entry[2].resource.meta.tag[0].code", "meta-tag-code-LTS-restriction"},
    {"LTS on a core lab item", testing::ObservationBundle,
     [](auto& b) { *At(b, "entry[1].resource.meta.tag") = *At(b, "entry[2].resource.meta.tag"); }, "R6031",
     "Bundle.entry[1].resource.meta.tag[0]", "check-LTS-MemberOf-infectionLabo"},
    // Condition.
    {"condition without MEDIS coding", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[1].resource.code.coding[0].system", "http://medis.or.jp/CodeSystem/master-disease-exCode"); },
     "", "Bundle.entry[1].resource.code.coding", "condition-medis-code"},
    {"condition MEDIS code malformed", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[1].resource.code.coding[0].code", "2006450"); }, "",
     "Bundle.entry[1].resource.code.coding[0].code", "condition-medis-code"},
    {"condition without code.text", testing::ConditionBundle,
     [](auto& b) { Remove(b, "entry[1].resource.code.text"); }, "", "Bundle.entry[1].resource.code.text",
     "code-text"},
    {"condition without onsetDateTime", testing::ConditionBundle,
     [](auto& b) { Remove(b, "entry[1].resource.onsetDateTime"); }, "R9015C",
     "Bundle.entry[1].resource.onsetDateTime", "condition-needs-onsetDateTime"},
    {"condition without contained Encounter", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[1].resource.contained[0].meta.profile[0]", "http://example.org/Encounter"); },
     "R9013C", "Bundle.entry[1].resource.contained", "condition-needs-contained-of-Encounter"},
    {"condition without department", testing::ConditionBundle,
     [](auto& b) { At(b, "entry[1].resource.extension")->mutable_items().pop_back(); }, "R9014C",
     "Bundle.entry[1].resource.extension", "condition-needs-extension-of-Department"},
    {"condition without encounter", testing::ConditionBundle,
     [](auto& b) { Remove(b, "entry[1].resource.encounter"); }, "R9016C", "Bundle.entry[1].resource.encounter",
     "condition-needs-encounter"},
    {"condition category unknown", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[1].resource.category[0].coding[0].code", "health-concern"); }, "",
     "Bundle.entry[1].resource.category", "condition-category"},
    {"condition without verificationStatus", testing::ConditionBundle,
     [](auto& b) { Remove(b, "entry[1].resource.verificationStatus"); }, "",
     "Bundle.entry[1].resource.verificationStatus", "condition-verification"},
    {"condition refuted", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[1].resource.verificationStatus.coding[0].code", "refuted"); }, "",
     "Bundle.entry[1].resource.verificationStatus", "condition-verification"},
    {"condition abated but active", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[1].resource.abatementDateTime", "2025-01-01"); }, "",
     "Bundle.entry[1].resource.clinicalStatus", "condition-clinical-status"},
    {"condition in the wrong profile", testing::ConditionBundle,
     [](auto& b) { SetString(b, "entry[1].resource.meta.profile[0]", "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Condition"); },
     "", "Bundle.entry[1].resource.meta.profile", "validEntryProfile"},
    // AllergyIntolerance.
    {"unknown J-FAGY food code", testing::AllergyBundle,
     [](auto& b) { SetString(b, "entry[1].resource.code.coding[0].code", "J9FZ99999999"); }, "",
     "Bundle.entry[1].resource.code.coding[0].code", "allergy-jfagy-known"},
    {"retired J-FAGY food code", testing::AllergyBundle,
     [](auto& b) { SetString(b, "entry[1].resource.code.coding[0].code", "J9FA32111600"); }, "",
     "Bundle.entry[1].resource.code.coding[0].code", "allergy-jfagy-current"},
    {"non-food code in the food system", testing::AllergyBundle,
     [](auto& b) { SetString(b, "entry[1].resource.code.coding[0].code", "J9NB10010000"); }, "",
     "Bundle.entry[1].resource.code.coding[0].code", "allergy-jfagy-known"},
    {"medication code not YCM + YJ", testing::AllergyBundle,
     [](auto& b) { SetString(b, "entry[2].resource.code.coding[0].code", "YCM1124017"); }, "",
     "Bundle.entry[2].resource.code.coding[0].code", "allergy-jfagy-code"},
    {"no J-FAGY coding", testing::AllergyBundle,
     [](auto& b) { SetString(b, "entry[1].resource.code.coding[0].system", "http://example.org/allergen"); }, "",
     "Bundle.entry[1].resource.code.coding", "allergy-jfagy-code"},
    {"dummy code without text", testing::AllergyBundle,
     [](auto& b) { Remove(b, "entry[3].resource.code.text"); }, "", "Bundle.entry[3].resource.code.text",
     "allergy-dummy-needs-text"},
    {"allergy without clinicalStatus", testing::AllergyBundle,
     [](auto& b) { Remove(b, "entry[1].resource.clinicalStatus"); }, "",
     "Bundle.entry[1].resource.clinicalStatus", "allergy-clinical-status"},
    {"allergy without category", testing::AllergyBundle,
     [](auto& b) { Remove(b, "entry[1].resource.category"); }, "", "Bundle.entry[1].resource.category",
     "allergy-category"},
    {"medication code with food category", testing::AllergyBundle,
     [](auto& b) { *At(b, "entry[2].resource.category[0]") = fhir::Value::String("food"); }, "",
     "Bundle.entry[2].resource.category", "allergy-category"},
    // Observation.
    {"observation without local code", testing::ObservationBundle,
     [](auto& b) { SetString(b, "entry[1].resource.code.coding[0].system", "http://example.org/lab"); }, "R6021",
     "Bundle.entry[1].resource.code.coding", "needs-localCode-observation-laboresult"},
    {"core-lab code not designated", testing::ObservationBundle,
     [](auto& b) { SetString(b, "entry[1].resource.code.coding[1].code", "3A015000002329199"); }, "",
     "Bundle.entry[1].resource.code.coding[1].code", "observation-clins-code"},
    {"infection code under the core-lab system", testing::ObservationBundle,
     [](auto& b) { SetString(b, "entry[1].resource.code.coding[1].code", "5F016141002305151"); }, "",
     "Bundle.entry[1].resource.code.coding[1].code", "observation-clins-code"},
    {"observation without effectiveDateTime", testing::ObservationBundle,
     [](auto& b) { Remove(b, "entry[1].resource.effectiveDateTime"); }, "",
     "Bundle.entry[1].resource.effectiveDateTime", "observation-effective"},
    {"observation with value and dataAbsentReason", testing::ObservationBundle,
     [](auto& b) { SetString(b, "entry[1].resource.dataAbsentReason.text", "not done"); }, "",
     "Bundle.entry[1].resource.dataAbsentReason", "observation-value-or-absent-reason"},
    {"observation with neither value nor dataAbsentReason", testing::ObservationBundle,
     [](auto& b) { Remove(b, "entry[1].resource.valueQuantity"); }, "", "Bundle.entry[1].resource.value[x]",
     "observation-value-or-absent-reason"},
    {"observation with hasMember", testing::ObservationBundle,
     [](auto& b) { SetString(b, "entry[1].resource.hasMember", ""); *At(b, "entry[1].resource.hasMember") = testing::Json(R"([{"reference":"urn:uuid:00000000-0000-4000-8000-000000000011"}])"); },
     "R6081", "Bundle.entry[1].resource.hasMember", "observation-has-no-hasMember"},
    {"observation status unknown", testing::ObservationBundle,
     [](auto& b) { SetString(b, "entry[1].resource.status", "unknown"); }, "", "Bundle.entry[1].resource.status",
     "observation-status"},
    {"observation without performer", testing::ObservationBundle,
     [](auto& b) { Remove(b, "entry[1].resource.performer"); }, "R9017O", "Bundle.entry[1].resource.performer",
     "observation-needs-performer"},
    {"observation without department", testing::ObservationBundle,
     [](auto& b) { At(b, "entry[1].resource.extension")->mutable_items().pop_back(); }, "R9014O",
     "Bundle.entry[1].resource.extension", "observation-needs-extension-of-Department"},
    {"observation without encounter", testing::ObservationBundle,
     [](auto& b) { Remove(b, "entry[1].resource.encounter"); }, "R9016O", "Bundle.entry[1].resource.encounter",
     "observation-needs-encounter"},
    // Documents.
    {"referral without Composition first", testing::ReferralDocument,
     [](auto& b) { std::swap(At(b, "entry[0]")->mutable_members(), At(b, "entry[1]")->mutable_members()); }, "",
     "Bundle.entry[0].resource", "document-composition-first"},
    {"referral with the wrong type code", testing::ReferralDocument,
     [](auto& b) { SetString(b, "entry[0].resource.type.coding[0].code", "18842-5"); }, "",
     "Bundle.entry[0].resource.type", "document-type-code"},
    {"referral with the wrong Composition profile", testing::ReferralDocument,
     [](auto& b) { SetString(b, "entry[0].resource.meta.profile[0]", "http://jpfhir.jp/fhir/ePCS/StructureDefinition/JP_Composition_ePCS"); },
     "", "Bundle.entry[0].resource.meta.profile", "document-composition-profile"},
    {"referral without section 910", testing::ReferralDocument,
     [](auto& b) { SetString(b, "entry[0].resource.section[1].code.coding[0].code", "950"); }, "",
     "Bundle.entry[0].resource.section", "document-section-required"},
    {"referral addressee without institution number", testing::ReferralDocument,
     [](auto& b) { SetString(b, "entry[4].resource.identifier[0].value", "98765432"); }, "",
     "Bundle.entry[0].resource.section[1].entry[0].reference", "referral-addressee"},
    {"referral with both CDA and structured sections", testing::ReferralDocument,
     [](auto& b) { SetString(b, "entry[0].resource.section[3].code.coding[0].code", "200"); }, "",
     "Bundle.entry[0].resource.section", "checkExist-CDASection-or-CompositionSection"},
    {"referral that is only a PDF", testing::ReferralDocument,
     [](auto& b) {
       *At(b, "entry[0].resource.section[2]") = *At(b, "entry[0].resource.section[3]");
       SetString(b, "entry[0].resource.section[2].code.coding[0].code", "200");
       SetString(b, "entry[7].resource.content[0].attachment.contentType", "application/pdf");
       SetString(b, "entry[7].resource.type.coding[0].code", "57133-1");
     },
     "", "Bundle.entry[0].resource.section", "referral-not-pdf-only"},
    {"referral reference not resolving", testing::ReferralDocument,
     [](auto& b) { SetString(b, "entry[0].resource.custodian.reference", "urn:uuid:00000000-0000-4000-8000-000000000055"); },
     "", "Bundle.entry[0].resource.custodian.reference", "document-reference-resolves"},
    {"referral MedicationRequest without YJ", testing::ReferralDocument,
     [](auto& b) { SetString(b, "entry[6].resource.medicationCodeableConcept.coding[0].system", "http://medis.or.jp/CodeSystem/master-HOT9"); },
     "R3011", "Bundle.entry[6].resource.medicationCodeableConcept.coding", "needs-anyOf-YJ-medicationCode"},
    {"referral MedicationRequest without usage code", testing::ReferralDocument,
     [](auto& b) { SetString(b, "entry[6].resource.dosageInstruction[0].timing.code.coding[0].system", "http://jami.jp/CodeSystem/MedicationUsage"); },
     "R5020", "Bundle.entry[6].resource.dosageInstruction[0].timing.code", "validUsage-MedicationUsage-codesystem"},
    {"document without timestamp", testing::ReferralDocument, [](auto& b) { Remove(b, "timestamp"); }, "",
     "Bundle.timestamp", "bundle-timestamp"},
    {"document Patient with a bad identifier", testing::ReferralDocument,
     [](auto& b) { SetString(b, "entry[1].resource.identifier[1].value", "06123456:AB:1234"); }, "R1013",
     "Bundle.entry[1].resource.identifier[1].value", "valid-value-insurance-patientIdentifier"},
    {"discharge summary without discharge date", testing::DischargeDocument,
     [](auto& b) { Remove(b, "entry[0].resource.event[0].period.end"); }, "",
     "Bundle.entry[0].resource.event[0].period.end", "discharge-admission-dates"},
    {"discharge summary without 200 or 300", testing::DischargeDocument,
     [](auto& b) { SetString(b, "entry[0].resource.section[0].code.coding[0].code", "220"); }, "",
     "Bundle.entry[0].resource.section", "checkExist-CDASection-or-CompositionSection"},
    {"checkup with the referral type code", testing::CheckupDocument,
     [](auto& b) { SetString(b, "entry[0].resource.type.coding[0].code", "57133-1"); }, "",
     "Bundle.entry[0].resource.type", "document-type-code"},
    {"checkup declared as a collection", testing::CheckupDocument,
     [](auto& b) { SetString(b, "type", "collection"); }, "", "Bundle.type", "bundle-type"},
    {"ePCS is not a submission type", testing::ReferralDocument,
     [](auto& b) { SetString(b, "meta.profile[0]", "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_ePCS|1"); },
     "", "Bundle.meta.profile[0]", "bundle-not-submission-type"},
};

TEST(ValidateSubmissionTest, RejectsEachBrokenRuleWithItsIdAndPath) {
  for (const auto& c : kBreakages) {
    fhir::Value bundle = c.build();
    c.mutate(bundle);
    auto result = ValidateSubmission(bundle, Ctx());
    ASSERT_FALSE(result.ok()) << c.name;
    EXPECT_EQ(result.status().code(), ErrorCode::kUnprocessable) << c.name;
    bool found = false;
    for (const auto& i : result.status().issues()) {
      found |= i.rule == c.rule && i.expression == c.expression && i.severity == Severity::kError &&
               i.message.starts_with(std::string(c.key) + ":");
    }
    EXPECT_TRUE(found) << c.name << ": want [" << c.rule << "] " << c.expression << " " << c.key << ", got\n"
                       << Describe(result.status());
  }
}

TEST(ValidateSubmissionTest, ReportsEveryProblemAtOnce) {
  fhir::Value bundle = testing::ConditionBundle();
  Remove(bundle, "meta.tag");
  SetString(bundle, "identifier.value", "bad");
  SetString(bundle, "entry[0].resource.name[0].text", "東京　花子");
  Remove(bundle, "entry[1].resource.onsetDateTime");
  auto result = ValidateSubmission(bundle, Ctx());
  ASSERT_FALSE(result.ok());
  std::set<std::string> rules;
  for (const auto& i : result.status().issues()) rules.insert(i.rule);
  for (const char* want : {"R02141", "R02152", "R1113", "R9015C"}) EXPECT_TRUE(rules.contains(want)) << want;
}

TEST(ValidateSubmissionTest, RejectsABundleFromAnotherInstitutionThanTheCaller) {
  ValidationContext ctx = Ctx();
  ctx.caller_institution = "2712345678";
  auto result = ValidateSubmission(testing::ConditionBundle(), ctx);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().issues()[0].expression, "Bundle.identifier.value");
  EXPECT_TRUE(result.status().issues()[0].message.starts_with("institution-is-sender:"));
}

TEST(ValidateSubmissionTest, AcceptsWithWarningsOnly) {
  fhir::Value bundle = testing::ConditionBundle();
  SetString(bundle, "entry[1].resource.category[0].coding[0].code", "problem-list-item");
  auto result = ValidateSubmission(bundle, Ctx());
  ASSERT_TRUE(result.ok()) << Describe(result.status());
  ASSERT_EQ(result->warnings.size(), 1u);
  EXPECT_EQ(result->warnings[0].severity, Severity::kWarning);
}

TEST(ValidateSubmissionTest, WarnsWhenTheDocumentCustodianIsAnotherInstitution) {
  fhir::Value bundle = testing::ReferralDocument();
  SetString(bundle, "entry[3].resource.identifier[0].value", "1311111111");
  auto result = ValidateSubmission(bundle, Ctx());
  ASSERT_TRUE(result.ok()) << Describe(result.status());
  ASSERT_EQ(result->warnings.size(), 1u);
  EXPECT_EQ(result->warnings[0].expression, "Bundle.entry[3].resource.identifier[0].value");
  EXPECT_TRUE(result->warnings[0].message.starts_with("institution-consistent:"));
}

TEST(CheckSubmissionSizeTest, AllowsTenMegabytesAndNoMore) {
  EXPECT_TRUE(CheckSubmissionSize(kMaxSubmissionBytes).ok());
  EXPECT_EQ(CheckSubmissionSize(kMaxSubmissionBytes + 1).code(), ErrorCode::kPayloadTooLarge);
}

}  // namespace
}  // namespace clinshub::clins
