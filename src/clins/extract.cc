#include "clins/extract.h"

#include <array>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/clock.h"
#include "fhir/json.h"

namespace clinshub::clins {
namespace {

constexpr std::string_view kIndicationCs =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication";

// The coding systems that identify an item, best first. An item is keyed by the first coding
// whose system is on its list; when none is, by its first coding, so a code the hub does not
// know still shows as sent rather than vanishing.
constexpr std::array<std::string_view, 1> kConditionSystems = {
    "http://medis.or.jp/CodeSystem/master-disease-keyNumber",  // 病名管理番号 or 99999999
};
constexpr std::array<std::string_view, 5> kAllergySystems = {
    "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyFoodAllergen_CS",
    "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyNonFoodNonMedicationAllergen_CS",
    "http://jpfhir.jp/fhir/core/CodeSystem/YCM/JP_JfagyMedicationAllergen_CS",
    "http://jpfhir.jp/fhir/core/CodeSystem/GCM/JP_JfagyMedicationAllergen_CS",
    "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code",
};
// CLINS designated lists first (the code the hub and the viewers compare across
// institutions), then the institution's local code, which every lab Observation carries.
constexpr std::array<std::string_view, 5> kObservationSystems = {
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS",
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_InfectionLabo_CS",
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC11/JP_CLINS_ObsLabResult_CoreLabo_CS",
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC11/JP_CLINS_ObsLabResult_InfectionLabo_CS",
    "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_LocalCode_CS",
};
constexpr std::array<std::string_view, 2> kInfectionSystems = {
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_InfectionLabo_CS",
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC11/JP_CLINS_ObsLabResult_InfectionLabo_CS",
};
// The service requires YJ or the 一般名処方 code (JP_MedicationRequest_eCS); HOT9/HOT7 may be
// added alongside. System URIs as in the IG's NamingSystems, the YJ one the validator accepts
// first.
constexpr std::array<std::string_view, 11> kMedicationSystems = {
    "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code",
    "http://jpfhir.jp/fhir/core/CodeSystem/JP_MedicationCodeYJ_CS",
    "http://jpfhir.jp/fhir/core/CodeSystem/JP_MedicationCodeCommon_CS",
    "urn:oid:1.2.392.100495.20.1.81",
    "http://jpfhir.jp/fhir/core/CodeSystem/JP_MedicationCodeHOT9_CS",
    "http://medis.or.jp/CodeSystem/master-HOT9",
    "urn:oid:1.2.392.200119.4.403.1",
    "urn:oid:1.2.392.100495.20.2.74",
    "http://jpfhir.jp/fhir/core/CodeSystem/JP_MedicationCodeHOT7_CS",
    "http://medis.or.jp/CodeSystem/master-HOT7",
    "urn:oid:1.2.392.200119.4.403.2",
};

template <size_t N>
bool Contains(const std::array<std::string_view, N>& list, std::string_view s) {
  for (std::string_view x : list) {
    if (x == s) return true;
  }
  return false;
}

// The coding of `codeable` whose system ranks best in `preferred`, else its first coding, else
// nullptr.
template <size_t N>
const fhir::Value* IdentifyingCoding(const fhir::Value* codeable,
                                     const std::array<std::string_view, N>& preferred) {
  const fhir::Value* codings = codeable ? codeable->Find("coding") : nullptr;
  if (!codings || codings->items().empty()) return nullptr;
  const fhir::Value* best = nullptr;
  size_t best_rank = N;
  for (const fhir::Value& c : codings->items()) {
    const std::string_view system = c.StringAt("system");
    for (size_t rank = 0; rank < best_rank; ++rank) {
      if (preferred[rank] == system) {
        best = &c;
        best_rank = rank;
        break;
      }
    }
  }
  return best ? best : &codings->items().front();
}

void FillCode(Item& item, const fhir::Value* codeable, const fhir::Value* coding) {
  if (coding) {
    item.code_system = std::string(coding->StringAt("system"));
    item.code = std::string(coding->StringAt("code"));
  }
  // code.text is what the physician chose and the viewers print; a display is the master's
  // name for the code, used only when the text is missing.
  std::string_view text = codeable ? codeable->StringAt("text") : std::string_view();
  if (text.empty() && coding) text = coding->StringAt("display");
  item.text = std::string(text);
}

uint32_t Flags(const fhir::Value& resource) {
  uint32_t flags = kFlagNone;
  const fhir::Value* meta = resource.Find("meta");
  const fhir::Value* tags = meta ? meta->Find("tag") : nullptr;
  if (!tags) return flags;
  for (const fhir::Value& tag : tags->items()) {
    if (tag.StringAt("system") != kIndicationCs) continue;
    const std::string_view code = tag.StringAt("code");
    if (code == "UNINFORMED") flags |= kFlagUninformed;
    if (code == "UNDELIVERED") flags |= kFlagUndelivered;
    if (code == "LTS") flags |= kFlagLongTermStorage;
  }
  return flags;
}

// Sets item.clinical_date from the first of `elements` present ("effectivePeriod.start" style
// paths go one level down). Absent everywhere leaves it empty: the date is optional for the
// store, which then orders by registration.
Status FillDate(Item& item, const fhir::Value& resource, std::string_view resource_path,
                std::initializer_list<std::pair<std::string_view, std::string_view>> elements) {
  for (const auto& [element, child] : elements) {
    const fhir::Value* v = resource.Find(element);
    std::string path = std::string(resource_path) + "." + std::string(element);
    if (v && !child.empty()) {
      v = v->Find(child);
      path += "." + std::string(child);
    }
    if (!v || !v->is_string()) continue;
    std::optional<Timestamp> t = ParseFhirDateTime(v->text());
    if (!t) {
      return Status::Error(ErrorCode::kUnprocessable, "value",
                           "not a FHIR dateTime: \"" + v->text() + "\" / 日時の形式が不正です",
                           path);
    }
    item.clinical_date = *t;
    return Status::Ok();
  }
  return Status::Ok();
}

bool HasCategory(const fhir::Value& resource, std::string_view wanted) {
  const fhir::Value* categories = resource.Find("category");
  if (!categories) return false;
  for (const fhir::Value& c : categories->items()) {
    if (c.is_string() && c.text() == wanted) return true;
  }
  return false;
}

// The Item for one resource, or nullopt when this kind of submission does not register it.
Result<std::optional<Item>> ItemOf(const fhir::Value& resource, std::string_view path,
                                   bool document) {
  const std::string_view type = resource.StringAt("resourceType");
  Item item;
  item.resource_type = std::string(type);
  Status st;
  if (type == "MedicationRequest") {
    item.kind = ItemKind::kPrescription;
    const fhir::Value* med = resource.Find("medicationCodeableConcept");
    FillCode(item, med, IdentifyingCoding(med, kMedicationSystems));
    st = FillDate(item, resource, path, {{"authoredOn", ""}});
  } else if (document) {
    return std::optional<Item>();  // see extract.h: documents contribute 処方 only
  } else if (type == "Condition") {
    item.kind = ItemKind::kCondition;
    const fhir::Value* code = resource.Find("code");
    FillCode(item, code, IdentifyingCoding(code, kConditionSystems));
    st = FillDate(item, resource, path, {{"onsetDateTime", ""}, {"onsetPeriod", "start"}});
  } else if (type == "AllergyIntolerance") {
    item.kind = HasCategory(resource, "medication") ? ItemKind::kDrugContraindication
                                                    : ItemKind::kAllergy;
    const fhir::Value* code = resource.Find("code");
    FillCode(item, code, IdentifyingCoding(code, kAllergySystems));
    // Allergies are often recorded without a known onset; when the allergy was recorded is
    // the next best date a viewer can show.
    st = FillDate(item, resource, path,
                  {{"onsetDateTime", ""}, {"onsetPeriod", "start"}, {"recordedDate", ""}});
  } else if (type == "Observation") {
    const fhir::Value* code = resource.Find("code");
    const fhir::Value* coding = IdentifyingCoding(code, kObservationSystems);
    // The code system, not the value, tells 感染症 from 検査 (the IG's designated lists).
    item.kind = coding && Contains(kInfectionSystems, coding->StringAt("system"))
                    ? ItemKind::kInfection
                    : ItemKind::kLabResult;
    FillCode(item, code, coding);
    st = FillDate(item, resource, path,
                  {{"effectiveDateTime", ""}, {"effectivePeriod", "start"}, {"effectiveInstant", ""}});
  } else {
    return std::optional<Item>();
  }
  if (!st.ok()) return st;
  item.flags = Flags(resource);
  item.json = fhir::WriteJson(resource);
  return std::optional<Item>(std::move(item));
}

}  // namespace

Result<std::vector<Item>> ExtractItems(const fhir::Value& bundle, const SubmissionFacts& facts) {
  const fhir::Value* entries = bundle.Find("entry");
  const size_t count = entries ? entries->items().size() : 0;
  const bool document = IsDocument(facts.kind);
  std::vector<Item> items;
  items.reserve(facts.item_entries.size());
  for (int index : facts.item_entries) {
    if (index < 0 || static_cast<size_t>(index) >= count) {
      return InternalError("ExtractItems: item entry " + std::to_string(index) +
                           " is not in the bundle (facts from another bundle?)");
    }
    const fhir::Value* resource = entries->items()[index].Find("resource");
    if (!resource || !resource->is_object()) {
      return InternalError("ExtractItems: entry " + std::to_string(index) + " has no resource");
    }
    const std::string path = "Bundle.entry[" + std::to_string(index) + "].resource";
    Result<std::optional<Item>> item = ItemOf(*resource, path, document);
    if (!item.ok()) return item.take_status();
    if (item->has_value()) {
      (*item)->entry = index;
      items.push_back(std::move(**item));
    }
  }
  return items;
}

}  // namespace clinshub::clins
