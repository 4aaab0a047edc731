// Checks of the single resources carried by a submission: JP_Patient_eCS, JP_Condition_eCS,
// JP_AllergyIntolerance_eCS, JP_Observation_LabResult_eCS, JP_MedicationRequest_eCS, and the
// institution-number extension and flag tags every one of them may carry.
#include <chrono>
#include <string>

#include "clins/checks.h"
#include "clins/codes.h"
#include "common/japanese_text.h"

namespace clinshub::clins::internal {
namespace {

namespace R = rules;

constexpr std::string_view kEcs = "http://jpfhir.jp/fhir/eCS/StructureDefinition/";
constexpr std::string_view kMedisDiseaseCs = "http://medis.or.jp/CodeSystem/master-disease-keyNumber";
constexpr std::string_view kLocalLabCs =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_LocalCode_CS";
constexpr std::string_view kJlac10CoreCs =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS";
constexpr std::string_view kJlac10InfectionCs =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_InfectionLabo_CS";
constexpr std::string_view kJlac11CoreCs =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC11/JP_CLINS_ObsLabResult_CoreLabo_CS";
constexpr std::string_view kJlac11InfectionCs =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC11/JP_CLINS_ObsLabResult_InfectionLabo_CS";
constexpr std::string_view kFoodCs = "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyFoodAllergen_CS";
constexpr std::string_view kNonFoodCs =
    "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyNonFoodNonMedicationAllergen_CS";
constexpr std::string_view kYcmCs = "http://jpfhir.jp/fhir/core/CodeSystem/YCM/JP_JfagyMedicationAllergen_CS";
constexpr std::string_view kGcmCs = "http://jpfhir.jp/fhir/core/CodeSystem/GCM/JP_JfagyMedicationAllergen_CS";
constexpr std::string_view kYjCs = "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code";
constexpr std::string_view kNoCodeMedCs = "http://jpfhir.jp/fhir/eCS/CodeSystem/MedicationCodeNocoded_CS";
constexpr std::string_view kMhlwUsageCs =
    "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationUsage_ePrescription";
constexpr std::string_view kUncodedUsageCs =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_MedicationUsage_Uncoded_CS";
constexpr std::string_view kUncodedUsageCode = "0X0XXXXXXXXX0000";
constexpr std::string_view kIdeographicSpace = "\u3000";

// JP_Encounter in the core guide or any eCS JP_Encounter*: the newest R9013 names the eCS
// prefix, the examples the core profile; both describe the same contained visit.
bool IsContainedEncounter(const fhir::Value& c) {
  return Str(c, "resourceType") == "Encounter" &&
         (HasProfilePrefix(c, "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Encounter") ||
          HasProfilePrefix(c, "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Encounter"));
}
bool IsContainedPractitioner(const fhir::Value& c) {
  return Str(c, "resourceType") == "Practitioner" &&
         (HasProfile(c, "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Practitioner") ||
          HasProfile(c, "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Practitioner_eCS"));
}
template <typename Pred>
bool AnyContained(const fhir::Value& r, Pred pred) {
  const fhir::Value* contained = r.Find("contained");
  if (!contained) return false;
  for (const auto& c : contained->items()) {
    if (pred(c)) return true;
  }
  return false;
}

const std::vector<fhir::Value>& Codings(const fhir::Value& r, std::string_view element) {
  static const std::vector<fhir::Value> kNone;
  const fhir::Value* cc = r.Find(element);
  const fhir::Value* codings = cc ? cc->Find("coding") : nullptr;
  return codings ? codings->items() : kNone;
}

bool HasCoding(const fhir::Value& r, std::string_view element, std::string_view system,
               std::string_view* code = nullptr) {
  for (const auto& c : Codings(r, element)) {
    if (Str(c, "system") == system) {
      if (code) *code = Str(c, "code");
      return true;
    }
  }
  return false;
}

void CheckEntryProfile(Shared& s, const EntryContext& e, std::string_view name) {
  std::string url(kEcs);
  url.append(name);
  if (!HasProfile(e.resource, url)) s.issues.Add(R::kEntryProfile, e.path + ".meta.profile", url);
}

void CheckSubject(Shared& s, const EntryContext& e, std::string_view element) {
  const fhir::Value* subj = e.resource.Find(element);
  const auto ref = subj ? Str(*subj, "reference") : std::string_view();
  if (ref.empty() || ref != s.patient_full_url) {
    s.issues.Add(R::kSubjectIsPatient, e.path + "." + std::string(element) + (subj ? ".reference" : ""),
                 ref);
  }
}

void CheckCodeText(Shared& s, const EntryContext& e) {
  const fhir::Value* code = e.resource.Find("code");
  if (!code || Str(*code, "text").empty()) s.issues.Add(R::kCodeText, e.path + ".code.text");
}

// Today's date in Japan as yyyymmdd: code validity is a calendar matter for the senders.
uint32_t JapanDate(Timestamp now) {
  const auto days = std::chrono::floor<std::chrono::days>(now + std::chrono::hours(9));
  const std::chrono::year_month_day ymd{days};
  return static_cast<uint32_t>(static_cast<int>(ymd.year()) * 10000 +
                               static_cast<unsigned>(ymd.month()) * 100 +
                               static_cast<unsigned>(ymd.day()));
}

}  // namespace

void CheckPatient(Shared& s, const EntryContext& e) {
  const fhir::Value* ids = e.resource.Find("identifier");
  int found = 0;
  size_t at = 0;
  if (ids) {
    for (size_t i = 0; i < ids->items().size(); ++i) {
      const auto system = Str(ids->items()[i], "system");
      if (system == kInsuranceIdSystem || system == kPublicPayerIdSystem) {
        if (found++ == 0) at = i;
      }
    }
  }
  if (found != 1) {
    s.issues.Add(R::kMemberIdCount, e.path + ".identifier",
                 found == 0 ? "none found" : std::to_string(found) + " found");
  }
  if (found >= 1) {
    const auto& id = ids->items()[at];
    const auto system = Str(id, "system");
    const auto value = Str(id, "value");
    const std::string path = Idx(e.path, "identifier", at) + ".value";
    const bool insurance = system == kInsuranceIdSystem;
    const auto problem = insurance ? InsuranceMemberIdProblem(value) : PublicPayerMemberIdProblem(value);
    if (problem) s.issues.Add(insurance ? R::kInsuranceIdValue : R::kPublicPayerIdValue, path, *problem);
    s.facts.patient_id_system = std::string(system);
    s.facts.patient_id_value = std::string(value);
    s.facts.patient_key = NormaliseIdentifier(value);
  }
  // R1113 in the IG looks at the text of kanji/kana names; family and given are the same
  // name split up, so a 全角空白 there is the same mistake.
  if (const fhir::Value* names = e.resource.Find("name")) {
    for (size_t i = 0; i < names->items().size(); ++i) {
      const auto& name = names->items()[i];
      const std::string path = Idx(e.path, "name", i);
      if (Str(name, "text").find(kIdeographicSpace) != std::string_view::npos) {
        s.issues.Add(R::kNameSpace, path + ".text");
      }
      if (Str(name, "family").find(kIdeographicSpace) != std::string_view::npos) {
        s.issues.Add(R::kNameSpace, path + ".family");
      }
      if (const fhir::Value* given = name.Find("given")) {
        for (size_t g = 0; g < given->items().size(); ++g) {
          if (given->items()[g].text().find(kIdeographicSpace) != std::string::npos) {
            s.issues.Add(R::kNameSpace, Idx(path, "given", g));
          }
        }
      }
    }
  }
}

void CheckInstitution(Shared& s, const EntryContext& e, bool required) {
  int at = 0;
  const fhir::Value* ext = FindExtension(e.resource, kInstitutionExt, &at);
  if (!ext) {
    if (required) s.issues.Add(R::kInstitutionMissing, e.path + ".extension");
    return;
  }
  const std::string path = Idx(e.path, "extension", static_cast<size_t>(at)) + ".valueIdentifier.value";
  const fhir::Value* id = ext->Find("valueIdentifier");
  const auto value = id ? Str(*id, "value") : std::string_view();
  if (!IsInstitutionCode(value)) {
    s.issues.Add(R::kInstitutionValue, path, value);
    return;
  }
  if (!s.facts.institution.empty() && value != s.facts.institution) {
    s.issues.Add(R::kInstitutionMismatch, path,
                 std::string(value) + " vs " + s.facts.institution);
  } else if (!s.ctx.caller_institution.empty() && value != s.ctx.caller_institution) {
    s.issues.Add(R::kSenderMismatch, path, std::string(value) + " vs " + s.ctx.caller_institution);
  }
}

void CheckFlags(Shared& s, const EntryContext& e) {
  const fhir::Value* meta = e.resource.Find("meta");
  const fhir::Value* tags = meta ? meta->Find("tag") : nullptr;
  if (!tags) return;
  const auto type = Str(e.resource, "resourceType");
  for (size_t i = 0; i < tags->items().size(); ++i) {
    const auto& tag = tags->items()[i];
    if (Str(tag, "system") != kIndicationCs) continue;
    const auto code = Str(tag, "code");
    const bool ok = (code == "LTS" && (type == "Condition" || type == "AllergyIntolerance" ||
                                       type == "Observation")) ||
                    ((code == "UNINFORMED" || code == "UNDELIVERED") && type == "Condition");
    if (!ok) {
      s.issues.Add(R::kFlagCode, Idx(e.path + ".meta", "tag", i) + ".code",
                   std::string(code) + " on " + std::string(type));
    }
  }
}

void CheckCondition(Shared& s, const EntryContext& e) {
  const auto& r = e.resource;
  CheckSubject(s, e, "subject");
  CheckCodeText(s, e);
  if (e.document) return;  // the CLINS rules below are bound by JP_Bundle_CLINS only
  CheckEntryProfile(s, e, "JP_Condition_eCS");

  const auto& codings = Codings(r, "code");
  bool medis = false;
  for (size_t i = 0; i < codings.size(); ++i) {
    if (Str(codings[i], "system") != kMedisDiseaseCs) continue;
    medis = true;
    const auto code = Str(codings[i], "code");
    if (!IsMedisDiseaseId(code)) {
      s.issues.Add(R::kConditionMedis, Idx(e.path + ".code", "coding", i) + ".code", code);
    }
  }
  if (!medis) s.issues.Add(R::kConditionMedis, e.path + ".code.coding");

  if (Str(r, "onsetDateTime").empty()) s.issues.Add(R::kConditionOnset, e.path + ".onsetDateTime");
  if (!AnyContained(r, IsContainedEncounter)) {
    s.issues.Add(R::kConditionEncounterContained, e.path + ".contained");
  }
  if (!FindExtension(r, kDepartmentExt)) s.issues.Add(R::kConditionDepartment, e.path + ".extension");
  if (!r.Find("encounter")) s.issues.Add(R::kConditionEncounter, e.path + ".encounter");

  const fhir::Value* category = r.Find("category");
  std::string_view cat_code;
  bool category_ok = false;
  if (category && category->items().size() == 1) {
    const fhir::Value* cs = category->items()[0].Find("coding");
    if (cs) {
      for (const auto& c : cs->items()) {
        if (Str(c, "system") == "http://terminology.hl7.org/CodeSystem/condition-category") {
          cat_code = Str(c, "code");
          category_ok = cat_code == "encounter-diagnosis" || cat_code == "problem-list-item";
        }
      }
    }
  }
  if (!category_ok) {
    s.issues.Add(R::kConditionCategory, e.path + ".category", cat_code);
  } else if (cat_code != "encounter-diagnosis") {
    s.issues.Add(R::kConditionCategory, e.path + ".category", cat_code, Severity::kWarning);
  }

  std::string_view verification;
  HasCoding(r, "verificationStatus", "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            &verification);
  if (verification != "confirmed" && verification != "unconfirmed") {
    s.issues.Add(R::kConditionVerification, e.path + ".verificationStatus", verification);
  }

  if (r.Find("clinicalStatus")) {
    std::string_view clinical;
    HasCoding(r, "clinicalStatus", "http://terminology.hl7.org/CodeSystem/condition-clinical", &clinical);
    const bool known = clinical == "active" || clinical == "recurrence" || clinical == "relapse" ||
                       clinical == "inactive" || clinical == "remission" || clinical == "resolved";
    const bool ended = clinical == "inactive" || clinical == "remission" || clinical == "resolved";
    const bool abated = r.Find("abatementDateTime") || r.Find("abatementPeriod") ||
                        r.Find("abatementString") || r.Find("abatementAge") || r.Find("abatementRange");
    if (!known || (abated && !ended)) {
      s.issues.Add(R::kConditionClinical, e.path + ".clinicalStatus", clinical);
    }
  }
}

void CheckAllergy(Shared& s, const EntryContext& e) {
  const auto& r = e.resource;
  CheckSubject(s, e, "patient");
  CheckCodeText(s, e);
  if (e.document) return;
  CheckEntryProfile(s, e, "JP_AllergyIntolerance_eCS");

  const auto& codings = Codings(r, "code");
  const fhir::Value* code_cc = r.Find("code");
  const bool has_text = code_cc && !Str(*code_cc, "text").empty();
  bool jfagy = false, medication_code = false, food_code = false;
  const uint32_t today = JapanDate(s.ctx.now);
  for (size_t i = 0; i < codings.size(); ++i) {
    const auto system = Str(codings[i], "system");
    const auto code = Str(codings[i], "code");
    const std::string path = Idx(e.path + ".code", "coding", i) + ".code";
    const bool food = system == kFoodCs, nonfood = system == kNonFoodCs;
    const bool ycm = system == kYcmCs, gcm = system == kGcmCs;
    if (!(food || nonfood || ycm || gcm)) continue;
    jfagy = true;
    medication_code |= ycm || gcm;
    food_code |= food;
    const bool dummy = code == (food ? "D9F000000000" : nonfood ? "D9N000000000" : "D9M000000000");
    if (dummy) {
      if (!has_text) s.issues.Add(R::kAllergyDummyText, e.path + ".code.text", code);
      continue;
    }
    if (ycm || gcm) {
      // YCM/GCM + a 12-character YJ or 一般名処方 code; not in the J-FAGY food master.
      const std::string_view prefix = ycm ? "YCM" : "GCM";
      if (!code.starts_with(prefix) || !IsYjShapedCode(code.substr(3))) {
        s.issues.Add(R::kAllergyCode, path, code);
      }
      continue;
    }
    const std::string_view prefix = food ? "J9F" : "J9N";
    const auto last_day = code.starts_with(prefix) ? FindJfagy(code) : std::nullopt;
    if (!last_day) {
      s.issues.Add(R::kAllergyUnknownCode, path, code);
    } else if (*last_day < today) {
      s.issues.Add(R::kAllergyRetiredCode, path,
                   std::string(code) + " valid until " + std::to_string(*last_day));
    }
  }
  if (!jfagy) s.issues.Add(R::kAllergyCode, e.path + ".code.coding");

  std::string_view clinical;
  HasCoding(r, "clinicalStatus", "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
            &clinical);
  if (clinical != "active" && clinical != "inactive" && clinical != "resolved") {
    s.issues.Add(R::kAllergyClinical, e.path + ".clinicalStatus", clinical);
  }

  const fhir::Value* category = r.Find("category");
  bool medication_category = false, food_category = false, known = category && !category->items().empty();
  if (category) {
    for (const auto& c : category->items()) {
      const auto v = c.text();
      known &= v == "food" || v == "medication" || v == "environment" || v == "biologic";
      medication_category |= v == "medication";
      food_category |= v == "food";
    }
  }
  if (!known) {
    s.issues.Add(R::kAllergyCategory, e.path + ".category");
  } else if (medication_code != medication_category || (food_code && !food_category)) {
    s.issues.Add(R::kAllergyCategory, e.path + ".category", "category does not match the code system");
  }
}

void CheckObservation(Shared& s, const EntryContext& e) {
  const auto& r = e.resource;
  CheckSubject(s, e, "subject");
  if (e.document) return;  // documents carry JP_Observation_Common_eCS and others too
  CheckEntryProfile(s, e, "JP_Observation_LabResult_eCS");

  const auto& codings = Codings(r, "code");
  bool local = false, infection = false;
  for (size_t i = 0; i < codings.size(); ++i) {
    const auto system = Str(codings[i], "system");
    const auto code = Str(codings[i], "code");
    const std::string path = Idx(e.path + ".code", "coding", i) + ".code";
    if (system == kLocalLabCs) {
      local |= !code.empty();
    } else if (system == kJlac10CoreCs || system == kJlac10InfectionCs) {
      const auto list = FindJlac10(code);
      const auto want = system == kJlac10CoreCs ? LabList::kCoreLab : LabList::kInfection;
      if (!list || *list != want) {
        s.issues.Add(R::kObsClinsCode, path,
                     std::string(code) + (list ? " belongs to the other designated list" : " is not designated"));
      } else {
        infection |= want == LabList::kInfection;
      }
    } else if (system == kJlac11CoreCs || system == kJlac11InfectionCs) {
      // No JLAC11 list is published with the IG material at hand: presence only.
      if (code.empty()) s.issues.Add(R::kObsClinsCode, path, "empty code");
      infection |= system == kJlac11InfectionCs;
    }
  }
  if (!local) s.issues.Add(R::kObsLocalCode, e.path + ".code.coding");
  if (Str(r, "effectiveDateTime").empty()) s.issues.Add(R::kObsEffective, e.path + ".effectiveDateTime");

  bool has_value = false;
  for (const auto& [key, v] : r.members()) has_value |= key.starts_with("value");
  const bool absent = r.Find("dataAbsentReason") != nullptr;
  if (has_value == absent) {
    s.issues.Add(R::kObsValue, e.path + (has_value ? ".dataAbsentReason" : ".value[x]"));
  }
  if (r.Find("hasMember")) s.issues.Add(R::kObsHasMember, e.path + ".hasMember");

  const auto status = Str(r, "status");
  if (status != "registered" && status != "preliminary" && status != "final" && status != "amended" &&
      status != "corrected" && status != "cancelled") {
    s.issues.Add(R::kObsStatus, e.path + ".status", status);
  }
  bool laboratory = false;
  if (const fhir::Value* cats = r.Find("category")) {
    for (const auto& cat : cats->items()) {
      if (const fhir::Value* cs = cat.Find("coding")) {
        for (const auto& c : cs->items()) laboratory |= Str(c, "code") == "laboratory";
      }
    }
  }
  if (!laboratory) s.issues.Add(R::kObsCategory, e.path + ".category");

  if (!AnyContained(r, IsContainedEncounter)) s.issues.Add(R::kObsEncounterContained, e.path + ".contained");
  if (!FindExtension(r, kDepartmentExt)) s.issues.Add(R::kObsDepartment, e.path + ".extension");
  if (!r.Find("encounter")) s.issues.Add(R::kObsEncounter, e.path + ".encounter");
  if (!HasNonEmpty(r, "performer")) s.issues.Add(R::kObsPerformer, e.path + ".performer");
  if (!AnyContained(r, IsContainedPractitioner)) {
    s.issues.Add(R::kObsPractitionerContained, e.path + ".contained", {}, Severity::kWarning);
  }

  if (const fhir::Value* meta = r.Find("meta")) {
    if (const fhir::Value* tags = meta->Find("tag")) {
      for (size_t i = 0; i < tags->items().size(); ++i) {
        const auto& tag = tags->items()[i];
        if (Str(tag, "system") == kIndicationCs && Str(tag, "code") == "LTS" && !infection) {
          s.issues.Add(R::kLtsInfectionOnly, Idx(e.path + ".meta", "tag", i));
        }
      }
    }
  }
}

void CheckMedicationRequest(Shared& s, const EntryContext& e) {
  const auto& r = e.resource;
  CheckEntryProfile(s, e, "JP_MedicationRequest_eCS");
  CheckSubject(s, e, "subject");
  for (std::string_view element : {"status", "intent", "authoredOn", "dosageInstruction"}) {
    if (!HasNonEmpty(r, element)) s.issues.Add(R::kMedRequired, e.path + "." + std::string(element));
  }
  const fhir::Value* med = r.Find("medicationCodeableConcept");
  if (!med) {
    s.issues.Add(R::kMedRequired, e.path + ".medicationCodeableConcept");
  } else {
    int yj = 0;
    bool nocode = false;
    for (const auto& c : Codings(r, "medicationCodeableConcept")) {
      yj += Str(c, "system") == kYjCs;
      nocode |= Str(c, "system") == kNoCodeMedCs;
    }
    if (yj != 1 || nocode) s.issues.Add(R::kMedYj, e.path + ".medicationCodeableConcept.coding");
  }
  if (const fhir::Value* dosages = r.Find("dosageInstruction")) {
    for (size_t i = 0; i < dosages->items().size(); ++i) {
      const fhir::Value* timing = dosages->items()[i].Find("timing");
      bool mhlw = false, uncoded = false;
      if (timing) {
        for (const auto& c : Codings(*timing, "code")) {
          mhlw |= Str(c, "system") == kMhlwUsageCs;
          uncoded |= Str(c, "system") == kUncodedUsageCs && Str(c, "code") == kUncodedUsageCode;
        }
      }
      const std::string path = Idx(e.path, "dosageInstruction", i) + ".timing.code";
      if (mhlw && uncoded) {
        s.issues.Add(R::kMedUsageBoth, path);
      } else if (!mhlw && !uncoded) {
        s.issues.Add(R::kMedUsage, path);
      }
    }
  }
}

}  // namespace clinshub::clins::internal
