#include "publichealth/pseudonym.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace clinshub::publichealth {
namespace {

std::string TempPath(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/pseudonym-" + std::to_string(::getpid()) + "-" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::filesystem::create_directories(dir);
  std::filesystem::remove(dir + "/" + name);
  return dir + "/" + name;
}

TEST(PseudonymTest, SecretIsCreatedOnceWithMode0600AndReused) {
  const std::string path = TempPath("key");
  Result<std::string> first = LoadOrCreateSecret(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->size(), 64u);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result<std::string> again = LoadOrCreateSecret(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
}

TEST(PseudonymTest, ASecretOthersCanReadIsRefused) {
  const std::string path = TempPath("key");
  ASSERT_TRUE(LoadOrCreateSecret(path).ok());
  ::chmod(path.c_str(), 0644);
  EXPECT_EQ(LoadOrCreateSecret(path).status().code(), ErrorCode::kInternal);
}

TEST(PseudonymTest, IsAStableKeyedHashOfThePerson) {
  const std::string a(64, 'a'), b(64, 'b');
  EXPECT_EQ(Pseudonym(a, "P1"), Pseudonym(a, "P1"));
  EXPECT_NE(Pseudonym(a, "P1"), Pseudonym(a, "P2"));
  EXPECT_NE(Pseudonym(a, "P1"), Pseudonym(b, "P1")) << "another secret, another pseudonym";
  EXPECT_EQ(Pseudonym(a, "P1").size(), 64u);
  EXPECT_EQ(Pseudonym(a, "P1").find("P1"), std::string::npos);
}

}  // namespace
}  // namespace clinshub::publichealth
