#include "store/sqlite/page_cache_bound.h"

#include <sqlite3.h>

#include <filesystem>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace clinshub::store::sqlite {
namespace {

constexpr unsigned kParkingKey = 0x40000000 / 4096 + 1;  // 262,145 with 4 KB pages

// The page cache SQLite will use: the wrapper over pcache1 (installed before SQLite starts,
// which is why this test has a binary of its own).
class PageCacheBoundTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    installed_ = InstallPageCacheBound();
    if (installed_) {
      ASSERT_EQ(sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &methods_), SQLITE_OK);
    }
    ASSERT_EQ(sqlite3_initialize(), SQLITE_OK);
  }
  void SetUp() override {
    if (!installed_) GTEST_SKIP() << "SQLite initialised before the wrapper could be installed";
    cache_ = methods_.xCreate(4096, 64, 1);
    ASSERT_NE(cache_, nullptr);
    methods_.xCachesize(cache_, 1000);
  }
  void TearDown() override {
    if (cache_ != nullptr) methods_.xDestroy(cache_);
  }

  // Creates the page and leaves it unpinned, as the pager does with a page it has released.
  sqlite3_pcache_page* Add(unsigned key) {
    sqlite3_pcache_page* page = methods_.xFetch(cache_, key, 2);
    EXPECT_NE(page, nullptr) << key;
    if (page != nullptr) methods_.xUnpin(cache_, page, 0);
    return page;
  }
  bool Has(unsigned key) { return methods_.xFetch(cache_, key, 0) != nullptr; }

  static inline bool installed_ = false;
  static inline sqlite3_pcache_methods2 methods_{};
  sqlite3_pcache* cache_ = nullptr;
};

TEST_F(PageCacheBoundTest, ATruncateBelowEveryPageIsSkippedAndOneAboveSomeDropsThem) {
  for (unsigned k = 1; k <= 10; ++k) Add(k);
  const uint64_t skipped = PageCacheTruncatesSkipped();
  methods_.xTruncate(cache_, 11);  // the end of a transaction that did not shrink the file
  EXPECT_EQ(PageCacheTruncatesSkipped(), skipped + 1);
  EXPECT_EQ(methods_.xPagecount(cache_), 10);
  methods_.xTruncate(cache_, 6);  // a rollback that shrank it: pages 6..10 must go
  EXPECT_EQ(PageCacheTruncatesSkipped(), skipped + 1);
  EXPECT_EQ(methods_.xPagecount(cache_), 5);
  EXPECT_TRUE(Has(5));
  EXPECT_FALSE(Has(6));
  EXPECT_FALSE(Has(10));
}

TEST_F(PageCacheBoundTest, APageRenumberedAboveTheLimitIsDroppedButTheParkingKeyIsNotABound) {
  // Pinned, as the pager holds the pages it renumbers.
  sqlite3_pcache_page* a = methods_.xFetch(cache_, 3, 2);
  sqlite3_pcache_page* b = methods_.xFetch(cache_, 4, 2);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  // btree.c balance_nonroot: 3 → parking, 4 → 3, parking → 4 (pages swap numbers).
  methods_.xRekey(cache_, a, 3, kParkingKey);
  methods_.xRekey(cache_, b, 4, 3);
  methods_.xRekey(cache_, a, kParkingKey, 4);
  const uint64_t skipped = PageCacheTruncatesSkipped();
  methods_.xTruncate(cache_, 5);
  EXPECT_EQ(PageCacheTruncatesSkipped(), skipped + 1) << "the parking key must not count";
  EXPECT_EQ(methods_.xPagecount(cache_), 2);
  // A page renumbered past the end is a page the truncate must find.
  methods_.xRekey(cache_, a, 4, 9);
  methods_.xTruncate(cache_, 5);
  EXPECT_EQ(PageCacheTruncatesSkipped(), skipped + 1);
  EXPECT_FALSE(Has(9));
  EXPECT_TRUE(Has(3));
}

TEST_F(PageCacheBoundTest, APageRecycledFromTheLruUnderANewKeyIsBounded) {
  methods_.xCachesize(cache_, 10);
  for (unsigned k = 1; k <= 40; ++k) Add(k);  // the cache recycles its oldest pages
  methods_.xTruncate(cache_, 21);
  for (unsigned k = 21; k <= 40; ++k) EXPECT_FALSE(Has(k)) << k;
}

// A database written with random keys (index splits that renumber pages, so the parking key
// is used) and with transactions that grow the file and roll back: it stays intact, the rows
// are the committed ones, and most end-of-transaction truncates are skipped.
TEST_F(PageCacheBoundTest, ADatabaseUnderSplitsAndRollbacksStaysIntact) {
  const std::string dir = ::testing::TempDir() + "page_cache_bound_" +
                          std::to_string(::testing::UnitTest::GetInstance()->random_seed());
  std::filesystem::create_directories(dir);
  const std::string file = dir + "/t.sqlite3";
  std::filesystem::remove(file);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  auto exec = [&](const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error ? error : "");
    sqlite3_free(error);
  };
  auto query = [&](const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK);
    std::string out;
    if (sqlite3_step(s) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(s, 0);
      out = t == nullptr ? "" : reinterpret_cast<const char*>(t);
    }
    sqlite3_finalize(s);
    return out;
  };
  exec("PRAGMA journal_mode=WAL; PRAGMA cache_size=-4096;"
       "CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;"
       "CREATE INDEX t_v ON t (v);");
  std::mt19937 random(7);
  auto random_text = [&] { return std::to_string(random()) + std::string(200, 'x'); };
  const uint64_t skipped = PageCacheTruncatesSkipped();
  int committed = 0;
  for (int txn = 0; txn < 120; ++txn) {
    const bool keep = txn % 3 != 2;
    exec("BEGIN");
    for (int i = 0; i < 50; ++i) {
      exec("INSERT INTO t VALUES ('" + random_text() + "', '" + random_text() + "')");
    }
    exec(keep ? "COMMIT" : "ROLLBACK");
    if (keep) committed += 50;
  }
  EXPECT_EQ(query("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(query("SELECT count(*) FROM t"), std::to_string(committed));
  EXPECT_GT(PageCacheTruncatesSkipped(), skipped + 40);
  sqlite3_close(db);
  // A second connection reads the file, not this process's caches.
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(query("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(query("SELECT count(*) FROM t"), std::to_string(committed));
  sqlite3_close(db);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace clinshub::store::sqlite
