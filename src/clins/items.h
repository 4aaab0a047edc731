// The clinical items (6情報 and 処方) a reporting unit is broken into, so that a patient's
// summary is one indexed read. Produced by clins::ExtractItems, stored by the Store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.h"

namespace clinshub::clins {

// What kind of clinical item a row holds (3文書6情報 minus the documents themselves).
enum class ItemKind : int {
  kCondition = 1,             // 傷病名
  kAllergy = 2,               // アレルギー (food / non-food)
  kDrugContraindication = 3,  // 薬剤禁忌 (AllergyIntolerance category=medication)
  kLabResult = 4,             // 検査 (designated lab items and others)
  kInfection = 5,             // 感染症 (designated infection items)
  kPrescription = 6,          // 処方 (MedicationRequest extracted from documents)
};

// Visibility flags from meta.tag (system JP_ehrshrs_indication), as a bit set.
enum ItemFlag : uint32_t {
  kFlagNone = 0,
  kFlagUninformed = 1u << 0,   // 未告知: never shown to the patient
  kFlagUndelivered = 1u << 1,  // 未提供: shown to no other institution nor the patient
  kFlagLongTermStorage = 1u << 2,  // LTS 長期保存
};

// One extracted item, ready to store.
struct Item {
  ItemKind kind = ItemKind::kCondition;
  std::string resource_type;   // Condition, AllergyIntolerance, Observation, MedicationRequest
  std::string code_system;     // the coding that identifies the item (MEDIS, JLAC10, J-FAGY…)
  std::string code;
  std::string text;            // code.text (Japanese, as submitted)
  std::optional<Timestamp> clinical_date;  // onset / effective / authored
  uint32_t flags = kFlagNone;
  // The resource as submitted (with its contained resources), compact JSON.
  std::string json;
  // The Bundle.entry index the resource is (-1: not an entry of the unit's Bundle), `json`
  // then being that entry's resource as fhir::WriteJson writes it. Lets a store keep the item
  // as a slice of the stored Bundle instead of a copy of `json`.
  int entry = -1;
};

}  // namespace clinshub::clins
