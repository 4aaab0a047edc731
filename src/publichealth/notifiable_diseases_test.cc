#include "publichealth/notifiable_diseases.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace clinshub::publichealth {
namespace {

TEST(NotifiableDiseasesTest, CodesAreUniqueAndEveryRowIsComplete) {
  std::set<std::string_view> codes;
  for (const NotifiableDisease& d : NotifiableDiseases()) {
    EXPECT_TRUE(codes.insert(d.code).second) << d.code;
    EXPECT_FALSE(d.name.empty()) << d.code;
    EXPECT_FALSE(d.keywords.empty()) << d.code;
    EXPECT_FALSE(CategoryName(d.category).empty()) << d.code;
    EXPECT_NE(d.required & kFieldDiagnosisDate, 0u) << d.code << ": every notification is dated";
    EXPECT_EQ(d.required & kFieldDeathDate, 0u) << d.code;
  }
}

TEST(NotifiableDiseasesTest, CoversEveryIndividualNotificationCategory) {
  std::set<Category> seen;
  for (const NotifiableDisease& d : NotifiableDiseases()) seen.insert(d.category);
  for (Category c : {Category::k1, Category::k2, Category::k3, Category::k4, Category::k5,
                     Category::kNovelInfluenza}) {
    EXPECT_TRUE(seen.count(c)) << CategoryName(c);
  }
}

TEST(NotifiableDiseasesTest, FindsByCodeOnly) {
  const NotifiableDisease* measles = FindNotifiableDisease("measles");
  ASSERT_NE(measles, nullptr);
  EXPECT_EQ(measles->name, "麻しん");
  EXPECT_EQ(measles->category, Category::k5);
  EXPECT_TRUE(measles->immediate);
  EXPECT_EQ(FindNotifiableDisease("tuberculosis")->category, Category::k2);
  EXPECT_EQ(FindNotifiableDisease("influenza"), nullptr) << "seasonal flu is sentinel-reported";
  EXPECT_EQ(FindNotifiableDisease(""), nullptr);
  EXPECT_EQ(FindNotifiableDisease("麻しん"), nullptr);
}

}  // namespace
}  // namespace clinshub::publichealth
