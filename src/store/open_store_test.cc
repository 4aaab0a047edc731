#include "store/open_store.h"

#include <filesystem>

#include <gtest/gtest.h>

#include <stdlib.h>

namespace clinshub::store {
namespace {

TEST(ParseStoreLocationTest, PicksTheBackendFromTheScheme) {
  struct Case {
    std::string in;
    StoreBackend backend;
    std::string target;
  };
  for (const Case& c : std::vector<Case>{
           {"./data", StoreBackend::kSqlite, "./data"},
           {"/var/lib/clinshub/hub.sqlite3", StoreBackend::kSqlite,
            "/var/lib/clinshub/hub.sqlite3"},
           {"sqlite:/tmp/x", StoreBackend::kSqlite, "/tmp/x"},
           {"postgresql://hub@db:5432/clinshub", StoreBackend::kPostgres,
            "postgresql://hub@db:5432/clinshub"},
           {"postgres:///clinshub?host=/run/postgresql", StoreBackend::kPostgres,
            "postgres:///clinshub?host=/run/postgresql"},
       }) {
    Result<StoreLocation> l = ParseStoreLocation(c.in);
    ASSERT_TRUE(l.ok()) << c.in;
    EXPECT_EQ(l->backend, c.backend) << c.in;
    EXPECT_EQ(l->target, c.target) << c.in;
    EXPECT_EQ(l->schema, "") << c.in;
  }
}

TEST(ParseStoreLocationTest, TakesTheSchemaParameterOutOfThePostgresUri) {
  Result<StoreLocation> l =
      ParseStoreLocation("postgresql:///db?host=/tmp/s&schema=hub_1&user=u");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->target, "postgresql:///db?host=/tmp/s&user=u");
  EXPECT_EQ(l->schema, "hub_1");
  l = ParseStoreLocation("postgresql://h/db?schema=s");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->target, "postgresql://h/db");
  EXPECT_EQ(l->schema, "s");
}

TEST(ParseStoreLocationTest, EmptyLocationsAreMalformed) {
  EXPECT_EQ(ParseStoreLocation("").status().code(), ErrorCode::kMalformed);
  EXPECT_EQ(ParseStoreLocation("sqlite:").status().code(), ErrorCode::kMalformed);
}

TEST(RedactStoreLocationTest, HidesPasswords) {
  EXPECT_EQ(RedactStoreLocation("postgresql://hub:s3cret@db/clinshub"),
            "postgresql://hub:***@db/clinshub");
  EXPECT_EQ(RedactStoreLocation("postgresql://db/clinshub?user=hub&password=s3cret&x=1"),
            "postgresql://db/clinshub?user=hub&password=***&x=1");
  EXPECT_EQ(RedactStoreLocation("./data"), "./data");
}

TEST(OpenStoreTest, OpensAndMigratesSqliteAtAPath) {
  std::string dir = ::testing::TempDir() + "/open-store-XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  ManualClock clock(Timestamp(std::chrono::seconds(1'800'000'000)));
  ASSERT_TRUE(MigrateStore("sqlite:" + dir, clock).ok());
  Result<std::unique_ptr<Store>> store = OpenStore(dir, OpenStoreOptions{}, clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE((*store)->Ping().ok());
  store->reset();
  std::filesystem::remove_all(dir);
}

TEST(OpenStoreTest, AnUnreachablePostgresIsUnavailable) {
  ManualClock clock(Timestamp(std::chrono::seconds(1'800'000'000)));
  Result<std::unique_ptr<Store>> store = OpenStore(
      "postgresql:///x?host=/nonexistent-clinshub-dir&connect_timeout=2", OpenStoreOptions{},
      clock);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace clinshub::store
