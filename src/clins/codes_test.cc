#include "clins/codes.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace clinshub::clins {
namespace {

TEST(CodesTest, InstitutionCodeFollowsPrefectureTableAndLength) {
  const struct {
    const char* in;
    bool ok;
  } cases[] = {{"1312345678", true}, {"4731234567", true}, {"5012345678", false}, {"1342345678", false},
               {"131234567", false},  {"13123456789", false}, {"13123456７8", false}, {"", false}};
  for (const auto& c : cases) EXPECT_EQ(IsInstitutionCode(c.in), c.ok) << c.in;
}

TEST(CodesTest, UrnUuidIsLowerCaseCanonical) {
  EXPECT_TRUE(IsUrnUuid("urn:uuid:b76ef6f6-f6e3-c110-5039-eee64ef6ab6a"));
  EXPECT_FALSE(IsUrnUuid("urn:uuid:B76EF6F6-F6E3-C110-5039-EEE64EF6AB6A"));
  EXPECT_FALSE(IsUrnUuid("urn:uuid:b76ef6f6f6e3c1105039eee64ef6ab6a"));
  EXPECT_FALSE(IsUrnUuid("Patient/1"));
}

TEST(CodesTest, BundleIdentifierValueMatchesR02152) {
  const struct {
    const char* in;
    bool ok;
  } cases[] = {{"1318814790^2024^0123-IDa-203949583949", true},
               {"1318814790^2039^a", true},
               {"1318814790^2040^a", false},
               {"1318814790^2024^", false},
               {"1318814790^2024^a_b", false},
               {"1318814790-2024-abc", false}};
  for (const auto& c : cases) EXPECT_EQ(IsBundleIdentifierValue(c.in), c.ok) << c.in;
}

TEST(CodesTest, MemberIdentifiersFollowR1013) {
  const struct {
    const char* in;
    bool ok;
  } insurance[] = {{"00012345:あいう:１８７:05", true}, {"00012345::187:", true}, {"00012345:AB:1８7:05", false},
                   {"00012345:A B:187:05", false},   {"0001234:AB:187:05", false}, {"00012345:AB:187:5", false},
                   {"00012345:AB:187", false}};
  for (const auto& c : insurance) EXPECT_EQ(!InsuranceMemberIdProblem(c.in), c.ok) << c.in;
  EXPECT_FALSE(PublicPayerMemberIdProblem("12345678::1234567:"));
  EXPECT_FALSE(PublicPayerMemberIdProblem("12345678::１２３４５６７:"));
  EXPECT_TRUE(PublicPayerMemberIdProblem("12345678::123456:"));
  EXPECT_TRUE(PublicPayerMemberIdProblem("12345678:x:1234567:"));
}

TEST(CodesTest, DesignatedLabListsSeparateCoreAndInfection) {
  EXPECT_EQ(FindJlac10("3A015000002329101"), LabList::kCoreLab);
  EXPECT_EQ(FindJlac10("5F016141002305151"), LabList::kInfection);
  EXPECT_FALSE(FindJlac10("8A065000002391901"));  // eGFR: not a designated item
}

TEST(CodesTest, JfagyTableKnowsRetiredCodes) {
  EXPECT_EQ(FindJfagy("J9FA32540000"), 99999999u);
  EXPECT_EQ(FindJfagy("J9FA32111600"), 20250331u);
  EXPECT_FALSE(FindJfagy("J9FZ99999999"));
}

}  // namespace
}  // namespace clinshub::clins

namespace clinshub::clins {
namespace {

// The compiled tables must match the reference lists they were generated from (regenerate
// with tools/clins_tables/gen_tables.py when this fails).
TEST(CodesTest, TablesMatchTheReferenceLists) {
  const std::filesystem::path dir = std::filesystem::path(CLINSHUB_SHARED_DIR) / "clins/codelists";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no " << dir << ": shared reference material absent";
  std::ifstream lab(dir / "clins_lab_codes_JLAC10.csv");
  std::string line;
  std::getline(lab, line);
  int labs = 0;
  while (std::getline(lab, line)) {
    const auto c1 = line.find(','), c2 = line.find(',', c1 + 1), c3 = line.find(',', c2 + 1),
               c4 = line.find(',', c3 + 1);
    const std::string code = line.substr(c3 + 1, c4 - c3 - 1);
    const auto want = line.starts_with("core-lab") ? LabList::kCoreLab : LabList::kInfection;
    EXPECT_EQ(FindJlac10(code), want) << code;
    ++labs;
  }
  EXPECT_EQ(labs, 437 + 255);
  std::ifstream jfagy(dir / "JFAGY_allergen-master_20250401_R01_utf8.csv");
  std::getline(jfagy, line);
  int allergens = 0;
  while (std::getline(jfagy, line)) {
    const auto q = line.find("\",\"") + 3;
    const std::string code = line.substr(q, line.find('"', q) - q);
    if (code.starts_with("J9F") || code.starts_with("J9N")) {
      EXPECT_TRUE(FindJfagy(code).has_value()) << code;
      ++allergens;
    }
  }
  EXPECT_EQ(allergens, 1126 + 607);
}

}  // namespace
}  // namespace clinshub::clins
