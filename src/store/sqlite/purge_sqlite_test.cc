// SQLite-specific retention checks beneath the Store interface: the purge leaves no row behind
// in any table, the space it frees is reused by later inserts (the file does not grow when the
// same amount of data comes again), and the keyset windows give the same result whatever
// their size. The behaviour every backend shares is in store_retention_test_suite.cc.
#include "store/sqlite/purge_sqlite.h"

#include <sqlite3.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.h"
#include "store/store_test_suite.h"

namespace clinshub::store {
namespace {

using std::chrono::hours;

constexpr const char* kSystem = "http://jpfhir.jp/fhir/clins/bundle-identifier";

int64_t QueryInt(const std::string& file, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
  int64_t v = -1;
  if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

uintmax_t FileBytes(const std::string& file) {
  std::error_code ec;
  uintmax_t n = std::filesystem::file_size(file, ec);
  uintmax_t wal = std::filesystem::file_size(file + "-wal", ec);
  return n + (ec ? 0 : wal);
}

PutUnit BigUnit(const std::string& person, const std::string& value, int items) {
  PutUnit u;
  u.key = UnitKey{person, kSystem, value};
  u.institution = "1311234567";
  u.kind = "conditions";
  u.content_hash = "hash-" + value;
  u.bundle = fhir::Value::Object();
  u.bundle.Set("resourceType", fhir::Value::String("Bundle"));
  u.bundle.Set("type", fhir::Value::String("collection"));
  u.bundle.Set("implicitRules", fhir::Value::String("urn:test:" + std::string(3000, 'x')));
  for (int i = 0; i < items; ++i) {
    Item item;
    item.kind = ItemKind::kLabResult;
    item.resource_type = "Observation";
    item.code = value + "-" + std::to_string(i);
    item.text = "検査 " + value;
    item.json = "{\"resourceType\":\"Observation\",\"note\":\"" + std::string(500, 'y') + "\"}";
    u.items.push_back(std::move(item));
  }
  return u;
}

class SqlitePurgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("purge");
    file_ = SqliteDatabaseFile(dir_);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void Open() {
    SqliteOptions options;
    options.path = dir_;
    auto opened = OpenSqliteStore(options, clock_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
  }
  void Fill(const std::string& prefix, int units) {
    for (int b = 0; b < units; b += 50) {
      WriteBatch batch;
      for (int i = b; i < std::min(units, b + 50); ++i) {
        batch.ops.push_back(BigUnit("person-" + std::to_string(i % 7), prefix + std::to_string(i), 4));
      }
      auto c = store_->Commit(std::move(batch));
      ASSERT_TRUE(c.ok()) << c.status().ToString();
    }
  }
  int64_t Rows(const std::string& table) {
    return QueryInt(file_, "SELECT COUNT(*) FROM " + table);
  }

  std::string dir_, file_;
  ManualClock clock_{Timestamp(std::chrono::seconds(1'800'000'000))};
  std::unique_ptr<Store> store_;
};

TEST_F(SqlitePurgeTest, PurgedRowsAreGoneFromEveryTableAndTheirSpaceIsReused) {
  constexpr int kUnits = 600;
  Open();
  Fill("first-", kUnits);
  store_.reset();  // closing checkpoints the WAL into the file
  const uintmax_t full = FileBytes(file_);
  ASSERT_GT(full, 2u << 20) << "enough data to measure";

  Open();
  clock_.Advance(hours(24 * 400));  // labs are kept 1 year by default
  const int64_t audit_before = Rows("audit");
  auto report = store_->Purge(RetentionPolicy{}, clock_.Now(), false);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->units, kUnits);
  EXPECT_EQ(report->items, 4 * kUnits);
  EXPECT_EQ(report->bundle_versions, kUnits);
  EXPECT_EQ(report->persons, 7);
  store_.reset();
  for (const char* table : {"item", "unit", "resource_version", "resource_current",
                            "referral_consent", "consent"}) {
    EXPECT_EQ(Rows(table), 0) << table;
  }
  EXPECT_EQ(Rows("audit"), audit_before) << "the audit trail is never purged";
  // The freed pages sit on the free list, ready for the next inserts.
  const int64_t free_pages = QueryInt(file_, "PRAGMA freelist_count");
  const int64_t pages = QueryInt(file_, "PRAGMA page_count");
  EXPECT_GT(free_pages, pages / 2) << free_pages << " of " << pages << " pages free";

  // The same amount of data again fits in the freed space: the file barely grows.
  Open();
  Fill("second-", kUnits);
  store_.reset();
  const uintmax_t refilled = FileBytes(file_);
  EXPECT_LE(refilled, full + full / 10) << "before purge " << full << ", after refill " << refilled;
}

// Runs the purge straight on a connection to the closed store's file, with given windows.
Result<PurgeReport> PurgeWithWindows(const std::string& file, Timestamp now, bool dry_run,
                                     sqlite::PurgeWindows windows) {
  auto conn = sqlite::Connection::Open(file, false, 5000);
  if (!conn.ok()) return conn.take_status();
  CLINSHUB_RETURN_IF_ERROR((*conn)->Exec("PRAGMA foreign_keys = ON"));
  RetentionPolicy policy;
  policy.superseded_versions = hours(24);
  policy.consents = hours(24);
  return sqlite::PurgeExpired(
      policy, now, dry_run, [&](sqlite::PurgeStep step) { return step(**conn); }, windows);
}

TEST_F(SqlitePurgeTest, WindowsOfAnySizeFindTheSameRows) {
  Open();
  // Old units, units replaced later (superseded versions), fresh units, consents.
  Fill("old-", 23);
  for (int i = 0; i < 9; ++i) {
    auto c = store_->Commit(WriteBatch{{PutConsent{ConsentRecord{
        "c" + std::to_string(i), "person-" + std::to_string(i % 4), "1311234567",
        "card-reader", clock_.Now(), clock_.Now() + hours(24 * (i % 2 == 0 ? 1 : 1000)), {}}}}});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
  }
  clock_.Advance(hours(24 * 200));
  Fill("kept-", 11);
  Fill("kept-", 5);  // re-sent with the same hash: unchanged
  {
    WriteBatch batch;
    for (int i = 0; i < 6; ++i) {
      PutUnit u = BigUnit("person-" + std::to_string(i % 7), "kept-" + std::to_string(i), 2);
      u.content_hash = "v2";
      batch.ops.push_back(std::move(u));
    }
    ASSERT_TRUE(store_->Commit(std::move(batch)).ok());
  }
  clock_.Advance(hours(24 * 200));  // old- labs past 1 year; kept- ones not; v1 of 6 superseded
  store_.reset();

  auto text = [](const PurgeReport& r) {
    return std::to_string(r.items) + "/" + std::to_string(r.units) + "/" +
           std::to_string(r.bundle_versions) + "/" + std::to_string(r.referral_recipients) +
           "/" + std::to_string(r.consents) + "/" + std::to_string(r.persons);
  };
  auto whole = PurgeWithWindows(file_, clock_.Now(), true, {100000, 100000, 100000});
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(text(*whole), "92/23/29/0/5/7");
  for (sqlite::PurgeWindows w : {sqlite::PurgeWindows{1, 1, 1}, sqlite::PurgeWindows{3, 2, 2},
                                 sqlite::PurgeWindows{7, 5, 4}}) {
    auto dry = PurgeWithWindows(file_, clock_.Now(), true, w);
    ASSERT_TRUE(dry.ok()) << dry.status().ToString();
    EXPECT_EQ(text(*dry), text(*whole)) << w.items << "/" << w.units << "/" << w.consents;
  }
  auto real = PurgeWithWindows(file_, clock_.Now(), false, {3, 2, 2});
  ASSERT_TRUE(real.ok()) << real.status().ToString();
  EXPECT_EQ(text(*real), text(*whole));
  EXPECT_EQ(Rows("unit"), 11);
  EXPECT_EQ(Rows("resource_version"), 11);
  EXPECT_EQ(Rows("item"), 5 * 4 + 6 * 2);
  EXPECT_EQ(Rows("consent"), 4);
}

}  // namespace
}  // namespace clinshub::store
