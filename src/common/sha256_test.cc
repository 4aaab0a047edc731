#include "common/sha256.h"

#include <gtest/gtest.h>

#include <set>

#include "common/ids.h"

namespace clinshub {
namespace {

TEST(Sha256Test, MatchesKnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(IdGeneratorTest, RandomIdsAreUniqueFhirIds) {
  RandomIdGenerator ids;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = ids.NewId();
    EXPECT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_TRUE(seen.insert(id).second);
  }
}

TEST(IdGeneratorTest, SequentialIdsArePredictable) {
  SequentialIdGenerator ids("t");
  EXPECT_EQ(ids.NewId(), "t-1");
  EXPECT_EQ(ids.NewId(), "t-2");
}

}  // namespace
}  // namespace clinshub
