#include "clins/test_bundles.h"

#include <gtest/gtest.h>

#include "fhir/json.h"

namespace clinshub::clins::testing {
namespace {

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// $INST, $PAT and $ADDR are substituted; $U(n) stands for urn:uuid:…n.
std::string Fill(std::string json) {
  json = Replace(std::move(json), "$INST", kInstitution);
  json = Replace(std::move(json), "$ADDR", kAddressee);
  json = Replace(std::move(json), "$PAT", kPatientUrl);
  json = Replace(std::move(json), "$U", "urn:uuid:00000000-0000-4000-8000-0000000000");
  return json;
}

constexpr std::string_view kPatient = R"({"fullUrl":"$PAT","resource":{
  "resourceType":"Patient",
  "meta":{"profile":["http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Patient_eCS"]},
  "identifier":[
    {"system":"urn:oid:1.2.392.100495.20.3.51.1$INST","value":"P-0042"},
    {"system":"http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID","value":"06123456:ＡＢ:１２３４:01"}],
  "name":[{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation","valueCode":"IDE"}],
           "use":"official","text":"東京 花子","family":"東京","given":["花子"]},
          {"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation","valueCode":"SYL"}],
           "use":"official","text":"トウキョウ ハナコ","family":"トウキョウ","given":["ハナコ"]}],
  "gender":"female","birthDate":"1980-01-02"}})";

constexpr std::string_view kInstExt = R"({"url":"http://jpfhir.jp/fhir/clins/Extension/StructureDefinition/JP_eCS_InstitutionNumber",
  "valueIdentifier":{"system":"http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no","value":"$INST"}})";
constexpr std::string_view kDeptExt = R"({"url":"http://jpfhir.jp/fhir/eCS/Extension/StructureDefinition/JP_eCS_Department",
  "valueCodeableConcept":{"coding":[{"system":"http://jami.jp/SS-MIX2/CodeSystem/ClinicalDepartment","code":"01","display":"内科"}]}})";
constexpr std::string_view kContainedEncounter = R"({"resourceType":"Encounter","id":"enc",
  "meta":{"profile":["http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Encounter_eCS"]},
  "status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"}})";
constexpr std::string_view kContainedPractitioner = R"({"resourceType":"Practitioner","id":"doc",
  "meta":{"profile":["http://jpfhir.jp/fhir/core/StructureDefinition/JP_Practitioner"]},
  "name":[{"text":"内科 一郎"}]})";

std::string Collection(std::string_view type, const std::string& entries) {
  return Fill(R"({"resourceType":"Bundle",
    "meta":{"profile":["http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS|1.11.0"],
            "tag":[{"system":"http://jpfhir.jp/fhir/clins/CodeSystem/BundleResourceType_CS","code":")" +
              std::string(type) + R"("}]},
    "identifier":{"system":"http://jpfhir.jp/fhir/clins/bundle-identifier","value":"$INST^2025^unit-0001"},
    "type":"collection","timestamp":"2025-06-01T10:00:00+09:00",
    "entry":[)" + std::string(kPatient) + "," + entries + "]}");
}

std::string Condition(std::string_view url, std::string_view code, std::string_view text,
                      std::string_view extra_meta) {
  return R"({"fullUrl":")" + std::string(url) + R"(","resource":{"resourceType":"Condition",
    "meta":{"profile":["http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Condition_eCS"])" +
         std::string(extra_meta) + R"(},
    "extension":[)" + std::string(kInstExt) + "," + std::string(kDeptExt) + R"(],
    "contained":[)" + std::string(kContainedEncounter) + R"(],
    "identifier":[{"system":"http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier","value":"c-1"}],
    "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
    "verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]},
    "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"encounter-diagnosis"}]}],
    "code":{"coding":[{"system":"http://medis.or.jp/CodeSystem/master-disease-keyNumber","code":")" +
         std::string(code) + R"("}],"text":")" + std::string(text) + R"("},
    "subject":{"reference":"$PAT"},"encounter":{"reference":"#enc"},
    "onsetDateTime":"2024-04-01","recordedDate":"2024-04-01"}})";
}

std::string Allergy(std::string_view url, std::string_view system, std::string_view code,
                    std::string_view text, std::string_view category, std::string_view extra_meta) {
  return R"({"fullUrl":")" + std::string(url) + R"(","resource":{"resourceType":"AllergyIntolerance",
    "meta":{"profile":["http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_AllergyIntolerance_eCS"])" +
         std::string(extra_meta) + R"(},
    "extension":[)" + std::string(kInstExt) + R"(],
    "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"active"}]},
    "category":[")" + std::string(category) + R"("],
    "code":{"coding":[{"system":")" + std::string(system) + R"(","code":")" + std::string(code) +
         R"("}],"text":")" + std::string(text) + R"("},
    "patient":{"reference":"$PAT"},"recordedDate":"2024-04-01"}})";
}

std::string Observation(std::string_view url, std::string_view system, std::string_view code,
                        std::string_view extra_meta) {
  return R"({"fullUrl":")" + std::string(url) + R"(","resource":{"resourceType":"Observation",
    "meta":{"profile":["http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Observation_LabResult_eCS"])" +
         std::string(extra_meta) + R"(},
    "extension":[)" + std::string(kInstExt) + "," + std::string(kDeptExt) + R"(],
    "contained":[)" + std::string(kContainedEncounter) + "," + std::string(kContainedPractitioner) + R"(],
    "status":"final",
    "category":[{"coding":[{"system":"http://jpfhir.jp/fhir/core/CodeSystem/JP_SimpleObservationCategory_CS","code":"laboratory"}]}],
    "code":{"coding":[{"system":"http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_LocalCode_CS","code":"L-100"},
                      {"system":")" + std::string(system) + R"(","code":")" + std::string(code) + R"("}],"text":"検査"},
    "subject":{"reference":"$PAT"},"encounter":{"reference":"#enc"},
    "effectiveDateTime":"2025-05-30T09:00:00+09:00","performer":[{"reference":"#doc"}],
    "valueQuantity":{"value":4.1,"unit":"g/dL"}}})";
}

constexpr std::string_view kLts = R"(,"tag":[{"system":"http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication","code":"LTS"}])";

// Document entries shared by the three documents: 02 author, 03 sending organisation.
constexpr std::string_view kAuthor = R"({"fullUrl":"$U02","resource":{"resourceType":"Practitioner",
  "meta":{"profile":["http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Practitioner_eCS"]},
  "name":[{"text":"内科 一郎"}]}})";
constexpr std::string_view kSender = R"({"fullUrl":"$U03","resource":{"resourceType":"Organization",
  "meta":{"profile":["http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Organization_eCS"]},
  "identifier":[{"system":"http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no","value":"$INST"}],
  "name":"東京内科クリニック"}})";

std::string Document(std::string_view bundle_profile, std::string_view composition, const std::string& more) {
  return Fill(R"({"resourceType":"Bundle",
    "meta":{"profile":[")" + std::string(bundle_profile) + R"("]},
    "identifier":{"system":"http://jpfhir.jp/fhir/clins/bundle-identifier","value":"$INST^2025^doc-0001"},
    "type":"document","timestamp":"2025-06-01T10:00:00+09:00",
    "entry":[{"fullUrl":"$U99","resource":)" + std::string(composition) + "}," + std::string(kPatient) + "," +
              std::string(kAuthor) + "," + std::string(kSender) + more + "]}");
}

std::string CompositionJson(std::string_view profile, std::string_view type, std::string_view title,
                            std::string_view extra) {
  return R"({"resourceType":"Composition",
    "meta":{"profile":[")" + std::string(profile) + R"("]},
    "extension":[{"url":"http://hl7.org/fhir/StructureDefinition/composition-clinicaldocument-versionNumber","valueString":"1.0"}],
    "identifier":{"system":"http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier","value":"$INST-2025-1"},
    "status":"final",
    "type":{"coding":[{"system":"http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes","code":")" +
         std::string(type) + R"("}]},
    "subject":{"reference":"$PAT"},"date":"2025-06-01T10:00:00+09:00",
    "author":[{"reference":"$U02"},{"reference":"$U03"}],"title":")" + std::string(title) + R"(",
    "custodian":{"reference":"$U03"})" + std::string(extra) + "}";
}

constexpr std::string_view kSec = "http://jpfhir.jp/fhir/clins/CodeSystem/document-section";

std::string Section(std::string_view code, std::string_view entries, std::string_view subsections = {}) {
  std::string s = R"({"title":"s)" + std::string(code) + R"(","code":{"coding":[{"system":")" +
                  std::string(kSec) + R"(","code":")" + std::string(code) + R"("}]})";
  if (!entries.empty()) s += R"(,"entry":[)" + std::string(entries) + "]";
  if (!subsections.empty()) s += R"(,"section":[)" + std::string(subsections) + "]";
  return s + "}";
}

constexpr std::string_view kDocCondition = R"(,{"fullUrl":"$U05","resource":{"resourceType":"Condition",
  "meta":{"profile":["http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Condition_eCS"]},
  "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
  "code":{"coding":[{"system":"http://medis.or.jp/CodeSystem/master-disease-keyNumber","code":"20064507"}],"text":"高血圧症"},
  "subject":{"reference":"$PAT"}}})";

}  // namespace

fhir::Value Json(std::string_view json) {
  auto parsed = fhir::ParseJson(json);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << json;
  return parsed.ok() ? std::move(parsed).value() : fhir::Value();
}

fhir::Value ConditionBundle() {
  return Json(Collection("Condition",
                         Condition("$U10", "20064507", "高血圧症", "") + "," +
                             Condition("$U11", "99999999", "右膝の違和感",
                                       R"(,"tag":[{"system":"http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication","code":"UNINFORMED"}])")));
}

fhir::Value AllergyBundle() {
  return Json(Collection(
      "AllergyIntolerance",
      Allergy("$U10", "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyFoodAllergen_CS", "J9FA32540000",
              "キウイ", "food", "") + "," +
          Allergy("$U11", "http://jpfhir.jp/fhir/core/CodeSystem/YCM/JP_JfagyMedicationAllergen_CS",
                  "YCM1124017F1024", "トリアゾラム錠", "medication", kLts) + "," +
          Allergy("$U12", "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyNonFoodNonMedicationAllergen_CS",
                  "D9N000000000", "ラテックス手袋", "environment", "")));
}

fhir::Value ObservationBundle() {
  return Json(Collection(
      "Observation",
      Observation("$U10", "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS",
                  "3A015000002329101", "") + "," +
          Observation("$U11", "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_InfectionLabo_CS",
                      "5F016141002305151", kLts)));
}

fhir::Value ReferralDocument() {
  const std::string sections =
      R"(,"section":[)" + Section("920", R"({"reference":"$U03"},{"reference":"$U02"})") + "," +
      Section("910", R"({"reference":"$U04"})") + "," +
      Section("300", "", Section("340", R"({"reference":"$U05"})") + "," +
                             Section("430", R"({"reference":"$U06"})")) + "," +
      Section("210", R"({"reference":"$U07"})") + "]";
  const std::string more = R"(,{"fullUrl":"$U04","resource":{"resourceType":"Organization",
      "meta":{"profile":["http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Organization_eCS"]},
      "identifier":[{"system":"http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no","value":"$ADDR"}],
      "name":"港総合病院"}})" + std::string(kDocCondition) + R"(,{"fullUrl":"$U06","resource":{"resourceType":"MedicationRequest",
      "meta":{"profile":["http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_MedicationRequest_eCS"]},
      "status":"active","intent":"order","authoredOn":"2025-05-30",
      "medicationCodeableConcept":{"coding":[{"system":"http://capstandard.jp/iyaku.info/CodeSystem/YJ-code","code":"2149039F1020"}],"text":"降圧薬"},
      "subject":{"reference":"$PAT"},
      "dosageInstruction":[{"text":"1日1回朝食後","timing":{"code":{"coding":[
        {"system":"http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationUsage_ePrescription","code":"1013044400000000"}]}}}]}},
    {"fullUrl":"$U07","resource":{"resourceType":"DocumentReference","status":"current",
      "type":{"coding":[{"system":"http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes","code":"18842-5"}]},
      "subject":{"reference":"$PAT"},
      "content":[{"attachment":{"contentType":"application/fhir+json","data":"e30="}}]}})";
  return Json(Document(
      "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eReferral",
      CompositionJson("http://jpfhir.jp/fhir/eReferral/StructureDefinition/JP_Composition_eReferral",
                      "57133-1", "診療情報提供書",
                      R"(,"event":[{"code":[{"text":"紹介"}],"period":{"start":"2025-06-01"}}])" + sections),
      more));
}

fhir::Value DischargeDocument() {
  const std::string sections =
      R"(,"section":[)" + Section("300", "", Section("340", R"({"reference":"$U05"})")) + "]";
  return Json(Document(
      "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eDischargeSummary",
      CompositionJson("http://jpfhir.jp/fhir/eDischargeSummary/StructureDefinition/JP_Composition_eDischargeSummary",
                      "18842-5", "退院時サマリー",
                      R"(,"event":[{"period":{"start":"2025-05-20","end":"2025-05-31"}}])" + sections),
      std::string(kDocCondition)));
}

fhir::Value CheckupDocument() {
  const std::string sections =
      R"(,"section":[{"title":"検査結果","code":{"coding":[{"system":"http://jpfhir.jp/fhir/eCheckup/CodeSystem/section-code","code":"01011"}]},"entry":[{"reference":"$U08"}]}])";
  const std::string more = R"(,{"fullUrl":"$U08","resource":{"resourceType":"Observation",
      "meta":{"profile":["http://jpfhir.jp/fhir/eCheckup/StructureDefinition/JP_Observation_eCheckupGeneral"]},
      "status":"final","code":{"coding":[{"system":"urn:oid:1.2.392.200119.6.1005","code":"9N001000000000001"}]},
      "subject":{"reference":"$PAT"},"effectiveDateTime":"2025-05-30","valueQuantity":{"value":170.2,"unit":"cm"}}})";
  return Json(Document(
      "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eCheckupGeneral",
      CompositionJson("http://jpfhir.jp/fhir/eCheckup/StructureDefinition/JP_Composition_eCheckupGeneral",
                      "53576-5", "健康診断結果報告書", sections),
      more));
}

fhir::Value* At(fhir::Value& root, std::string_view path) {
  fhir::Value* cur = &root;
  while (!path.empty() && cur) {
    const auto dot = path.find('.');
    std::string_view step = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    int index = -1;
    if (const auto br = step.find('['); br != std::string_view::npos) {
      index = std::stoi(std::string(step.substr(br + 1)));
      step = step.substr(0, br);
    }
    fhir::Value* next = cur->FindMutable(step);
    if (!next) next = &cur->Set(std::string(step), fhir::Value::Object());
    if (index >= 0) {
      if (index >= static_cast<int>(next->items().size())) return nullptr;
      next = &next->mutable_items()[index];
    }
    cur = next;
  }
  return cur;
}

void Remove(fhir::Value& root, std::string_view path) {
  const auto dot = path.rfind('.');
  fhir::Value* parent = dot == std::string_view::npos ? &root : At(root, path.substr(0, dot));
  ASSERT_NE(parent, nullptr) << path;
  EXPECT_TRUE(parent->Erase(path.substr(dot + 1))) << path;
}

void SetString(fhir::Value& root, std::string_view path, std::string_view value) {
  fhir::Value* v = At(root, path);
  ASSERT_NE(v, nullptr) << path;
  *v = fhir::Value::String(std::string(value));
}

}  // namespace clinshub::clins::testing
