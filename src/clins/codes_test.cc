#include "clins/codes.h"

#include <gtest/gtest.h>

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
