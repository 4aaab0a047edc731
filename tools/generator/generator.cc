#include "generator/generator.h"

#include <chrono>
#include <cstdio>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "fhir/json.h"
#include "generator/codes.h"
#include "generator/rng.h"

namespace clinshub::generator {
namespace {

using fhir::Value;
using std::chrono::days;
using std::chrono::sys_days;

// ---------------------------------------------------------------------------------------------
// URLs and systems of the JP-CLINS profiles we emit.
constexpr std::string_view kBundleClins = "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS";
constexpr std::string_view kBundleReferral = "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eReferral";
// JP-CLINS 1.5.2 publishes the bundle under the clins namespace (the older eDischargeSummary
// guide used its own); the hub accepts only the CLINS URL.
constexpr std::string_view kBundleDischarge = "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eDischargeSummary";
constexpr std::string_view kBundleCheckup = "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eCheckupGeneral";
constexpr std::string_view kCompReferral = "http://jpfhir.jp/fhir/eReferral/StructureDefinition/JP_Composition_eReferral";
constexpr std::string_view kCompDischarge = "http://jpfhir.jp/fhir/eDischargeSummary/StructureDefinition/JP_Composition_eDischargeSummary";
constexpr std::string_view kCompCheckup = "http://jpfhir.jp/fhir/eCheckup/StructureDefinition/JP_Composition_eCheckupGeneral";
constexpr std::string_view kPatientEcs = "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Patient_eCS";
constexpr std::string_view kPatientCheckup = "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Patient_eCheckupGeneral";
constexpr std::string_view kConditionEcs = "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Condition_eCS";
constexpr std::string_view kAllergyEcs = "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_AllergyIntolerance_eCS";
constexpr std::string_view kObsLabEcs = "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Observation_LabResult_eCS";
constexpr std::string_view kMedReqEcs = "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_MedicationRequest_eCS";
constexpr std::string_view kEncounterEcs = "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Encounter_eCS";
constexpr std::string_view kPractitionerCore = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Practitioner";
constexpr std::string_view kPractitionerEcs = "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Practitioner_eCS";
constexpr std::string_view kOrganizationEcs = "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Organization_eCS";
constexpr std::string_view kSpecimenCore = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Specimen";

constexpr std::string_view kBundleResourceTypeCs = "http://jpfhir.jp/fhir/clins/CodeSystem/BundleResourceType_CS";
constexpr std::string_view kIndicationCs = "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication";
constexpr std::string_view kInstitutionNumberExt = "http://jpfhir.jp/fhir/clins/Extension/StructureDefinition/JP_eCS_InstitutionNumber";
constexpr std::string_view kInstitutionNoSystem = "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
constexpr std::string_view kDepartmentExt = "http://jpfhir.jp/fhir/eCS/Extension/StructureDefinition/JP_eCS_Department";
constexpr std::string_view kDepartmentCs = "http://jami.jp/SS-MIX2/CodeSystem/ClinicalDepartment";
constexpr std::string_view kResourceInstanceId = "http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier";
constexpr std::string_view kNameRepresentation = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
constexpr std::string_view kMedisDiseaseCs = "http://medis.or.jp/CodeSystem/master-disease-keyNumber";
constexpr std::string_view kJfagyFoodCs = "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyFoodAllergen_CS";
constexpr std::string_view kJfagyNonFoodCs = "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyNonFoodNonMedicationAllergen_CS";
constexpr std::string_view kYjCs = "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code";
// J-FAGY medication allergens: "YCM" + YJ code (the IG's AllergyIntolerance.code definition).
constexpr std::string_view kYcmCs = "http://jpfhir.jp/fhir/core/CodeSystem/YCM/JP_JfagyMedicationAllergen_CS";
constexpr std::string_view kLocalLabCs = "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_LocalCode_CS";
constexpr std::string_view kCoreLaboCs = "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS";
constexpr std::string_view kInfectionLaboCs = "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_InfectionLabo_CS";
constexpr std::string_view kUcum = "http://unitsofmeasure.org";
constexpr std::string_view kDocTypeCs = "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes";
constexpr std::string_view kDocSubtypeCs = "http://jpfhir.jp/fhir/Common/CodeSystem/doc-subtypecodes";
constexpr std::string_view kClinsSectionCs = "http://jpfhir.jp/fhir/clins/CodeSystem/document-section";
constexpr std::string_view kSummarySectionCs = "http://jpfhir.jp/fhir/eClinicalSummary/CodeSystem/document-section";
constexpr std::string_view kCheckupSectionCs = "http://jpfhir.jp/fhir/eCheckup/CodeSystem/section-code";
constexpr std::string_view kVersionNumberExt = "http://hl7.org/fhir/StructureDefinition/composition-clinicaldocument-versionNumber";
constexpr std::string_view kUsageUncodedCs = "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_MedicationUsage_Uncoded_CS";
constexpr std::string_view kMerit9UnitCs = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationUnitMERIT9Code";

// ---------------------------------------------------------------------------------------------
// Value building. Members are appended in place (no lookup, no copy): generation speed matters
// because the bench feeds millions of resources through the hub.
Value Str(std::string_view s) { return Value::String(std::string(s)); }

class Obj {
 public:
  Obj() : v_(Value::Object()) {}
  Obj&& Add(std::string_view key, Value v) && {
    v_.mutable_members().emplace_back(std::string(key), std::move(v));
    return std::move(*this);
  }
  Obj&& Add(std::string_view key, std::string_view s) && { return std::move(*this).Add(key, Str(s)); }
  Obj&& Add(std::string_view key, const char* s) && { return std::move(*this).Add(key, Str(s)); }
  Obj&& Add(std::string_view key, const std::string& s) && { return std::move(*this).Add(key, Str(s)); }
  operator Value() && { return std::move(v_); }  // NOLINT: builder converts implicitly

 private:
  Value v_;
};

template <typename... T>
Value Arr(T&&... xs) {
  Value a = Value::Array();
  a.mutable_items().reserve(sizeof...(xs));
  (a.mutable_items().push_back(Value(std::forward<T>(xs))), ...);
  return a;
}

Value Coding(std::string_view system, std::string_view code, std::string_view display) {
  Obj o;
  auto v = std::move(o).Add("system", system).Add("code", code);
  if (!display.empty()) return std::move(v).Add("display", display);
  return v;
}
Value Concept(Value coding, std::string_view text) {
  return Obj().Add("coding", Arr(std::move(coding))).Add("text", text);
}
Value ConceptNoText(Value coding) { return Obj().Add("coding", Arr(std::move(coding))); }
Value Ref(std::string_view reference) { return Obj().Add("reference", reference); }
Value TypedRef(std::string_view reference, std::string_view type) {
  return Obj().Add("reference", reference).Add("type", type);
}
Value Int(int64_t n) { return Value::Number(std::to_string(n)); }
// A decimal from an integer scaled by 10^decimals, printed exactly ("4.60" stays "4.60").
Value Decimal(int64_t scaled, int decimals) {
  if (decimals == 0) return Int(scaled);
  int64_t p = 1;
  for (int i = 0; i < decimals; ++i) p *= 10;
  std::string s = std::to_string(scaled / p) + ".";
  std::string frac = std::to_string(scaled % p);
  s.append(static_cast<size_t>(decimals) - frac.size(), '0');
  s += frac;
  return Value::Number(std::move(s));
}
Value Narrative(std::string_view text) {
  std::string div = "<div xmlns=\"http://www.w3.org/1999/xhtml\">";
  div += text;
  div += "</div>";
  return Obj().Add("status", "additional").Add("div", Str(div));
}

// ---------------------------------------------------------------------------------------------
// Dates. Everything is in JST (+09:00), as Japanese institutions send it.
std::string FormatDate(sys_days d) {
  std::chrono::year_month_day ymd{d};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}
std::string FormatDateTime(sys_days d, int minute_of_day) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d:00+09:00", FormatDate(d).c_str(),
                minute_of_day / 60, minute_of_day % 60);
  return buf;
}
int YearOf(sys_days d) { return static_cast<int>(std::chrono::year_month_day{d}.year()); }

std::string Digits(Rng& rng, int n) {
  std::string s;
  s.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + rng.Below(10)));
  return s;
}
// Full-width digits (U+FF10..FF19), as some insurance cards print 記号/番号.
std::string FullWidth(std::string_view ascii_digits) {
  std::string s;
  for (char c : ascii_digits) {
    s += "\xEF\xBC";
    s.push_back(static_cast<char>(0x90 + (c - '0')));
  }
  return s;
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[n >> 18]; out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63]; out += kAlphabet[n & 63];
  }
  if (i < in.size()) {
    uint32_t n = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) n |= uint32_t(uint8_t(in[i + 1])) << 8;
    out += kAlphabet[n >> 18]; out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// A version-4-shaped UUID from the seeded stream.
std::string Uuid(Rng& rng) {
  uint64_t hi = rng.Next(), lo = rng.Next();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  char buf[48];
  std::snprintf(buf, sizeof buf, "urn:uuid:%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(hi >> 32), static_cast<unsigned>((hi >> 16) & 0xFFFF),
                static_cast<unsigned>(hi & 0xFFFF), static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

Value InstitutionExt(const Institution& inst) {
  return Obj()
      .Add("url", kInstitutionNumberExt)
      .Add("valueIdentifier", Obj().Add("system", kInstitutionNoSystem).Add("value", inst.code));
}
Value DepartmentExt(const codes::Department& dept) {
  return Obj()
      .Add("url", kDepartmentExt)
      .Add("valueCodeableConcept", Concept(Coding(kDepartmentCs, dept.code, dept.display), dept.display));
}
Value InstanceId(std::string value) {
  return Arr(Obj().Add("system", kResourceInstanceId).Add("value", Str(std::move(value))));
}
Value NamePart(std::string_view rep, std::string_view family, std::string_view given) {
  std::string text(family);
  text += ' ';  // R1113: half-width space between family and given names
  text += given;
  return Obj()
      .Add("extension", Arr(Obj().Add("url", kNameRepresentation).Add("valueCode", rep)))
      .Add("use", "official")
      .Add("text", Str(std::move(text)))
      .Add("family", family)
      .Add("given", Arr(Str(given)));
}
Value Address(std::string_view text, std::string_view postcode, std::string_view city,
              std::string_view state) {
  return Arr(Obj().Add("text", text).Add("postalCode", postcode).Add("city", city)
                 .Add("state", state).Add("country", "JP"));
}

// ---------------------------------------------------------------------------------------------
// Population.
Institution MakeInstitution(Rng& rng, int index, InstitutionKind kind,
                            std::unordered_set<std::string>& used_codes) {
  Institution inst;
  const codes::Place& place = rng.Pick(codes::kPlaces);
  // 都道府県2 + 点数表1 (1 医科; 3 歯科 for a few clinics) + 7 digits, unique in the directory.
  do {
    char table = (kind == InstitutionKind::kClinic && rng.Percent(10)) ? '3' : '1';
    inst.code = std::string(place.pref_code) + table + Digits(rng, 7);
  } while (!used_codes.insert(inst.code).second);
  inst.kind = kind;
  const codes::NamePair& stem = rng.Pick(codes::kHospitalStems);
  const codes::NamePair& owner = rng.Pick(codes::kSurnames);
  std::string city_short(place.city.substr(0, place.city.find("市") == std::string_view::npos
                                                  ? place.city.size()
                                                  : place.city.find("市")));
  switch (kind) {
    case InstitutionKind::kHospital:
      inst.name = city_short + std::string(stem.kanji) + "病院";
      inst.kana = std::string(stem.kana) + "ビョウイン";
      break;
    case InstitutionKind::kClinic:
      inst.name = std::string(owner.kanji) + (inst.code[2] == '3' ? "歯科医院" : "内科クリニック");
      inst.kana = std::string(owner.kana) + (inst.code[2] == '3' ? "シカイイン" : "ナイカクリニック");
      break;
    case InstitutionKind::kCheckupCenter:
      inst.name = std::string(stem.kanji) + "健診センター";
      inst.kana = std::string(stem.kana) + "ケンシンセンター";
      break;
  }
  inst.prefecture = place.prefecture;
  inst.city = place.city;
  inst.postcode = std::string(place.postcode_prefix) + "-" + Digits(rng, 4);
  inst.address = inst.prefecture + inst.city + std::string(rng.Pick(codes::kTownNames)) +
                 std::to_string(rng.Range(1, 5)) + "-" + std::to_string(rng.Range(1, 30)) + "-" +
                 std::to_string(rng.Range(1, 20));
  inst.phone = std::string(place.area_code) + "-" + Digits(rng, 4) + "-" + Digits(rng, 4);
  inst.emergency_permission = kind == InstitutionKind::kHospital && rng.Percent(60);
  return inst;
}

std::string InsuranceValue(Rng& rng) {
  // 保険者番号 8 digits (協会けんぽ 01…, 組合 06…, 国保 6-digit padded to 8 with leading 00).
  static constexpr std::string_view kInsurerPrefixes[] = {"01", "06", "00", "31", "39"};
  std::string insurer = std::string(rng.Pick(kInsurerPrefixes)) + Digits(rng, 6);
  std::string kigo, bango;
  switch (rng.Below(4)) {
    case 0: kigo = FullWidth(Digits(rng, 4)); bango = FullWidth(Digits(rng, 3)); break;
    case 1: kigo = "あいう"; bango = Digits(rng, 5); break;
    case 2: kigo = "東" + FullWidth(Digits(rng, 3)); bango = FullWidth(Digits(rng, 6)); break;
    default: kigo = Digits(rng, 8); bango = Digits(rng, 4); break;
  }
  // 枝番: two digits, or empty for cards issued before 2021.
  std::string eda = rng.Percent(85) ? "0" + std::to_string(rng.Range(0, 3)) : "";
  return insurer + ":" + kigo + ":" + bango + ":" + eda;
}
std::string PublicPayerValue(Rng& rng, std::string_view pref_code) {
  // 公費負担者番号: 法別番号 12 (生活保護) + 都道府県 + 4 digits; 受給者番号 7 digits.
  return "12" + std::string(pref_code) + Digits(rng, 4) + "::" + Digits(rng, 7) + ":";
}

Person MakePerson(uint64_t seed, uint64_t index, sys_days today) {
  Rng rng(DeriveSeed(seed, 0x504552534f4eULL /* "PERSON" */, index));
  Person p;
  p.index = index;
  bool male = rng.Percent(49);
  p.gender = male ? "male" : "female";
  const codes::NamePair& family = rng.Pick(codes::kSurnames);
  const codes::NamePair& given = male ? rng.Pick(codes::kMaleGiven) : rng.Pick(codes::kFemaleGiven);
  p.family_kanji = family.kanji;
  p.family_kana = family.kana;
  p.given_kanji = given.kanji;
  p.given_kana = given.kana;
  sys_days birth = today - days(rng.Range(365, 95 * 365));
  p.birth_date = FormatDate(birth);
  const codes::Place& place = rng.Pick(codes::kPlaces);
  p.prefecture = place.prefecture;
  p.city = place.city;
  p.postcode = std::string(place.postcode_prefix) + "-" + Digits(rng, 4);
  p.address = p.prefecture + p.city + std::string(rng.Pick(codes::kTownNames)) +
              std::to_string(rng.Range(1, 9)) + "-" + std::to_string(rng.Range(1, 40));
  p.phone = "0" + std::to_string(rng.Range(70, 90)) + "-" + Digits(rng, 4) + "-" + Digits(rng, 4);

  // Identifier history: most have one card; some changed jobs (new insurer) or moved; a few
  // are welfare recipients identified by the public payer number.
  int changes = rng.Percent(70) ? 0 : rng.Range(1, 2);
  sys_days from = birth > today - days(8 * 365) ? birth : today - days(rng.Range(6, 8) * 365);
  for (int i = 0; i <= changes; ++i) {
    HeldIdentifier id;
    bool welfare = i == changes && rng.Percent(5);
    id.system = welfare ? kPublicPayerMemberIdSystem : kInsuranceMemberIdSystem;
    id.value = welfare ? PublicPayerValue(rng, place.pref_code) : InsuranceValue(rng);
    id.from = FormatDate(from);
    if (i < changes) {
      sys_days to = from + days(rng.Range(300, 900));
      id.to = FormatDate(to);
      static constexpr std::string_view kReasons[] = {"転職", "転居", "退職", "扶養変更"};
      id.reason = rng.Pick(kReasons);
      from = to + days(1);
    }
    p.identifiers.push_back(std::move(id));
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Bundle building context for one submission.
struct Ctx {
  const Person& person;
  const Institution& inst;
  Rng& rng;
  sys_days today;
  std::string now_instant;  // lastUpdated / timestamp
  std::string patient_url;
  const codes::Department& dept;
  std::string doctor_family, doctor_given, doctor_family_kana, doctor_given_kana;
};

Value PatientResource(const Ctx& c, bool checkup) {
  const Person& p = c.person;
  Value profiles = checkup ? Arr(Str(kPatientEcs), Str(kPatientCheckup)) : Arr(Str(kPatientEcs));
  return Obj()
      .Add("resourceType", "Patient")
      .Add("meta", Obj().Add("lastUpdated", c.now_instant).Add("profile", std::move(profiles)))
      .Add("identifier",
           Arr(Obj().Add("system", "urn:oid:1.2.392.100495.20.3.51.1" + c.inst.code)
                   .Add("value", Str(std::to_string(100000 + p.index))),
               Obj().Add("system", p.current().system).Add("value", p.current().value)))
      .Add("name", Arr(NamePart("IDE", p.family_kanji, p.given_kanji),
                       NamePart("SYL", p.family_kana, p.given_kana)))
      .Add("telecom", Arr(Obj().Add("system", "phone").Add("value", p.phone).Add("use", "home")))
      .Add("gender", p.gender)
      .Add("birthDate", p.birth_date)
      .Add("address", Address(p.address, p.postcode, p.city, p.prefecture));
}

Value PractitionerName(const Ctx& c) {
  std::string text = c.doctor_family + " " + c.doctor_given;
  return Arr(Obj()
                 .Add("extension", Arr(Obj().Add("url", kNameRepresentation).Add("valueCode", "IDE")))
                 .Add("text", Str(std::move(text)))
                 .Add("family", c.doctor_family)
                 .Add("given", Arr(Str(c.doctor_given))));
}
Value ContainedPractitioner(const Ctx& c) {
  return Obj()
      .Add("resourceType", "Practitioner")
      .Add("id", "practitioner")
      .Add("meta", Obj().Add("profile", Arr(Str(kPractitionerCore))))
      .Add("identifier", Arr(Obj().Add("system", "urn:oid:1.2.392.100495.20.3.41.1" + c.inst.code)
                                 .Add("value", "D" + std::to_string(c.rng.Range(100, 999)))))
      .Add("name", PractitionerName(c));
}
Value EncounterResource(std::string_view id, bool inpatient, std::string_view start,
                        std::string_view end) {
  Obj o;
  auto e = std::move(o).Add("resourceType", "Encounter");
  if (!id.empty()) std::move(e).Add("id", id);  // Add mutates in place
  Obj period;
  auto per = std::move(period).Add("start", start);
  if (!end.empty()) std::move(per).Add("end", end);
  return std::move(e)
      .Add("meta", Obj().Add("profile", Arr(Str(kEncounterEcs))))
      .Add("status", "finished")
      .Add("class", Obj().Add("system", "http://terminology.hl7.org/CodeSystem/v3-ActCode")
                        .Add("code", inpatient ? "IMP" : "AMB")
                        .Add("display", inpatient ? "入院" : "外来"))
      .Add("period", std::move(per));
}
Value ContainedSpecimen(std::string_view code, std::string_view name) {
  return Obj()
      .Add("resourceType", "Specimen")
      .Add("id", "specimen")
      .Add("meta", Obj().Add("profile", Arr(Str(kSpecimenCore))))
      .Add("type", Concept(Coding("http://jpfhir.jp/fhir/core/CodeSystem/JP_ObservationSampleMaterialCode_CS",
                                  code, name), name));
}
Value Tags(bool uninformed, bool undelivered, bool lts) {
  Value tags = Value::Array();
  if (uninformed) tags.Append(Coding(kIndicationCs, "UNINFORMED", "未告知"));
  if (undelivered) tags.Append(Coding(kIndicationCs, "UNDELIVERED", "未提供"));
  if (lts) tags.Append(Coding(kIndicationCs, "LTS", "長期保存"));
  return tags;
}
Value ResourceMeta(const Ctx& c, std::string_view profile, Value tags) {
  auto m = Obj().Add("lastUpdated", c.now_instant).Add("profile", Arr(Str(profile)));
  if (!tags.items().empty()) return std::move(m).Add("tag", std::move(tags));
  return m;
}
std::string ResourceKey(const Ctx& c, std::string_view kind, int n) {
  return c.inst.code + "-" + std::to_string(c.person.index) + "-" + std::string(kind) + "-" +
         std::to_string(n) + "-" + std::to_string(c.rng.Below(1000000));
}

// ---- Condition -------------------------------------------------------------------------------
Value ConditionResource(const Ctx& c, int n, ExpectedItem& item) {
  Rng& rng = c.rng;
  bool uncoded = rng.Percent(10);
  std::string code, name;
  if (uncoded) {
    code = "99999999";
    name = rng.Pick(codes::kUncodedDiseases);
  } else {
    const codes::Disease& d = rng.Pick(codes::kDiseases);
    code = d.code;
    name = d.name;
  }
  sys_days onset = c.today - days(rng.Range(1, 4 * 365));
  bool ended = rng.Percent(25);
  sys_days abatement = onset + days(rng.Range(7, 200));
  if (abatement >= c.today) abatement = c.today - days(1);
  if (abatement < onset) ended = false;
  bool suspected = rng.Percent(15);
  item.kind = ItemKind::kCondition;
  item.system = kMedisDiseaseCs;
  item.code = code;
  item.text = suspected ? name + "の疑い" : name;
  item.date = FormatDate(onset);
  item.end_date = ended ? FormatDate(abatement) : "";
  item.suspected = suspected;
  item.uninformed = rng.Percent(4);
  item.undelivered = !item.uninformed && rng.Percent(3);

  std::string enc_start = FormatDate(onset);
  auto o = Obj()
               .Add("resourceType", "Condition")
               .Add("meta", ResourceMeta(c, kConditionEcs, Tags(item.uninformed, item.undelivered, false)))
               .Add("contained", Arr(EncounterResource("encounter", false, enc_start, "")))
               .Add("extension", Arr(InstitutionExt(c.inst), DepartmentExt(c.dept)))
               .Add("identifier", InstanceId(ResourceKey(c, "COND", n)))
               .Add("clinicalStatus",
                    ConceptNoText(ended ? Coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "resolved", "Resolved")
                                        : Coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active")))
               .Add("verificationStatus",
                    ConceptNoText(suspected ? Coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "unconfirmed", "Unconfirmed")
                                            : Coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed")))
               .Add("category", Arr(ConceptNoText(Coding("http://terminology.hl7.org/CodeSystem/condition-category",
                                                         "encounter-diagnosis", "Encounter Diagnosis"))))
               .Add("code", Concept(Coding(kMedisDiseaseCs, code, uncoded ? std::string_view("未コード化傷病名") : std::string_view(name)),
                                    item.text))
               .Add("subject", Ref(c.patient_url))
               .Add("encounter", Ref("#encounter"))
               .Add("onsetDateTime", item.date);
  if (ended) return std::move(o).Add("abatementDateTime", item.end_date);
  return o;
}

// ---- AllergyIntolerance ----------------------------------------------------------------------
Value AllergyResource(const Ctx& c, int n, ExpectedItem& item) {
  Rng& rng = c.rng;
  std::string system, code, display, text, category;
  uint64_t which = rng.Below(10);
  if (which < 4) {  // food
    const codes::Allergen& a = rng.Pick(codes::kFoodAllergens);
    system = kJfagyFoodCs; code = a.code; display = a.name; text = a.name; category = "food";
  } else if (which < 6) {  // environment
    const codes::Allergen& a = rng.Pick(codes::kNonFoodAllergens);
    system = kJfagyNonFoodCs; code = a.code; display = a.name; text = a.name; category = "environment";
  } else if (which < 7) {  // dummy code: the text carries the meaning
    system = kJfagyFoodCs; code = codes::kFoodDummyCode; display = "食品ダミーコード";
    text = rng.Pick(codes::kDummyFoodTexts); category = "food";
  } else {  // 薬剤禁忌
    const codes::Drug& d = rng.Pick(codes::kDrugs);
    system = kYcmCs; code = "YCM" + std::string(d.yj); display = d.name; text = d.name; category = "medication";
  }
  bool medication = category == "medication";
  sys_days onset = c.today - days(rng.Range(30, 10 * 365));
  item.kind = medication ? ItemKind::kContraindication : ItemKind::kAllergy;
  item.system = system;
  item.code = code;
  item.text = text;
  item.date = FormatDate(onset);
  item.long_term = rng.Percent(10);
  return Obj()
      .Add("resourceType", "AllergyIntolerance")
      .Add("meta", ResourceMeta(c, kAllergyEcs, Tags(false, false, item.long_term)))
      .Add("extension", Arr(InstitutionExt(c.inst), DepartmentExt(c.dept)))
      .Add("identifier", InstanceId(ResourceKey(c, "ALG", n)))
      .Add("clinicalStatus", ConceptNoText(Coding("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active")))
      .Add("verificationStatus", ConceptNoText(Coding("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", "Confirmed")))
      .Add("type", medication || rng.Percent(80) ? "allergy" : "intolerance")
      .Add("category", Arr(Str(category)))
      .Add("criticality", medication ? "high" : (rng.Percent(50) ? "low" : "unable-to-assess"))
      .Add("code", Concept(Coding(system, code, display), text))
      .Add("patient", Ref(c.patient_url))
      .Add("onsetDateTime", item.date)
      .Add("recordedDate", FormatDate(c.today - days(rng.Range(0, 25))));
}

// ---- Observation -----------------------------------------------------------------------------
Value LabObservation(const Ctx& c, int n, sys_days when, ExpectedItem& item) {
  Rng& rng = c.rng;
  std::string effective = FormatDateTime(when, rng.Range(9 * 60, 16 * 60));
  std::string issued = FormatDateTime(when, 17 * 60 + rng.Range(0, 59));
  Value code, contained;
  item.date = effective;
  if (rng.Percent(12)) {  // designated infection, qualitative
    const codes::InfectionItem& inf = rng.Pick(codes::kInfectionItems);
    bool positive = rng.Percent(8);
    item.kind = ItemKind::kInfection;
    item.system = kInfectionLaboCs;
    item.code = inf.jlac10;
    item.text = inf.name;
    item.long_term = rng.Percent(30);
    code = Obj()
               .Add("coding", Arr(Coding(kLocalLabCs, inf.local_code, inf.name),
                                  Coding(kInfectionLaboCs, inf.jlac10, inf.name)))
               .Add("text", inf.name);
    contained = Arr(EncounterResource("encounter", false, FormatDate(when), ""),
                    ContainedSpecimen("023", "血清"), ContainedPractitioner(c));
    auto o = Obj()
                 .Add("resourceType", "Observation")
                 .Add("meta", ResourceMeta(c, kObsLabEcs, Tags(false, false, item.long_term)))
                 .Add("contained", std::move(contained))
                 .Add("extension", Arr(InstitutionExt(c.inst), DepartmentExt(c.dept)))
                 .Add("identifier", InstanceId(ResourceKey(c, "OBS", n)))
                 .Add("status", "final")
                 .Add("category", Arr(ConceptNoText(Coding("http://jpfhir.jp/fhir/core/CodeSystem/JP_SimpleObservationCategory_CS", "laboratory", "検体検査"))))
                 .Add("code", std::move(code))
                 .Add("subject", Ref(c.patient_url))
                 .Add("effectiveDateTime", effective)
                 .Add("issued", issued)
                 .Add("encounter", Ref("#encounter"))
                 .Add("performer", Arr(Ref("#practitioner")))
                 .Add("valueString", positive ? "陽性(+)" : "陰性(-)")
                 .Add("specimen", Ref("#specimen"));
    return o;
  }
  bool local_only = rng.Percent(10);
  const codes::LabItem& lab = local_only ? rng.Pick(codes::kLocalOnlyItems) : rng.Pick(codes::kLabItems);
  item.kind = ItemKind::kLab;
  item.system = local_only ? kLocalLabCs : kCoreLaboCs;
  item.code = local_only ? lab.local_code : lab.jlac10;
  item.text = lab.name;
  code = local_only ? Obj().Add("coding", Arr(Coding(kLocalLabCs, lab.local_code, lab.name))).Add("text", lab.name)
                    : Obj().Add("coding", Arr(Coding(kLocalLabCs, lab.local_code, lab.name),
                                              Coding(kCoreLaboCs, lab.jlac10, lab.name)))
                          .Add("text", lab.name);
  int scaled = rng.Range(lab.min, lab.max);
  auto quantity = [&](int v) {
    return Obj().Add("value", Decimal(v, lab.decimals)).Add("unit", lab.unit)
        .Add("system", kUcum).Add("code", lab.unit);
  };
  std::string_view flag = scaled > lab.high ? "H" : (scaled < lab.low ? "L" : "N");
  return Obj()
      .Add("resourceType", "Observation")
      .Add("meta", ResourceMeta(c, kObsLabEcs, Value::Array()))
      .Add("contained", Arr(EncounterResource("encounter", false, FormatDate(when), ""),
                            ContainedSpecimen(lab.specimen_code, lab.specimen),
                            ContainedPractitioner(c)))
      .Add("extension", Arr(InstitutionExt(c.inst), DepartmentExt(c.dept)))
      .Add("identifier", InstanceId(ResourceKey(c, "OBS", n)))
      .Add("status", "final")
      .Add("category", Arr(ConceptNoText(Coding("http://jpfhir.jp/fhir/core/CodeSystem/JP_SimpleObservationCategory_CS", "laboratory", "検体検査"))))
      .Add("code", std::move(code))
      .Add("subject", Ref(c.patient_url))
      .Add("effectiveDateTime", effective)
      .Add("issued", issued)
      .Add("encounter", Ref("#encounter"))
      .Add("performer", Arr(Ref("#practitioner")))
      .Add("valueQuantity", quantity(scaled))
      .Add("interpretation", Arr(ConceptNoText(Coding("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", flag,
                                                      flag == "H" ? "High" : flag == "L" ? "Low" : "Normal"))))
      .Add("specimen", Ref("#specimen"))
      .Add("referenceRange", Arr(Obj().Add("low", quantity(lab.low)).Add("high", quantity(lab.high))));
}

// ---- MedicationRequest (documents only) ------------------------------------------------------
Value MedicationRequestResource(const Ctx& c, int n, std::string_view patient_url, sys_days when,
                                ExpectedItem& item) {
  Rng& rng = c.rng;
  const codes::Drug& d = rng.Pick(codes::kDrugs);
  int per_dose = rng.Range(1, 2), times = rng.Range(1, 3), days_n = rng.Range(3, 56);
  static constexpr std::string_view kUsage[] = {"1日1回 朝食後", "1日2回 朝夕食後", "1日3回 毎食後"};
  std::string usage(kUsage[times - 1]);
  item.kind = ItemKind::kPrescription;
  item.system = kYjCs;
  item.code = d.yj;
  item.text = d.name;
  item.date = FormatDateTime(when, rng.Range(9 * 60, 17 * 60));
  auto unit_qty = [&](int v) {
    return Obj().Add("value", Int(v)).Add("unit", d.unit).Add("system", kMerit9UnitCs).Add("code", d.unit_code);
  };
  auto day_qty = [&](int v) {
    return Obj().Add("value", Int(v)).Add("unit", "日").Add("system", kUcum).Add("code", "d");
  };
  return Obj()
      .Add("resourceType", "MedicationRequest")
      .Add("meta", ResourceMeta(c, kMedReqEcs, Value::Array()))
      .Add("contained", Arr(ContainedPractitioner(c)))
      .Add("extension", Arr(InstitutionExt(c.inst), DepartmentExt(c.dept)))
      .Add("identifier", Arr(Obj().Add("system", "http://jpfhir.jp/fhir/core/mhlw/IdSystem/Medication-RPGroupNumber").Add("value", Str(std::to_string(n + 1))),
                             Obj().Add("system", kResourceInstanceId).Add("value", Str(ResourceKey(c, "MED", n)))))
      .Add("status", "active")
      .Add("intent", "order")
      .Add("category", Arr(Concept(Coding("http://jpfhir.jp/fhir/core/CodeSystem/JP_MedicationCategoryMERIT9_CS", "OHO", "外来処方"), "外来処方")))
      .Add("medicationCodeableConcept", Concept(Coding(kYjCs, d.yj, d.name), d.name))
      .Add("subject", Ref(patient_url))
      .Add("authoredOn", item.date)
      .Add("requester", TypedRef("#practitioner", "Practitioner"))
      .Add("dosageInstruction",
           Arr(Obj()
                   .Add("text", usage + " 1回" + std::to_string(per_dose) + std::string(d.unit) + " " + std::to_string(days_n) + "日分")
                   .Add("timing", Obj()
                                      .Add("code", Concept(Coding(kUsageUncodedCs, "0X0XXXXXXXXX0000", "ダミー用法コード"), usage))
                                      .Add("repeat", Obj().Add("boundsDuration", day_qty(days_n))
                                                         .Add("frequency", Int(times)).Add("period", Int(1)).Add("periodUnit", "d")))
                   .Add("route", Concept(Coding("http://jpfhir.jp/fhir/core/mhlw/CodeSystem/route-codes", "PO", "口"), "内服"))
                   .Add("doseAndRate", Arr(Obj()
                                               .Add("type", ConceptNoText(Coding("http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationIngredientStrengthStrengthType", "1", "製剤量")))
                                               .Add("doseQuantity", unit_qty(per_dose))))))
      .Add("dispenseRequest", Obj().Add("quantity", unit_qty(per_dose * times * days_n))
                                  .Add("expectedSupplyDuration", day_qty(days_n)));
}

// ---- Document pieces --------------------------------------------------------------------------
// `sender` is the institution that wrote the document: JP_eCS_InstitutionNumber names the
// source of the data, so the addressee's Organization carries the sender's number too.
Value OrganizationResource(const Institution& sender, const Institution& inst,
                           std::string_view last_updated, std::string_view profile) {
  return Obj()
      .Add("resourceType", "Organization")
      .Add("meta", Obj().Add("lastUpdated", last_updated).Add("profile", Arr(Str(profile))))
      .Add("extension", Arr(InstitutionExt(sender),
                            Obj().Add("url", "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Organization_PrefectureNo")
                                .Add("valueCoding", Coding("http://jpfhir.jp/fhir/core/mhlw/CodeSystem/PrefectureNo-2digits", inst.code.substr(0, 2), "")),
                            Obj().Add("url", "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Organization_InsuranceOrganizationCategory")
                                .Add("valueCoding", Coding("http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationFeeScoreType", inst.code.substr(2, 1), "")),
                            Obj().Add("url", "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Organization_InsuranceOrganizationNo")
                                .Add("valueIdentifier", Obj().Add("system", "http://jpfhir.jp/fhir/core/mhlw/IdSystem/MedicalOrganizationID").Add("value", inst.code.substr(3)))))
      .Add("identifier", Arr(Obj().Add("system", kInstitutionNoSystem).Add("value", inst.code)))
      .Add("type", Arr(ConceptNoText(Coding("http://terminology.hl7.org/CodeSystem/organization-type", "prov", "Healthcare Provider"))))
      .Add("name", inst.name)
      .Add("telecom", Arr(Obj().Add("system", "phone").Add("value", inst.phone)))
      .Add("address", Address(inst.address, inst.postcode, inst.city, inst.prefecture));
}
Value PractitionerEntryResource(const Ctx& c, const Institution& inst, std::string_view family,
                                std::string_view given, std::string_view profile) {
  std::string text = std::string(family) + " " + std::string(given);
  return Obj()
      .Add("resourceType", "Practitioner")
      .Add("meta", Obj().Add("lastUpdated", c.now_instant).Add("profile", Arr(Str(profile))))
      .Add("extension", Arr(InstitutionExt(c.inst)))  // the sender, as for Organization
      .Add("identifier", Arr(Obj().Add("system", "urn:oid:1.2.392.100495.20.3.41.1" + inst.code)
                                 .Add("value", "D" + std::to_string(c.rng.Range(100, 999)))))
      .Add("name", Arr(Obj()
                           .Add("extension", Arr(Obj().Add("url", kNameRepresentation).Add("valueCode", "IDE")))
                           .Add("text", Str(std::move(text)))
                           .Add("family", family)
                           .Add("given", Arr(Str(given)))));
}
Value Section(std::string_view system, std::string_view code, std::string_view title,
              std::string_view display, std::string_view narrative, Value entries) {
  auto s = Obj()
               .Add("title", title)
               .Add("code", ConceptNoText(Coding(system, code, display)))
               .Add("text", Narrative(narrative));
  if (!entries.items().empty()) return std::move(s).Add("entry", std::move(entries));
  return s;
}
Value Entry(std::string url, Value resource) {
  return Obj().Add("fullUrl", Str(std::move(url))).Add("resource", std::move(resource));
}
Value DocumentBundle(const Ctx& c, std::string_view profile, const std::string& identifier,
                     Value entries) {
  return Obj()
      .Add("resourceType", "Bundle")
      .Add("meta", Obj().Add("lastUpdated", c.now_instant).Add("profile", Arr(Str(profile))))
      .Add("language", "ja")
      .Add("identifier", Obj().Add("system", kBundleIdentifierSystem).Add("value", identifier))
      .Add("type", "document")
      .Add("timestamp", c.now_instant)
      .Add("entry", std::move(entries));
}

}  // namespace

std::string_view InstitutionKindName(InstitutionKind kind) {
  switch (kind) {
    case InstitutionKind::kHospital: return "hospital";
    case InstitutionKind::kClinic: return "clinic";
    case InstitutionKind::kCheckupCenter: return "checkup-center";
  }
  return "";
}
std::string_view SubmissionKindName(SubmissionKind kind) {
  switch (kind) {
    case SubmissionKind::kCondition: return "condition";
    case SubmissionKind::kAllergy: return "allergy";
    case SubmissionKind::kObservation: return "observation";
    case SubmissionKind::kReferral: return "referral";
    case SubmissionKind::kDischargeSummary: return "discharge-summary";
    case SubmissionKind::kCheckup: return "checkup";
  }
  return "";
}
std::string_view ItemKindName(ItemKind kind) {
  switch (kind) {
    case ItemKind::kCondition: return "condition";
    case ItemKind::kAllergy: return "allergy";
    case ItemKind::kContraindication: return "contraindication";
    case ItemKind::kLab: return "lab";
    case ItemKind::kInfection: return "infection";
    case ItemKind::kPrescription: return "prescription";
    case ItemKind::kDocument: return "document";
  }
  return "";
}

// The builders above are file-local; this class wires them into whole submissions.
class SubmissionBuilder {
 public:
  SubmissionBuilder(const GeneratorOptions& options, const Population& population)
      : options_(options), population_(population),
        today_(std::chrono::floor<days>(options.now + std::chrono::hours(9))),
        now_instant_(FormatInstant(options.now)) {}

  // One reporting unit. `unit` numbers the person's units, `revision` the resend.
  GeneratedSubmission Build(const Person& person, SubmissionKind kind, const Institution& inst,
                            const Institution* addressee, int unit, int revision) const {
    Rng rng(DeriveSeed(options_.seed, person.index, static_cast<uint64_t>(unit),
                       static_cast<uint64_t>(revision)));
    const codes::NamePair& doc_family = rng.Pick(codes::kSurnames);
    const codes::NamePair& doc_given = rng.Pick(codes::kMaleGiven);
    Ctx c{person, inst, rng, today_, now_instant_, Uuid(rng), rng.Pick(codes::kDepartments),
          std::string(doc_family.kanji), std::string(doc_given.kanji),
          std::string(doc_family.kana), std::string(doc_given.kana)};
    GeneratedSubmission s;
    s.kind = kind;
    s.institution_code = inst.code;
    s.patient_system = person.current().system;
    s.patient_identifier = person.current().value;
    s.person_index = person.index;
    s.revision = revision;
    static constexpr std::string_view kPrefix[] = {"CND", "ALG", "OBS", "REF", "DIS", "CHK"};
    char id[48];
    std::snprintf(id, sizeof id, "%s-P%08llu-U%03d", kPrefix[static_cast<int>(kind)].data(),
                  static_cast<unsigned long long>(person.index), unit);
    s.bundle_identifier = inst.code + "^" + std::to_string(YearOf(today_)) + "^" + id;
    if (kind == SubmissionKind::kReferral) s.addressee_code = addressee->code;
    switch (kind) {
      case SubmissionKind::kCondition:
      case SubmissionKind::kAllergy:
      case SubmissionKind::kObservation:
        s.bundle = InformationBundle(c, kind, s.bundle_identifier, s.items);
        break;
      case SubmissionKind::kReferral:
        s.bundle = Referral(c, *addressee, s.bundle_identifier, s.items, s.attached_discharge_summary);
        break;
      case SubmissionKind::kDischargeSummary:
        s.bundle = DischargeSummary(c, addressee, s.bundle_identifier, s.items);
        break;
      case SubmissionKind::kCheckup:
        s.bundle = Checkup(c, s.bundle_identifier, s.items);
        break;
    }
    return s;
  }

 private:
  Value InformationBundle(Ctx& c, SubmissionKind kind, const std::string& identifier,
                          std::vector<ExpectedItem>& items) const {
    Rng& rng = c.rng;
    int count = kind == SubmissionKind::kObservation ? rng.Range(2, 8) : rng.Range(1, 4);
    Value entries = Value::Array();
    entries.mutable_items().reserve(static_cast<size_t>(count) + 1);
    entries.Append(Entry(c.patient_url, PatientResource(c, false)));
    items.resize(static_cast<size_t>(count));
    sys_days visit = c.today - days(rng.Range(0, 300));
    for (int i = 0; i < count; ++i) {
      Value r;
      switch (kind) {
        case SubmissionKind::kCondition: r = ConditionResource(c, i, items[i]); break;
        case SubmissionKind::kAllergy: r = AllergyResource(c, i, items[i]); break;
        default: r = LabObservation(c, i, visit - days(rng.Range(0, 1) * 30), items[i]); break;
      }
      entries.Append(Entry(Uuid(rng), std::move(r)));
    }
    std::string_view tag = kind == SubmissionKind::kCondition ? "Condition"
                           : kind == SubmissionKind::kAllergy ? "AllergyIntolerance" : "Observation";
    return Obj()
        .Add("resourceType", "Bundle")
        .Add("meta", Obj().Add("lastUpdated", c.now_instant)
                         .Add("profile", Arr(Str(kBundleClins)))
                         .Add("tag", Arr(Coding(kBundleResourceTypeCs, tag, ""))))
        .Add("language", "ja")
        .Add("identifier", Obj().Add("system", kBundleIdentifierSystem).Add("value", identifier))
        .Add("type", "collection")
        .Add("timestamp", c.now_instant)
        .Add("entry", std::move(entries));
  }

  Value Composition(const Ctx& c, std::string_view profile, std::string_view type_code,
                    std::string_view type_display, Value category, std::string_view title,
                    const std::string& encounter_url, const std::string& author_url,
                    const std::string& org_url, std::string_view date, Value event,
                    Value sections) const {
    return Obj()
        .Add("resourceType", "Composition")
        .Add("meta", Obj().Add("lastUpdated", c.now_instant).Add("profile", Arr(Str(profile))))
        .Add("language", "ja")
        .Add("extension", Arr(Obj().Add("url", kVersionNumberExt).Add("valueString", "1.0"),
                              InstitutionExt(c.inst)))
        .Add("identifier", Obj().Add("system", kResourceInstanceId)
                               .Add("value", Str(ResourceKey(c, "DOC", 0))))
        .Add("status", "final")
        .Add("type", ConceptNoText(Coding(kDocTypeCs, type_code, type_display)))
        .Add("category", Arr(std::move(category)))
        .Add("subject", TypedRef(c.patient_url, "Patient"))
        .Add("encounter", TypedRef(encounter_url, "Encounter"))
        .Add("date", date)
        .Add("author", Arr(TypedRef(author_url, "Practitioner"), TypedRef(org_url, "Organization")))
        .Add("title", title)
        .Add("custodian", TypedRef(org_url, "Organization"))
        .Add("event", Arr(std::move(event)))
        .Add("section", std::move(sections));
  }

  // Document encounter as a full entry (not contained), with the institution extension.
  static Value DocEncounter(const Ctx& c, bool inpatient, std::string_view start, std::string_view end,
                            std::string_view reason) {
    Value e = EncounterResource("", inpatient, start, end);
    e.mutable_members().emplace_back("extension", Arr(InstitutionExt(c.inst)));
    if (!reason.empty()) e.mutable_members().emplace_back("reasonCode", Arr(Obj().Add("text", reason)));
    return e;
  }

  Value Referral(Ctx& c, const Institution& to, const std::string& identifier,
                 std::vector<ExpectedItem>& items, bool& attached) const {
    Rng& rng = c.rng;
    sys_days when = c.today - days(rng.Range(0, 60));
    std::string date = FormatDateTime(when, rng.Range(9 * 60, 18 * 60));
    std::string comp_url = Uuid(rng), enc_url = Uuid(rng), author_url = Uuid(rng),
                org_url = Uuid(rng), to_org_url = Uuid(rng), to_doc_url = Uuid(rng);
    Value entries = Value::Array();
    Value problem_refs = Value::Array(), allergy_refs = Value::Array(), med_refs = Value::Array();
    Value tail = Value::Array();
    ExpectedItem doc;
    doc.kind = ItemKind::kDocument;
    doc.system = kDocTypeCs;
    doc.code = "57133-1";
    doc.text = "診療情報提供書";
    doc.date = date;
    int conditions = rng.Range(1, 3);
    for (int i = 0; i < conditions; ++i) {
      ExpectedItem item;
      std::string url = Uuid(rng);
      tail.Append(Entry(url, ConditionResource(c, i, item)));
      problem_refs.Append(TypedRef(url, "Condition"));
    }
    if (rng.Percent(50)) {
      ExpectedItem item;
      std::string url = Uuid(rng);
      tail.Append(Entry(url, AllergyResource(c, 0, item)));
      allergy_refs.Append(TypedRef(url, "AllergyIntolerance"));
    }
    if (rng.Percent(50)) {  // with 処方
      int meds = rng.Range(1, 3);
      for (int i = 0; i < meds; ++i) {
        ExpectedItem item;
        std::string url = Uuid(rng);
        tail.Append(Entry(url, MedicationRequestResource(c, i, c.patient_url, when, item)));
        med_refs.Append(TypedRef(url, "MedicationRequest"));
        items.push_back(std::move(item));
      }
    }
    Value attachment_refs = Value::Array();
    if (c.inst.kind == InstitutionKind::kHospital && rng.Percent(50)) {
      // A 退院時サマリー travels inside the letter (section 210): a DocumentReference typed
      // 18842-5 whose attachment is the summary document itself, base64 FHIR JSON.
      std::string url = Uuid(rng);
      std::string inner_id = identifier + "-DS";
      std::vector<ExpectedItem> inner_items;
      Value summary = DischargeSummary(c, &to, inner_id, inner_items);
      tail.Append(Entry(url, Obj()
                                 .Add("resourceType", "DocumentReference")
                                 .Add("meta", Obj().Add("lastUpdated", c.now_instant))
                                 .Add("extension", Arr(InstitutionExt(c.inst)))
                                 .Add("status", "current")
                                 .Add("type", ConceptNoText(Coding(kDocTypeCs, "18842-5", "退院時サマリー")))
                                 .Add("subject", Ref(c.patient_url))
                                 .Add("date", c.now_instant)
                                 .Add("content", Arr(Obj().Add("attachment",
                                     Obj().Add("contentType", "application/fhir+json")
                                          .Add("data", Str(Base64(fhir::WriteJson(summary))))
                                          .Add("title", "退院時サマリー"))))));
      attachment_refs.Append(TypedRef(url, "DocumentReference"));
      attached = true;
    }
    static constexpr std::string_view kPurposes[] = {"精査加療のお願い", "手術適応のご判断のお願い",
                                                     "継続加療のお願い", "専門的治療のお願い"};
    std::string_view purpose = rng.Pick(kPurposes);

    Value structured = Value::Array();
    structured.Append(Section(kClinsSectionCs, "950", "紹介目的", "紹介目的セクション", purpose,
                              Arr(TypedRef(enc_url, "Encounter"))));
    structured.Append(Section(kClinsSectionCs, "340", "傷病名・主訴", "傷病名・主訴セクション",
                              "傷病名は別記のとおり", std::move(problem_refs)));
    structured.Append(Section(kClinsSectionCs, "360", "現病歴", "現病歴セクション",
                              "外来にて経過観察中", Value::Array()));
    if (!allergy_refs.items().empty())
      structured.Append(Section(kClinsSectionCs, "510", "アレルギー・不耐性反応",
                                "アレルギー・不耐性反応セクション", "別記のとおり", std::move(allergy_refs)));
    if (!med_refs.items().empty())
      structured.Append(Section(kClinsSectionCs, "430", "投薬指示", "投薬指示セクション",
                                "現在の処方は別記のとおり", std::move(med_refs)));
    Value sections = Value::Array();
    sections.Append(Section(kClinsSectionCs, "910", "紹介先情報", "紹介先情報セクション", to.name,
                            Arr(TypedRef(to_org_url, "Organization"), TypedRef(to_doc_url, "Practitioner"))));
    sections.Append(Section(kClinsSectionCs, "920", "紹介元情報", "紹介元情報セクション", c.inst.name,
                            Arr(TypedRef(org_url, "Organization"), TypedRef(author_url, "Practitioner"))));
    sections.Append(Obj()
                        .Add("title", "構造情報")
                        .Add("code", ConceptNoText(Coding(kClinsSectionCs, "300", "構造情報セクション")))
                        .Add("section", std::move(structured)));
    if (!attachment_refs.items().empty())
      sections.Append(Section(kClinsSectionCs, "210", "添付情報", "添付情報セクション",
                              "退院時サマリーを添付", std::move(attachment_refs)));

    Value event = Obj().Add("code", Arr(Obj().Add("text", "診療情報提供書発行")))
                      .Add("period", Obj().Add("start", FormatDate(when)));
    Value category = ConceptNoText(Coding(kDocSubtypeCs, "OUTPATIENT", "外来文書"));
    entries.Append(Entry(comp_url, Composition(c, kCompReferral, "57133-1", "診療情報提供書",
                                               std::move(category), "診療情報提供書", enc_url,
                                               author_url, org_url, date, std::move(event),
                                               std::move(sections))));
    entries.Append(Entry(c.patient_url, PatientResource(c, false)));
    entries.Append(Entry(enc_url, DocEncounter(c, false, FormatDate(when), "", purpose)));
    entries.Append(Entry(author_url, PractitionerEntryResource(c, c.inst, c.doctor_family, c.doctor_given, kPractitionerEcs)));
    entries.Append(Entry(org_url, OrganizationResource(c.inst, c.inst, c.now_instant, kOrganizationEcs)));
    entries.Append(Entry(to_org_url, OrganizationResource(c.inst, to, c.now_instant, kOrganizationEcs)));
    const codes::NamePair& to_family = rng.Pick(codes::kSurnames);
    const codes::NamePair& to_given = rng.Pick(codes::kFemaleGiven);
    entries.Append(Entry(to_doc_url, PractitionerEntryResource(c, to, to_family.kanji, to_given.kanji, kPractitionerEcs)));
    for (Value& v : tail.mutable_items()) entries.Append(std::move(v));
    items.insert(items.begin(), std::move(doc));
    return DocumentBundle(c, kBundleReferral, identifier, std::move(entries));
  }

  Value DischargeSummary(Ctx& c, const Institution* next, const std::string& identifier,
                         std::vector<ExpectedItem>& items) const {
    Rng& rng = c.rng;
    sys_days discharge = c.today - days(rng.Range(1, 120));
    sys_days admission = discharge - days(rng.Range(2, 40));
    std::string comp_url = Uuid(rng), enc_url = Uuid(rng), author_url = Uuid(rng),
                org_url = Uuid(rng), next_url = Uuid(rng), adm_url = Uuid(rng), dis_url = Uuid(rng);
    ExpectedItem doc;
    doc.kind = ItemKind::kDocument;
    doc.system = kDocTypeCs;
    doc.code = "18842-5";
    doc.text = "退院時サマリー";
    doc.date = FormatDate(admission);
    doc.end_date = FormatDate(discharge);
    items.push_back(doc);
    ExpectedItem adm_item, dis_item;
    Value adm = ConditionResource(c, 0, adm_item);
    Value dis = ConditionResource(c, 1, dis_item);
    Value med_refs = Value::Array();
    Value tail = Value::Array();
    int meds = rng.Range(0, 2);
    for (int i = 0; i < meds; ++i) {
      ExpectedItem item;
      std::string url = Uuid(rng);
      tail.Append(Entry(url, MedicationRequestResource(c, i, c.patient_url, discharge, item)));
      med_refs.Append(TypedRef(url, "MedicationRequest"));
      items.push_back(std::move(item));
    }
    auto S = [](std::string_view code, std::string_view title, std::string_view narrative, Value entries) {
      std::string display = std::string(title) + "セクション";
      return Section(kSummarySectionCs, code, title, display, narrative, std::move(entries));
    };
    Value structured = Value::Array();
    structured.Append(S("322", "入院時詳細", "予定入院", Arr(TypedRef(enc_url, "Encounter"))));
    structured.Append(S("342", "入院時診断", "別記のとおり", Arr(TypedRef(adm_url, "Condition"))));
    structured.Append(S("352", "主訴", "症状増悪", Value::Array()));
    structured.Append(S("312", "入院理由", "精査加療目的", Arr(TypedRef(enc_url, "Encounter"))));
    structured.Append(S("362", "現病歴", "外来通院中に症状増悪し入院", Value::Array()));
    structured.Append(S("333", "入院中経過", "治療により軽快", Value::Array()));
    structured.Append(S("324", "退院時詳細", "軽快退院", Arr(TypedRef(enc_url, "Encounter"))));
    structured.Append(S("344", "退院時診断", "別記のとおり", Arr(TypedRef(dis_url, "Condition"))));
    structured.Append(S("444", "退院時投薬指示", meds > 0 ? "別記のとおり" : "処方なし", std::move(med_refs)));
    structured.Append(S("424", "退院時方針指示", "外来にて経過観察", Value::Array()));
    Value sections = Arr(Obj()
                             .Add("title", "構造情報")
                             .Add("code", ConceptNoText(Coding(kSummarySectionCs, "300", "構造情報セクション")))
                             .Add("section", std::move(structured)));
    Value event = Obj().Add("period", Obj().Add("start", FormatDate(admission)).Add("end", FormatDate(discharge)));
    Value category = ConceptNoText(Coding(kDocTypeCs, "18842-5", "退院時サマリー"));
    Value entries = Value::Array();
    entries.Append(Entry(comp_url, Composition(c, kCompDischarge, "18842-5", "退院時サマリー",
                                               std::move(category), "退院時サマリー", enc_url, author_url,
                                               org_url, FormatDateTime(discharge, 15 * 60),
                                               std::move(event), std::move(sections))));
    entries.Append(Entry(c.patient_url, PatientResource(c, false)));
    entries.Append(Entry(enc_url, DocEncounter(c, true, FormatDate(admission), FormatDate(discharge), "")));
    entries.Append(Entry(author_url, PractitionerEntryResource(c, c.inst, c.doctor_family, c.doctor_given, kPractitionerEcs)));
    entries.Append(Entry(org_url, OrganizationResource(c.inst, c.inst, c.now_instant, kOrganizationEcs)));
    // Organization 2..: the institution the patient goes on to (退院後の所在施設).
    entries.Append(Entry(next_url, OrganizationResource(c.inst, next != nullptr ? *next : c.inst, c.now_instant, kOrganizationEcs)));
    entries.Append(Entry(adm_url, std::move(adm)));
    entries.Append(Entry(dis_url, std::move(dis)));
    for (Value& v : tail.mutable_items()) entries.Append(std::move(v));
    return DocumentBundle(c, kBundleDischarge, identifier, std::move(entries));
  }

  Value Checkup(Ctx& c, const std::string& identifier, std::vector<ExpectedItem>& items) const {
    Rng& rng = c.rng;
    sys_days when = c.today - days(rng.Range(1, 330));
    std::string comp_url = Uuid(rng), enc_url = Uuid(rng), author_url = Uuid(rng), org_url = Uuid(rng);
    ExpectedItem doc;
    doc.kind = ItemKind::kDocument;
    doc.system = kDocTypeCs;
    doc.code = "53576-5";
    doc.text = "健康診断結果報告書";
    doc.date = FormatDate(when);
    items.push_back(doc);
    Value refs = Value::Array();
    Value tail = Value::Array();
    for (const codes::CheckupItem& it : codes::kCheckupItems) {
      std::string url = Uuid(rng);
      int v = rng.Range(it.min, it.max);
      tail.Append(Entry(url, Obj()
                                 .Add("resourceType", "Observation")
                                 .Add("meta", Obj().Add("lastUpdated", c.now_instant)
                                                  .Add("profile", Arr(Str("http://jpfhir.jp/fhir/eCheckup/StructureDefinition/JP_Observation_eCheckupGeneral"))))
                                 .Add("extension", Arr(InstitutionExt(c.inst)))
                                 .Add("status", "final")
                                 .Add("category", Arr(ConceptNoText(Coding("http://jpfhir.jp/fhir/core/CodeSystem/JP_SimpleObservationCategory_CS",
                                                                           it.code[0] == '9' ? "exam" : "laboratory", ""))))
                                 .Add("code", ConceptNoText(Coding("urn:oid:1.2.392.200119.6.1005", it.code, it.name)))
                                 .Add("subject", Ref(c.patient_url))
                                 .Add("effectiveDateTime", FormatDate(when))
                                 .Add("performer", Arr(Ref(org_url)))
                                 .Add("valueQuantity", Obj().Add("value", Decimal(v, it.decimals)).Add("unit", it.unit)
                                                          .Add("system", kUcum).Add("code", it.ucum))));
      refs.Append(Ref(url));
    }
    Value sections = Arr(Obj()
                             .Add("title", "検査結果セクション")
                             .Add("code", ConceptNoText(Coding(kCheckupSectionCs, "01910", "検査結果セクション")))
                             .Add("entry", std::move(refs)));
    Value event = Obj().Add("code", Arr(ConceptNoText(Coding("urn:oid:1.2.392.200119.6.1002", "010", "特定健診"))))
                      .Add("period", Obj().Add("start", FormatDate(when)).Add("end", FormatDate(when)))
                      .Add("detail", Arr(Ref(enc_url)));
    Value category = ConceptNoText(Coding("urn:oid:2.16.840.1.113883.2.2.1.6.1001", "10", "特定健診"));
    Value entries = Value::Array();
    Value comp = Composition(c, kCompCheckup, "53576-5", "検診・健診報告書", std::move(category),
                             "健康診断結果報告書", enc_url, author_url, org_url,
                             FormatDateTime(when, 16 * 60), std::move(event), std::move(sections));
    entries.Append(Entry(comp_url, std::move(comp)));
    entries.Append(Entry(c.patient_url, PatientResource(c, true)));
    entries.Append(Entry(author_url, PractitionerEntryResource(c, c.inst, c.doctor_family, c.doctor_given,
                                                               "http://jpfhir.jp/fhir/eCheckup/StructureDefinition/JP_Practitioner_eCheckupGeneral")));
    entries.Append(Entry(org_url, OrganizationResource(c.inst, c.inst, c.now_instant,
                                                       "http://jpfhir.jp/fhir/eCheckup/StructureDefinition/JP_Organization_eCheckupGeneral")));
    Value enc = Obj()
                    .Add("resourceType", "Encounter")
                    .Add("meta", Obj().Add("lastUpdated", c.now_instant)
                                     .Add("profile", Arr(Str("http://jpfhir.jp/fhir/eCheckup/StructureDefinition/JP_Encounter_eCheckupGeneral"))))
                    .Add("extension", Arr(InstitutionExt(c.inst)))
                    .Add("status", "finished")
                    .Add("class", Coding("http://jpfhir.jp/fhir/eCheckup/CodeSystem/encounter-category", "checkup", "健診"))
                    .Add("period", Obj().Add("start", FormatDate(when)).Add("end", FormatDate(when)))
                    .Add("serviceProvider", Ref(org_url));
    entries.Append(Entry(enc_url, std::move(enc)));
    for (Value& v : tail.mutable_items()) entries.Append(std::move(v));
    return DocumentBundle(c, kBundleCheckup, identifier, std::move(entries));
  }

  const GeneratorOptions& options_;
  const Population& population_;
  sys_days today_;
  std::string now_instant_;
};

Generator::Generator(GeneratorOptions options) : options_(options) {
  Rng rng(DeriveSeed(options_.seed, 0x494e5354ULL /* "INST" */));
  std::unordered_set<std::string> used;
  int n = options_.institutions < 4 ? 4 : options_.institutions;
  population_.institutions.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    // Kinds cycle so that every directory has hospitals, clinics and checkup centres.
    InstitutionKind kind = i % 5 == 0   ? InstitutionKind::kHospital
                           : i % 5 == 4 ? InstitutionKind::kCheckupCenter
                                        : InstitutionKind::kClinic;
    population_.institutions.push_back(MakeInstitution(rng, i, kind, used));
  }
  sys_days today = std::chrono::floor<days>(options_.now + std::chrono::hours(9));
  population_.persons.reserve(static_cast<size_t>(options_.persons));
  for (int i = 0; i < options_.persons; ++i)
    population_.persons.push_back(MakePerson(options_.seed, static_cast<uint64_t>(i), today));
}

namespace {
// Which institutions a person visits: a deterministic choice from (seed, person).
struct Plan {
  std::vector<const Institution*> care;  // hospitals and clinics, 3 or more
  const Institution* checkup = nullptr;
};
Plan PlanFor(const GeneratorOptions& options, const Population& pop, const Person& person) {
  Rng rng(DeriveSeed(options.seed, 0x504c414eULL /* "PLAN" */, person.index));
  std::vector<const Institution*> care, checkups;
  for (const Institution& i : pop.institutions)
    (i.kind == InstitutionKind::kCheckupCenter ? checkups : care).push_back(&i);
  Plan plan;
  int want = rng.Range(3, 4);
  if (want > static_cast<int>(care.size())) want = static_cast<int>(care.size());
  // Partial Fisher-Yates on a copy: distinct institutions.
  for (int k = 0; k < want; ++k) {
    size_t j = static_cast<size_t>(k) + rng.Below(care.size() - static_cast<size_t>(k));
    std::swap(care[static_cast<size_t>(k)], care[j]);
    plan.care.push_back(care[static_cast<size_t>(k)]);
  }
  if (!checkups.empty() && rng.Percent(70)) plan.checkup = checkups[rng.Below(checkups.size())];
  return plan;
}
}  // namespace

std::vector<GeneratedSubmission> Generator::SubmissionsFor(const Person& person) const {
  SubmissionBuilder builder(options_, population_);
  Plan plan = PlanFor(options_, population_, person);
  Rng rng(DeriveSeed(options_.seed, 0x5355424dULL /* "SUBM" */, person.index));
  std::vector<GeneratedSubmission> out;
  int unit = 0;
  for (const Institution* inst : plan.care) {
    out.push_back(builder.Build(person, SubmissionKind::kCondition, *inst, nullptr, unit++, 0));
    if (rng.Percent(50))
      out.push_back(builder.Build(person, SubmissionKind::kAllergy, *inst, nullptr, unit++, 0));
    out.push_back(builder.Build(person, SubmissionKind::kObservation, *inst, nullptr, unit++, 0));
  }
  // A referral from the first institution to the second (a hospital-bound letter if possible).
  const Institution* from = plan.care[0];
  const Institution* to = plan.care[1];
  out.push_back(builder.Build(person, SubmissionKind::kReferral, *from, to, unit++, 0));
  for (const Institution* inst : plan.care) {
    if (inst->kind == InstitutionKind::kHospital) {
      out.push_back(builder.Build(person, SubmissionKind::kDischargeSummary, *inst, plan.care[2], unit++, 0));
      break;
    }
  }
  if (plan.checkup != nullptr)
    out.push_back(builder.Build(person, SubmissionKind::kCheckup, *plan.checkup, nullptr, unit++, 0));
  return out;
}

GeneratedSubmission Generator::Resubmission(const Person& person, const GeneratedSubmission& original,
                                            int revision) const {
  SubmissionBuilder builder(options_, population_);
  const Institution* inst = nullptr;
  const Institution* addressee = nullptr;
  for (const Institution& i : population_.institutions) {
    if (i.code == original.institution_code) inst = &i;
    if (!original.addressee_code.empty() && i.code == original.addressee_code) addressee = &i;
  }
  // The unit number is the U### part of the identifier; reuse it so the identifier matches.
  size_t u = original.bundle_identifier.rfind("-U");
  int unit = std::stoi(original.bundle_identifier.substr(u + 2));
  GeneratedSubmission s = builder.Build(person, original.kind, *inst, addressee, unit, revision);
  return s;
}

Withdrawal Generator::WithdrawalOf(const GeneratedSubmission& s) {
  return Withdrawal{s.kind, s.institution_code, s.patient_system, s.patient_identifier,
                    s.bundle_identifier};
}

}  // namespace clinshub::generator
