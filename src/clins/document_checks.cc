// The three documents: 診療情報提供書 (JP_Composition_eReferral), 退院時サマリー
// (JP_Composition_eDischargeSummary) and 健康診断結果報告書 (JP_Composition_eCheckupGeneral).
#include <string>
#include <unordered_set>

#include "clins/checks.h"
#include "clins/codes.h"

namespace clinshub::clins::internal {
namespace {

namespace R = rules;

constexpr std::string_view kDocTypeCs = "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes";
constexpr std::string_view kPatientEcs = "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Patient_eCS";
constexpr std::string_view kPatientCheckup =
    "http://jpfhir.jp/fhir/eCheckup/StructureDefinition/JP_Patient_eCheckupGeneral";
// Section code systems seen across the document guides' versions; codes mean the same in each.
constexpr std::string_view kSectionSystems[] = {
    "http://jpfhir.jp/fhir/clins/CodeSystem/document-section",
    "http://jpfhir.jp/fhir/eReferral/CodeSystem/document-section",
    "http://jpfhir.jp/fhir/eClinicalSummary/CodeSystem/document-section",
    "http://jpfhir.jp/fhir/eDischargeSummary/CodeSystem/document-section",
};

struct DocumentSpec {
  SubmissionKind kind;
  std::string_view type_code;
  std::string_view composition_profile;
};
constexpr DocumentSpec kSpecs[] = {
    {SubmissionKind::kReferral, "57133-1",
     "http://jpfhir.jp/fhir/eReferral/StructureDefinition/JP_Composition_eReferral"},
    {SubmissionKind::kDischargeSummary, "18842-5",
     "http://jpfhir.jp/fhir/eDischargeSummary/StructureDefinition/JP_Composition_eDischargeSummary"},
    {SubmissionKind::kCheckup, "53576-5",
     "http://jpfhir.jp/fhir/eCheckup/StructureDefinition/JP_Composition_eCheckupGeneral"},
};

std::string_view SectionCode(const fhir::Value& section) {
  const fhir::Value* code = section.Find("code");
  const fhir::Value* codings = code ? code->Find("coding") : nullptr;
  if (!codings) return {};
  for (const auto& c : codings->items()) {
    for (auto system : kSectionSystems) {
      if (Str(c, "system") == system) return Str(c, "code");
    }
  }
  return {};
}

struct SectionRef {
  std::string_view section_code;  // the top-level section it sits under
  std::string reference;
  std::string path;
};

void CollectSectionRefs(const fhir::Value& section, std::string_view top_code, const std::string& path,
                        std::vector<SectionRef>& out) {
  if (const fhir::Value* entries = section.Find("entry")) {
    for (size_t i = 0; i < entries->items().size(); ++i) {
      out.push_back({top_code, std::string(Str(entries->items()[i], "reference")),
                     Idx(path, "entry", i) + ".reference"});
    }
  }
  if (const fhir::Value* subs = section.Find("section")) {
    for (size_t i = 0; i < subs->items().size(); ++i) {
      CollectSectionRefs(subs->items()[i], top_code, Idx(path, "section", i), out);
    }
  }
}

bool IsPdf(const fhir::Value& r) {
  const auto type = Str(r, "resourceType");
  if (type == "Binary") return Str(r, "contentType") == "application/pdf";
  if (type != "DocumentReference") return false;
  const fhir::Value* content = r.Find("content");
  if (!content || content->items().empty()) return false;
  for (const auto& c : content->items()) {
    const fhir::Value* att = c.Find("attachment");
    if (!att || Str(*att, "contentType") != "application/pdf") return false;
  }
  return true;
}

}  // namespace

void CheckDocument(Shared& s, const fhir::Value& bundle, const DocumentEntries& entries) {
  const auto& items = bundle.Find("entry")->items();
  auto resource_at = [&](int i) -> const fhir::Value* {
    return i >= 0 && i < static_cast<int>(items.size()) ? items[i].Find("resource") : nullptr;
  };
  auto resolve = [&](std::string_view ref) -> int {
    const auto it = entries.by_full_url.find(std::string(ref));
    return it == entries.by_full_url.end() ? -1 : it->second;
  };

  const fhir::Value* comp = resource_at(0);
  if (!comp || Str(*comp, "resourceType") != "Composition") {
    s.issues.Add(R::kCompositionFirst, "Bundle.entry[0].resource");
    return;
  }
  s.facts.composition_entry = 0;
  const std::string cpath = "Bundle.entry[0].resource";
  const DocumentSpec* spec = nullptr;
  for (const auto& sp : kSpecs) {
    if (sp.kind == s.facts.kind) spec = &sp;
  }
  if (!HasProfile(*comp, spec->composition_profile)) {
    s.issues.Add(R::kCompositionProfile, cpath + ".meta.profile", spec->composition_profile);
  }
  bool type_ok = false;
  if (const fhir::Value* type = comp->Find("type")) {
    if (const fhir::Value* cs = type->Find("coding")) {
      for (const auto& c : cs->items()) {
        if (Str(c, "system") == kDocTypeCs && Str(c, "code") == spec->type_code) type_ok = true;
      }
    }
  }
  if (!type_ok) s.issues.Add(R::kCompositionType, cpath + ".type", spec->type_code);
  s.facts.document_type_code = std::string(spec->type_code);
  s.facts.composition_date = std::string(Str(*comp, "date"));

  if (Str(*comp, "status") != "final") s.issues.Add(R::kCompositionRequired, cpath + ".status", "final");
  for (std::string_view element : {"date", "author", "title"}) {
    if (!HasNonEmpty(*comp, element)) s.issues.Add(R::kCompositionRequired, cpath + "." + std::string(element));
  }
  if (s.facts.kind != SubmissionKind::kCheckup && !HasNonEmpty(*comp, "custodian")) {
    s.issues.Add(R::kCompositionRequired, cpath + ".custodian");
  }
  CheckInstitution(s, EntryContext{*comp, cpath, 0, true}, false);
  // The custodian is the sending institution, so its number should be the reporting unit's.
  // The IG states no such rule and its own referral examples differ here, so this warns.
  if (const fhir::Value* custodian = comp->Find("custodian")) {
    const fhir::Value* org = resource_at(resolve(Str(*custodian, "reference")));
    const fhir::Value* ids = org ? org->Find("identifier") : nullptr;
    if (ids && !s.facts.institution.empty()) {
      for (size_t i = 0; i < ids->items().size(); ++i) {
        const auto& id = ids->items()[i];
        if (Str(id, "system") == kInstitutionIdSystem && Str(id, "value") != s.facts.institution) {
          s.issues.Add(R::kInstitutionMismatch,
                       Idx(Idx("Bundle", "entry", resolve(Str(*custodian, "reference"))) + ".resource",
                           "identifier", i) + ".value",
                       Str(id, "value"), Severity::kWarning);
        }
      }
    }
  }

  // The patient: Composition.subject, exactly one Patient entry.
  int patients = 0;
  for (const auto& e : items) {
    const fhir::Value* r = e.Find("resource");
    patients += r && Str(*r, "resourceType") == "Patient";
  }
  const fhir::Value* subject = comp->Find("subject");
  const auto subject_ref = subject ? Str(*subject, "reference") : std::string_view();
  const int patient_at = resolve(subject_ref);
  const fhir::Value* patient = resource_at(patient_at);
  if (patients != 1 || !patient || Str(*patient, "resourceType") != "Patient") {
    s.issues.Add(R::kPatientMissing, cpath + ".subject", std::to_string(patients) + " Patient entries");
  } else {
    s.facts.patient_entry = patient_at;
    s.patient_full_url = std::string(subject_ref);
    const std::string ppath = Idx("Bundle", "entry", patient_at) + ".resource";
    const bool checkup = s.facts.kind == SubmissionKind::kCheckup;
    if (!HasProfile(*patient, kPatientEcs) && !(checkup && HasProfile(*patient, kPatientCheckup))) {
      s.issues.Add(R::kPatientProfile, ppath + ".meta.profile");
    }
    CheckPatient(s, EntryContext{*patient, ppath, patient_at, true});
  }

  // Sections.
  std::unordered_set<std::string_view> top_codes;
  std::vector<SectionRef> refs;
  if (const fhir::Value* sections = comp->Find("section")) {
    for (size_t i = 0; i < sections->items().size(); ++i) {
      const auto code = SectionCode(sections->items()[i]);
      top_codes.insert(code);
      CollectSectionRefs(sections->items()[i], code, Idx(cpath, "section", i), refs);
    }
  }
  const bool is_referral = s.facts.kind == SubmissionKind::kReferral;
  if (is_referral || s.facts.kind == SubmissionKind::kDischargeSummary) {
    if (top_codes.contains("200") == top_codes.contains("300")) {
      s.issues.Add(R::kCdaXorStructured, cpath + ".section");
    }
  }
  if (is_referral) {
    for (std::string_view required : {"910", "920"}) {
      if (!top_codes.contains(required)) {
        s.issues.Add(R::kSectionRequired, cpath + ".section", std::string("section ") + std::string(required));
      }
    }
    // Addressee: the Organization of section 910.
    std::string addressee_path = cpath + ".section";
    for (const auto& ref : refs) {
      if (ref.section_code != "910") continue;
      addressee_path = ref.path;
      const fhir::Value* org = resource_at(resolve(ref.reference));
      if (!org || Str(*org, "resourceType") != "Organization") continue;
      if (const fhir::Value* ids = org->Find("identifier")) {
        for (const auto& id : ids->items()) {
          if (Str(id, "system") == kInstitutionIdSystem && IsInstitutionCode(Str(id, "value"))) {
            s.facts.addressee = std::string(Str(id, "value"));
          }
        }
      }
    }
    if (top_codes.contains("910") && s.facts.addressee.empty()) s.issues.Add(R::kAddressee, addressee_path);

    // PDF-only letters: everything beyond the from/to headers is a PDF.
    bool any_content = false, all_pdf = true;
    for (const auto& ref : refs) {
      if (ref.section_code == "910" || ref.section_code == "920") continue;
      const int at = resolve(ref.reference);
      const fhir::Value* r = resource_at(at);
      if (!r) continue;
      if (ref.section_code == "210") {
        const auto type = Str(*r, "resourceType");
        if (type == "DocumentReference" || type == "Binary") {
          s.facts.attachment_entries.push_back(at);
          if (const fhir::Value* t = r->Find("type")) {
            if (const fhir::Value* cs = t->Find("coding")) {
              for (const auto& c : cs->items()) {
                if (Str(c, "code") == "18842-5") s.facts.has_attached_discharge_summary = true;
              }
            }
          }
          continue;  // an attachment travels with the letter; it is not the letter itself
        }
      }
      any_content = true;
      all_pdf &= IsPdf(*r);
    }
    if ((any_content && all_pdf) || (top_codes.contains("230") && !top_codes.contains("300"))) {
      s.issues.Add(R::kPdfOnly, cpath + ".section");
    }
  }
  if (s.facts.kind == SubmissionKind::kDischargeSummary) {
    const fhir::Value* events = comp->Find("event");
    const fhir::Value* period =
        events && !events->items().empty() ? events->items()[0].Find("period") : nullptr;
    s.facts.admission_date = period ? std::string(Str(*period, "start")) : std::string();
    s.facts.discharge_date = period ? std::string(Str(*period, "end")) : std::string();
    if (s.facts.admission_date.empty()) s.issues.Add(R::kDischargeDates, cpath + ".event[0].period.start");
    if (s.facts.discharge_date.empty()) s.issues.Add(R::kDischargeDates, cpath + ".event[0].period.end");
  }

  // Entries.
  for (size_t i = 1; i < items.size(); ++i) {
    const fhir::Value* r = items[i].Find("resource");
    if (!r || static_cast<int>(i) == patient_at) continue;
    EntryContext e{*r, Idx("Bundle", "entry", i) + ".resource", static_cast<int>(i), true};
    CheckInstitution(s, e, false);
    CheckFlags(s, e);
    const auto type = Str(*r, "resourceType");
    if (type == "Composition") {
      s.issues.Add(R::kCompositionFirst, e.path, "a second Composition");
    } else if (type == "Condition") {
      CheckCondition(s, e);
    } else if (type == "AllergyIntolerance") {
      CheckAllergy(s, e);
    } else if (type == "Observation") {
      CheckObservation(s, e);
    } else if (type == "MedicationRequest") {
      CheckMedicationRequest(s, e);
    } else {
      continue;
    }
    s.facts.item_entries.push_back(static_cast<int>(i));
  }
}

}  // namespace clinshub::clins::internal
