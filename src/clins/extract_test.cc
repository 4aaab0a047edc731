#include "clins/extract.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "clins/submission.h"
#include "clins/test_bundles.h"
#include "common/clock.h"
#include "fhir/json.h"
#include "generator/generator.h"

namespace clinshub::clins {
namespace {

using testing::At;
using testing::Remove;
using testing::SetString;

constexpr char kMedis[] = "http://medis.or.jp/CodeSystem/master-disease-keyNumber";
constexpr char kFood[] = "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyFoodAllergen_CS";
constexpr char kNonFood[] =
    "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyNonFoodNonMedicationAllergen_CS";
constexpr char kYcm[] = "http://jpfhir.jp/fhir/core/CodeSystem/YCM/JP_JfagyMedicationAllergen_CS";
constexpr char kCoreLab[] =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS";
constexpr char kInfectionLab[] =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_InfectionLabo_CS";
constexpr char kLocalLab[] =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_LocalCode_CS";
constexpr char kYj[] = "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code";
constexpr char kGeneralName[] = "http://jpfhir.jp/fhir/core/CodeSystem/JP_MedicationCodeCommon_CS";
constexpr char kHot9[] = "http://jpfhir.jp/fhir/core/CodeSystem/JP_MedicationCodeHOT9_CS";

ValidationContext Ctx() {
  return ValidationContext{"", Timestamp(std::chrono::sys_days(std::chrono::year{2025} / 6 / 1))};
}

std::string Describe(const Status& st) {
  std::string out;
  for (const auto& i : st.issues()) out += "  [" + i.rule + "] " + i.expression + " — " + i.message + "\n";
  return out;
}

Timestamp Date(std::string_view text) {
  std::optional<Timestamp> t = ParseFhirDateTime(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(Timestamp());
}

// Validates, then extracts: the order the hub runs them in.
Result<std::vector<Item>> ValidateAndExtract(const fhir::Value& bundle) {
  Result<SubmissionFacts> facts = ValidateSubmission(bundle, Ctx());
  if (!facts.ok()) return facts.take_status();
  return ExtractItems(bundle, *facts);
}

// Facts from the valid bundle, then the bundle is changed in ways the validator would refuse
// (or need not check), to pin down what ExtractItems itself does.
struct Mutated {
  fhir::Value bundle;
  SubmissionFacts facts;
};
Mutated ValidThenMutate(fhir::Value bundle, const std::function<void(fhir::Value&)>& mutate) {
  Result<SubmissionFacts> facts = ValidateSubmission(bundle, Ctx());
  EXPECT_TRUE(facts.ok()) << Describe(facts.status());
  mutate(bundle);
  return {std::move(bundle), facts.ok() ? *facts : SubmissionFacts{}};
}

int EntryOfType(const fhir::Value& bundle, std::string_view type) {
  const auto& entries = bundle.Find("entry")->items();
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].Find("resource")->StringAt("resourceType") == type) return static_cast<int>(i);
  }
  return -1;
}

struct Want {
  ItemKind kind;
  std::string resource_type, system, code, text, date;
  uint32_t flags;
};

TEST(ExtractItemsTest, OneItemPerClinicalEntryOfEachSubmissionKind) {
  struct Case {
    const char* name;
    std::function<fhir::Value()> build;
    std::vector<Want> want;
  } cases[] = {
      {"conditions",
       testing::ConditionBundle,
       {{ItemKind::kCondition, "Condition", kMedis, "20064507", "高血圧症", "2024-04-01", kFlagNone},
        {ItemKind::kCondition, "Condition", kMedis, "99999999", "右膝の違和感", "2024-04-01",
         kFlagUninformed}}},
      // No onsetDateTime in these allergies: the recorded date stands in.
      {"allergies and drug contraindications",
       testing::AllergyBundle,
       {{ItemKind::kAllergy, "AllergyIntolerance", kFood, "J9FA32540000", "キウイ", "2024-04-01",
         kFlagNone},
        {ItemKind::kDrugContraindication, "AllergyIntolerance", kYcm, "YCM1124017F1024",
         "トリアゾラム錠", "2024-04-01", kFlagLongTermStorage},
        {ItemKind::kAllergy, "AllergyIntolerance", kNonFood, "D9N000000000", "ラテックス手袋",
         "2024-04-01", kFlagNone}}},
      {"lab results and infections",
       testing::ObservationBundle,
       {{ItemKind::kLabResult, "Observation", kCoreLab, "3A015000002329101", "検査",
         "2025-05-30T09:00:00+09:00", kFlagNone},
        {ItemKind::kInfection, "Observation", kInfectionLab, "5F016141002305151", "検査",
         "2025-05-30T09:00:00+09:00", kFlagLongTermStorage}}},
      // The letter also carries a Condition: only the prescription becomes an item.
      {"referral letter",
       testing::ReferralDocument,
       {{ItemKind::kPrescription, "MedicationRequest", kYj, "2149039F1020", "降圧薬", "2025-05-30",
         kFlagNone}}},
      {"discharge summary without prescriptions", testing::DischargeDocument, {}},
      {"checkup report", testing::CheckupDocument, {}},
  };
  for (const auto& c : cases) {
    Result<std::vector<Item>> items = ValidateAndExtract(c.build());
    ASSERT_TRUE(items.ok()) << c.name << "\n" << Describe(items.status());
    ASSERT_EQ(items->size(), c.want.size()) << c.name;
    for (size_t i = 0; i < c.want.size(); ++i) {
      const Item& got = (*items)[i];
      const Want& want = c.want[i];
      EXPECT_EQ(got.kind, want.kind) << c.name << " #" << i;
      EXPECT_EQ(got.resource_type, want.resource_type) << c.name << " #" << i;
      EXPECT_EQ(got.code_system, want.system) << c.name << " #" << i;
      EXPECT_EQ(got.code, want.code) << c.name << " #" << i;
      EXPECT_EQ(got.text, want.text) << c.name << " #" << i;
      EXPECT_EQ(got.clinical_date, Date(want.date)) << c.name << " #" << i;
      EXPECT_EQ(got.flags, want.flags) << c.name << " #" << i;
    }
  }
}

TEST(ExtractItemsTest, JsonIsTheSubmittedResourceWithItsContained) {
  const fhir::Value bundle = testing::ObservationBundle();
  Result<std::vector<Item>> items = ValidateAndExtract(bundle);
  ASSERT_TRUE(items.ok()) << Describe(items.status());
  ASSERT_EQ(items->size(), 2u);
  for (size_t i = 0; i < items->size(); ++i) {
    Result<fhir::Value> parsed = fhir::ParseJson((*items)[i].json);
    ASSERT_TRUE(parsed.ok());
    const fhir::Value& submitted = *bundle.Find("entry")->items()[i + 1].Find("resource");
    EXPECT_EQ(*parsed, submitted) << i;
    EXPECT_EQ((*items)[i].json, fhir::WriteJson(submitted)) << i;  // byte-stable, not just equal
    EXPECT_NE(parsed->Find("contained"), nullptr) << i;
  }
}

// Each case changes one thing in an accepted bundle's first item and checks one field.
TEST(ExtractItemsTest, FieldRulesOnSingleChanges) {
  struct Case {
    const char* name;
    std::function<fhir::Value()> build;
    std::function<void(fhir::Value&)> mutate;
    std::function<void(const Item&)> check;
  } cases[] = {
      {"allergy onset wins over the recorded date", testing::AllergyBundle,
       [](fhir::Value& b) { SetString(b, "entry[1].resource.onsetDateTime", "2019-07"); },
       [](const Item& it) { EXPECT_EQ(it.clinical_date, Date("2019-07")); }},
      {"allergy with neither onset nor recorded date has no date", testing::AllergyBundle,
       [](fhir::Value& b) { Remove(b, "entry[1].resource.recordedDate"); },
       [](const Item& it) { EXPECT_FALSE(it.clinical_date.has_value()); }},
      {"condition date is the onset, not the recorded date", testing::ConditionBundle,
       [](fhir::Value& b) { SetString(b, "entry[1].resource.onsetDateTime", "2023-12-24"); },
       [](const Item& it) { EXPECT_EQ(it.clinical_date, Date("2023-12-24")); }},
      {"undelivered flag", testing::ConditionBundle,
       [](fhir::Value& b) {
         *At(b, "entry[1].resource.meta.tag") = testing::Json(
             R"([{"system":"http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication","code":"UNDELIVERED"},
                 {"system":"http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication","code":"LTS"}])");
       },
       [](const Item& it) { EXPECT_EQ(it.flags, kFlagUndelivered | kFlagLongTermStorage); }},
      {"a flag code under another system is not a flag", testing::ConditionBundle,
       [](fhir::Value& b) {
         *At(b, "entry[1].resource.meta.tag") =
             testing::Json(R"([{"system":"http://example.org/tags","code":"UNINFORMED"}])");
       },
       [](const Item& it) { EXPECT_EQ(it.flags, kFlagNone); }},
      {"text falls back to the coding display", testing::ConditionBundle,
       [](fhir::Value& b) {
         Remove(b, "entry[1].resource.code.text");
         SetString(b, "entry[1].resource.code.coding[0].display", "本態性高血圧症");
       },
       [](const Item& it) { EXPECT_EQ(it.text, "本態性高血圧症"); }},
      {"local-only observation is a lab result keyed by its local code", testing::ObservationBundle,
       [](fhir::Value& b) {
         At(b, "entry[1].resource.code.coding")->mutable_items().pop_back();
       },
       [](const Item& it) {
         EXPECT_EQ(it.kind, ItemKind::kLabResult);
         EXPECT_EQ(it.code_system, kLocalLab);
         EXPECT_EQ(it.code, "L-100");
       }},
      {"JLAC11 infection system makes an infection", testing::ObservationBundle,
       [](fhir::Value& b) {
         SetString(b, "entry[1].resource.code.coding[1].system",
                   "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC11/JP_CLINS_ObsLabResult_InfectionLabo_CS");
       },
       [](const Item& it) { EXPECT_EQ(it.kind, ItemKind::kInfection); }},
      {"CLINS coding wins over a local coding listed after it", testing::ObservationBundle,
       [](fhir::Value& b) {
         auto& codings = At(b, "entry[1].resource.code.coding")->mutable_items();
         std::swap(codings[0], codings[1]);
       },
       [](const Item& it) { EXPECT_EQ(it.code_system, kCoreLab); }},
  };
  for (const auto& c : cases) {
    Mutated m = ValidThenMutate(c.build(), c.mutate);
    Result<std::vector<Item>> items = ExtractItems(m.bundle, m.facts);
    ASSERT_TRUE(items.ok()) << c.name << "\n" << Describe(items.status());
    ASSERT_FALSE(items->empty()) << c.name;
    SCOPED_TRACE(c.name);
    c.check(items->front());
  }
}

TEST(ExtractItemsTest, PrescriptionPrefersYjThenGeneralNameThenHot) {
  struct Case {
    const char* name;
    const char* codings;
    const char* want_system;
    const char* want_code;
  } cases[] = {
      {"YJ listed last still wins",
       R"([{"system":"http://jpfhir.jp/fhir/core/CodeSystem/JP_MedicationCodeHOT9_CS","code":"103835401"},
           {"system":"http://jpfhir.jp/fhir/core/CodeSystem/JP_MedicationCodeCommon_CS","code":"2149039F1ZZZ"},
           {"system":"http://capstandard.jp/iyaku.info/CodeSystem/YJ-code","code":"2149039F1020"}])",
       kYj, "2149039F1020"},
      {"general name before HOT9",
       R"([{"system":"http://jpfhir.jp/fhir/core/CodeSystem/JP_MedicationCodeHOT9_CS","code":"103835401"},
           {"system":"http://jpfhir.jp/fhir/core/CodeSystem/JP_MedicationCodeCommon_CS","code":"2149039F1ZZZ"}])",
       kGeneralName, "2149039F1ZZZ"},
      {"HOT9 when alone", R"([{"system":"http://jpfhir.jp/fhir/core/CodeSystem/JP_MedicationCodeHOT9_CS","code":"103835401"}])",
       kHot9, "103835401"},
      {"an unknown system is kept as sent",
       R"([{"system":"http://example.org/local-drug","code":"D-7"}])", "http://example.org/local-drug",
       "D-7"},
  };
  for (const auto& c : cases) {
    const fhir::Value original = testing::ReferralDocument();
    const int med = EntryOfType(original, "MedicationRequest");
    ASSERT_GE(med, 0);
    Mutated m = ValidThenMutate(original, [&](fhir::Value& b) {
      *At(b, "entry[" + std::to_string(med) + "].resource.medicationCodeableConcept.coding") =
          testing::Json(c.codings);
    });
    Result<std::vector<Item>> items = ExtractItems(m.bundle, m.facts);
    ASSERT_TRUE(items.ok()) << c.name << "\n" << Describe(items.status());
    ASSERT_EQ(items->size(), 1u) << c.name;
    EXPECT_EQ(items->front().code_system, c.want_system) << c.name;
    EXPECT_EQ(items->front().code, c.want_code) << c.name;
  }
}

TEST(ExtractItemsTest, RejectsAnUnparseableClinicalDateWithItsPath) {
  Mutated m = ValidThenMutate(testing::ConditionBundle(), [](fhir::Value& b) {
    SetString(b, "entry[2].resource.onsetDateTime", "2024-13-45");
  });
  Result<std::vector<Item>> items = ExtractItems(m.bundle, m.facts);
  ASSERT_FALSE(items.ok());
  EXPECT_EQ(items.status().code(), ErrorCode::kUnprocessable);
  ASSERT_EQ(items.status().issues().size(), 1u);
  EXPECT_EQ(items.status().issues()[0].expression, "Bundle.entry[2].resource.onsetDateTime");
}

TEST(ExtractItemsTest, FactsFromAnotherBundleAreAnInternalError) {
  Result<SubmissionFacts> facts = ValidateSubmission(testing::AllergyBundle(), Ctx());
  ASSERT_TRUE(facts.ok()) << Describe(facts.status());
  facts->item_entries.push_back(99);
  Result<std::vector<Item>> items = ExtractItems(testing::AllergyBundle(), *facts);
  ASSERT_FALSE(items.ok());
  EXPECT_EQ(items.status().code(), ErrorCode::kInternal);
}

// ---- against the generator's independent expectations -------------------------------------

ItemKind KindOf(generator::ItemKind k) {
  switch (k) {
    case generator::ItemKind::kCondition: return ItemKind::kCondition;
    case generator::ItemKind::kAllergy: return ItemKind::kAllergy;
    case generator::ItemKind::kContraindication: return ItemKind::kDrugContraindication;
    case generator::ItemKind::kLab: return ItemKind::kLabResult;
    case generator::ItemKind::kInfection: return ItemKind::kInfection;
    case generator::ItemKind::kPrescription: return ItemKind::kPrescription;
    case generator::ItemKind::kDocument: break;
  }
  return ItemKind::kCondition;
}

TEST(ExtractItemsTest, AgreesWithTheGeneratorsExpectedItems) {
  int bundles = 0, compared = 0;
  for (uint64_t seed : {1u, 7u, 2026u}) {
    generator::Generator gen({.seed = seed, .persons = 12, .institutions = 20});
    const ValidationContext ctx{"", gen.options().now};
    for (const generator::Person& person : gen.population().persons) {
      for (const generator::GeneratedSubmission& sub : gen.SubmissionsFor(person)) {
        ++bundles;
        const std::string where = "seed " + std::to_string(seed) + " " + sub.bundle_identifier;
        Result<SubmissionFacts> facts = ValidateSubmission(sub.bundle, ctx);
        ASSERT_TRUE(facts.ok()) << where << "\n" << Describe(facts.status());
        Result<std::vector<Item>> items = ExtractItems(sub.bundle, *facts);
        ASSERT_TRUE(items.ok()) << where << "\n" << Describe(items.status());

        std::vector<const generator::ExpectedItem*> want;
        for (const auto& e : sub.items) {
          if (e.kind != generator::ItemKind::kDocument) want.push_back(&e);
        }
        ASSERT_EQ(items->size(), want.size()) << where;
        for (size_t i = 0; i < want.size(); ++i) {
          const Item& got = (*items)[i];
          const generator::ExpectedItem& e = *want[i];
          SCOPED_TRACE(where + " item " + std::to_string(i));
          EXPECT_EQ(got.kind, KindOf(e.kind));
          EXPECT_EQ(got.code_system, e.system);
          EXPECT_EQ(got.code, e.code);
          EXPECT_EQ(got.text, e.text);
          EXPECT_EQ(got.clinical_date, Date(e.date));
          EXPECT_EQ((got.flags & kFlagUninformed) != 0, e.uninformed);
          EXPECT_EQ((got.flags & kFlagUndelivered) != 0, e.undelivered);
          EXPECT_EQ((got.flags & kFlagLongTermStorage) != 0, e.long_term);
          ++compared;
        }
      }
    }
  }
  EXPECT_GE(bundles, 300);
  EXPECT_GE(compared, 1000);
}

}  // namespace
}  // namespace clinshub::clins
