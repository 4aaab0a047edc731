#include "store/audit_refs.h"

#include <gtest/gtest.h>

namespace clinshub::store {
namespace {

using Refs = std::vector<std::string>;

TEST(AuditRefsTest, ListsRoundTripInOrderAndRunsOfOneBundleShareItsId) {
  const std::string a = "0f3c9a7e5b2d4c1a8e6f0b3d2c1a9e8f";
  const std::string b = "9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b";
  struct Case {
    Refs refs;
    std::string stored;
  };
  const Case cases[] = {
      {{}, ""},
      {{a + "/0"}, "~" + a + "/0"},
      {{a + "/3", a + "/4", a + "/5"}, "~" + a + "/3.4.5"},
      {{a + "/3", b + "/1", a + "/7"}, "~" + a + "/3," + b + "/1," + a + "/7"},
      {{a + "/12", a + "/012"}, "~" + a + "/12.012"},  // ordinals kept as written
      {{"Bundle/x/2", "Bundle/x/3"}, "~Bundle/x/2.3"},  // the last '/' separates
      {{a + "/1", "no-ordinal"}, "=" + a + "/1,no-ordinal"},
      {{"x/1.5"}, "=x/1.5"},
      {{"~odd/z"}, "=~odd/z"},
      {{"=odd"}, "==odd"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(EncodeAuditRefs(c.refs), c.stored);
    EXPECT_EQ(DecodeAuditRefs(c.stored), c.refs) << c.stored;
  }
}

TEST(AuditRefsTest, ListsStoredByEarlierReleasesAreReadAsTheyAre) {
  EXPECT_EQ(DecodeAuditRefs("b1/1,b1/2,b2/1"), (Refs{"b1/1", "b1/2", "b2/1"}));
  EXPECT_EQ(DecodeAuditRefs("b1/1"), (Refs{"b1/1"}));
  EXPECT_EQ(DecodeAuditRefs(""), Refs{});
}

TEST(AuditRefsTest, ASummarysReferencesTakeLessThanHalfTheJoinedBytes) {
  Refs refs;
  std::string joined;
  for (int bundle = 0; bundle < 11; ++bundle) {
    for (int ordinal = 1; ordinal <= 3; ++ordinal) {
      refs.push_back(std::string(32, static_cast<char>('a' + bundle)) + "/" +
                     std::to_string(ordinal));
      joined += (joined.empty() ? "" : ",") + refs.back();
    }
  }
  EXPECT_LT(EncodeAuditRefs(refs).size() * 2, joined.size());
  EXPECT_EQ(DecodeAuditRefs(EncodeAuditRefs(refs)), refs);
}

}  // namespace
}  // namespace clinshub::store
