#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <new>
#include <thread>

#include <gtest/gtest.h>

#include "fhir/json.h"
#include "store/sqlite/schema.h"
#include "store/store_test_suite.h"

namespace clinshub::store {
namespace {

Result<std::unique_ptr<Store>> OpenInDirectory(const std::string& dir, const Clock& clock) {
  SqliteOptions options;
  options.path = dir;
  return OpenSqliteStore(options, clock);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
                         ::testing::Values(StoreFactory{"Sqlite", &OpenInDirectory}),
                         [](const auto& info) { return info.param.name; });

// Direct access to the file, to check what the store wrote beneath its interface.
class RawDb {
 public:
  explicit RawDb(const std::string& file) { sqlite3_open(file.c_str(), &db_); }
  ~RawDb() { sqlite3_close(db_); }
  std::vector<std::vector<std::string>> Query(const std::string& sql) {
    std::vector<std::vector<std::string>> rows;
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
    while (sqlite3_step(s) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        const unsigned char* t = sqlite3_column_text(s, i);
        row.push_back(t == nullptr ? "NULL" : reinterpret_cast<const char*>(t));
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(s);
    return rows;
  }
  void Exec(const std::string& sql) {
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
  }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir("sqlite"); }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Result<std::unique_ptr<Store>> Open() {
    SqliteOptions options;
    options.path = dir_;
    return OpenSqliteStore(options, clock_);
  }
  std::string File() const { return SqliteDatabaseFile(dir_); }

  std::string dir_;
  ManualClock clock_{Timestamp(std::chrono::seconds(1'800'000'000))};
};

#define ASSERT_OK_R(r) ASSERT_TRUE((r).ok()) << (r).status().ToString()

// A consent of institution "A" for person "p1", granted now and for a day.
WriteBatch ConsentBatch(const Clock& clock, const std::string& id) {
  ConsentRecord c;
  c.id = id;
  c.person_key = "p1";
  c.institution = "A";
  c.method = "card-reader";
  c.granted = clock.Now();
  c.expires = clock.Now() + std::chrono::hours(24);
  WriteBatch batch;
  batch.ops.push_back(PutConsent{c});
  return batch;
}

TEST_F(SqliteStoreTest, AReadSessionSeesOneSnapshotUntilItCloses) {
  Result<std::unique_ptr<Store>> store = Open();
  ASSERT_OK_R(store);
  Store& s = **store;
  {
    std::unique_ptr<ReadSession> session = s.OpenReadSession();
    ASSERT_NE(session, nullptr);
    EXPECT_EQ(s.OpenReadSession(), nullptr) << "one session per thread: the open one serves";
    Result<bool> before = s.HasActiveConsent("p1", "A", clock_.Now());
    ASSERT_OK_R(before);
    EXPECT_FALSE(*before);
    // A commit made while the session is open (even by its own thread) is not seen in it...
    ASSERT_OK_R(s.Commit(ConsentBatch(clock_, "c1")));
    Result<bool> inside = s.HasActiveConsent("p1", "A", clock_.Now());
    ASSERT_OK_R(inside);
    EXPECT_FALSE(*inside) << "the session's reads share the snapshot of its first read";
  }
  // ...and is, once it has closed.
  Result<bool> after = s.HasActiveConsent("p1", "A", clock_.Now());
  ASSERT_OK_R(after);
  EXPECT_TRUE(*after);
  std::unique_ptr<ReadSession> again = s.OpenReadSession();
  EXPECT_NE(again, nullptr) << "closing a session lets the thread open another";
}

TEST_F(SqliteStoreTest, AReadSessionHoldsOneConnectionThatOnlyItsThreadUses) {
  SqliteOptions options;
  options.path = dir_;
  options.read_connections = 1;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, clock_);
  ASSERT_OK_R(store);
  Store& s = **store;
  std::unique_ptr<ReadSession> session = s.OpenReadSession();
  ASSERT_NE(session, nullptr);
  // The pool's only connection is the session's: the thread's own reads must use it (were
  // they to ask the pool, this would never return).
  for (int i = 0; i < 3; ++i) ASSERT_OK_R(s.HasActiveConsent("p1", "A", clock_.Now()));
  // Another thread waits for the connection until the session closes.
  std::atomic<bool> other_done{false};
  std::thread other([&] {
    EXPECT_TRUE(s.HasActiveConsent("p1", "A", clock_.Now()).ok());
    other_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(other_done) << "another thread read through a connection a session holds";
  session.reset();
  other.join();
  EXPECT_TRUE(other_done);
}

TEST_F(SqliteStoreTest, OpeningRecordsEveryMigrationWithItsTime) {
  ASSERT_TRUE(Open().ok());
  RawDb db(File());
  auto rows = db.Query("SELECT version, applied_at FROM schema_migrations ORDER BY version");
  ASSERT_EQ(rows.size(), sqlite::Migrations().size());
  EXPECT_EQ(rows.back()[0], std::to_string(sqlite::LatestSchemaVersion()));
  EXPECT_EQ(rows.back()[1], std::to_string(clock_.Now().time_since_epoch().count()));
}

TEST_F(SqliteStoreTest, ReopeningDoesNotReapplyMigrations) {
  ASSERT_TRUE(Open().ok());
  clock_.Advance(std::chrono::hours(1));
  ASSERT_TRUE(Open().ok());
  RawDb db(File());
  EXPECT_EQ(db.Query("SELECT COUNT(*) FROM schema_migrations")[0][0],
            std::to_string(sqlite::Migrations().size()));
}

TEST_F(SqliteStoreTest, ASchemaNewerThanThisBuildIsRefused) {
  ASSERT_TRUE(Open().ok());
  {
    RawDb db(File());
    db.Exec("INSERT INTO schema_migrations VALUES (" +
            std::to_string(sqlite::LatestSchemaVersion() + 1) + ", 'from the future', 0)");
  }
  Result<std::unique_ptr<Store>> store = Open();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), ErrorCode::kInternal);
  EXPECT_NE(store.status().message().find("newer"), std::string::npos);
}

TEST_F(SqliteStoreTest, TheDatabaseIsInWalModeWithTheCurrentVersionIndexed) {
  Result<std::unique_ptr<Store>> store = Open();
  ASSERT_TRUE(store.ok());
  RawDb db(File());
  EXPECT_EQ(db.Query("PRAGMA journal_mode")[0][0], "wal");
  // The current-version lookup must be a primary-key search, not a scan of the history.
  auto plan = db.Query(
      "EXPLAIN QUERY PLAN SELECT version FROM resource_current WHERE type='Patient' AND id='x'");
  ASSERT_FALSE(plan.empty());
  EXPECT_NE(plan[0].back().find("SEARCH"), std::string::npos) << plan[0].back();
}

TEST_F(SqliteStoreTest, AFilePathWorksAsWellAsADirectory) {
  SqliteOptions options;
  options.path = dir_ + "/named.db";
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, clock_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/named.db"));
}

TEST_F(SqliteStoreTest, AMissingDirectoryIsUnavailableNotACrash) {
  SqliteOptions options;
  options.path = dir_ + "/no/such/dir/x.db";
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, clock_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), ErrorCode::kUnavailable);
}

TEST_F(SqliteStoreTest, AFileThatIsNotADatabaseIsRefused) {
  {
    std::ofstream garbage(File(), std::ios::binary);
    garbage << std::string(8192, 'x');
  }
  Result<std::unique_ptr<Store>> store = Open();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), ErrorCode::kInternal);
}

TEST_F(SqliteStoreTest, IntegrityCheckReportsADanglingCurrentVersion) {
  Result<std::unique_ptr<Store>> store = Open();
  ASSERT_TRUE(store.ok());
  {
    RawDb db(File());
    // foreign_keys is off on this raw connection: simulate damage the store could not do.
    db.Exec("INSERT INTO resource_current VALUES ('Patient', 'ghost', 4, 0, 0)");
  }
  Status st = (*store)->CheckIntegrity();
  EXPECT_EQ(st.code(), ErrorCode::kInternal);
}

TEST_F(SqliteStoreTest, ABusyDatabaseFailsCommitsAsUnavailable) {
  SqliteOptions options;
  options.path = dir_;
  options.busy_timeout_ms = 50;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, clock_);
  ASSERT_TRUE(store.ok());
  RawDb other(File());
  other.Exec("BEGIN IMMEDIATE");  // another process holding the write lock
  WriteBatch b;
  fhir::Value p = fhir::Value::Object();
  p.Set("resourceType", fhir::Value::String("Patient"));
  p.Set("id", fhir::Value::String("p1"));
  b.ops.push_back(PutResource{std::move(p), std::nullopt});
  Result<CommitResult> c = (*store)->Commit(std::move(b));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kUnavailable) << c.status().ToString();
  other.Exec("ROLLBACK");
  // Reads are not blocked by a writer under WAL.
  EXPECT_EQ((*store)->Read("Patient", "p1").status().code(), ErrorCode::kNotFound);
}

TEST_F(SqliteStoreTest, TheCheckpointerCopiesTheWalIntoTheDatabaseWhileTheStoreIsOpen) {
  // Without checkpoints the WAL grows without bound and every read walks it (the bench found
  // a 2 GB WAL and a database file that stayed at one page until shutdown).
  SqliteOptions options;
  options.path = dir_;
  options.checkpoint_pages = 8;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, clock_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const auto db_size = [&] { return std::filesystem::file_size(File()); };
  const uintmax_t before = db_size();
  for (int i = 0; i < 40; ++i) {
    WriteBatch b;
    fhir::Value p = fhir::Value::Object();
    p.Set("resourceType", fhir::Value::String("Patient"));
    p.Set("id", fhir::Value::String("p" + std::to_string(i)));
    // Over a page each after compression (stored JSON is compressed, json_codec.h):
    // 6000 pseudo-random characters of a 64-letter alphabet are ~4.5 KB of entropy.
    std::string text(6000, ' ');
    uint32_t state = 2463534242u + static_cast<uint32_t>(i);
    for (char& c : text) {
      state ^= state << 13;
      state ^= state >> 17;
      state ^= state << 5;
      c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[state % 64];
    }
    p.Set("text", fhir::Value::String(std::move(text)));
    b.ops.push_back(PutResource{std::move(p), std::nullopt});
    ASSERT_TRUE((*store)->Commit(std::move(b)).ok());
  }
  // The checkpoint runs on its own thread: wait for the file to grow (bounded, not timed).
  for (int i = 0; i < 1000 && db_size() <= before + 40 * 4096; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(db_size(), before + 40 * 4096) << "nothing was checkpointed while the store was open";
}

PutUnit SmallUnit(const std::string& value) {
  PutUnit put;
  put.key = UnitKey{"person-1", "http://jpfhir.jp/fhir/clins/bundle-identifier", value};
  put.institution = "1311234567";
  put.kind = "Condition";
  put.content_hash = "h";
  put.bundle = fhir::Value::Object();
  put.bundle.Set("resourceType", fhir::Value::String("Bundle"));
  put.bundle.Set("type", fhir::Value::String("collection"));
  return put;
}

TEST_F(SqliteStoreTest, UnitBundlesAreNamedByTheInjectedIdGenerator) {
  SequentialIdGenerator ids("bundle");
  SqliteOptions options;
  options.path = dir_;
  options.ids = &ids;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, clock_);
  ASSERT_TRUE(store.ok());
  WriteBatch b;
  b.ops.push_back(SmallUnit("A"));
  b.ops.push_back(SmallUnit("B"));
  Result<CommitResult> c = (*store)->Commit(std::move(b));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->written.at(0).id, "bundle-1");
  EXPECT_EQ(c->written.at(1).id, "bundle-2");
  Result<ResourceVersion> r = (*store)->Read("Bundle", "bundle-1");
  ASSERT_TRUE(r.ok());
  // id sits right after resourceType, as in any client-named resource.
  EXPECT_EQ(r->json.rfind(R"({"resourceType":"Bundle","id":"bundle-1",)", 0), 0u) << r->json;
}

TEST_F(SqliteStoreTest, UnitBundleIdsAreRandomByDefault) {
  Result<std::unique_ptr<Store>> store = Open();
  ASSERT_TRUE(store.ok());
  WriteBatch b;
  b.ops.push_back(SmallUnit("A"));
  Result<CommitResult> c = (*store)->Commit(std::move(b));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string& id = c->written.at(0).id;
  EXPECT_EQ(id.size(), 32u) << id;
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
}

TEST_F(SqliteStoreTest, UnitAndItemLookupsUseTheirIndexes) {
  ASSERT_TRUE(Open().ok());
  RawDb db(File());
  struct {
    const char* lookup;
    const char* sql;
    const char* index;
  } cases[] = {
      // Migration 5 dropped item_summary: a person's items are a primary-key range.
      {"a person's summary",
       "SELECT * FROM item WHERE person_key='p' ORDER BY kind, clinical_date DESC",
       "PRIMARY KEY"},
      {"DELETE /Bundle?identifier=", "SELECT * FROM unit WHERE id_system='s' AND id_value='v'",
       "unit_identifier"},
      {"a Bundle read by its logical id", "SELECT * FROM unit WHERE bundle_id='b'",
       "unit_bundle_id"},
      {"a unit by key",
       "SELECT * FROM unit WHERE person_key='p' AND id_system='s' AND id_value='v'",
       "sqlite_autoindex_unit_1"},
  };
  for (const auto& c : cases) {
    auto plan = db.Query(std::string("EXPLAIN QUERY PLAN ") + c.sql);
    ASSERT_FALSE(plan.empty()) << c.lookup;
    EXPECT_NE(plan[0].back().find(c.index), std::string::npos)
        << c.lookup << ": " << plan[0].back();
  }
}

TEST_F(SqliteStoreTest, AVersionOneDatabaseIsUpgradedWithItsResourcesIntact) {
  {
    RawDb db(File());
    db.Exec(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at INTEGER NOT NULL)");
    db.Exec(sqlite::Migrations()[0].sql);
    db.Exec("INSERT INTO schema_migrations VALUES (1, 'v1', 0)");
    db.Exec(
        "INSERT INTO resource_version VALUES ('Patient', 'old', 1, 0, 0,"
        " '{\"resourceType\":\"Patient\",\"id\":\"old\"}')");
    db.Exec("INSERT INTO resource_current VALUES ('Patient', 'old', 1, 0, 0)");
  }
  Result<std::unique_ptr<Store>> store = Open();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE((*store)->Read("Patient", "old").ok());
  WriteBatch b;
  b.ops.push_back(SmallUnit("A"));
  EXPECT_TRUE((*store)->Commit(std::move(b)).ok());
  RawDb db(File());
  EXPECT_EQ(db.Query("SELECT MAX(version) FROM schema_migrations")[0][0],
            std::to_string(sqlite::LatestSchemaVersion()));
}

// ---- Read audits without a FULL fsync ----------------------------------------------------

// A VFS over the default one that counts fsyncs of WAL files, to see which commits fsync.
// Each file is the default VFS's file followed by the real methods; only xSync is wrapped.
class WalSyncCounter {
 public:
  WalSyncCounter() {
    base_ = sqlite3_vfs_find(nullptr);
    vfs_ = *base_;
    vfs_.zName = "wal-sync-counter";
    vfs_.szOsFile = base_->szOsFile + static_cast<int>(sizeof(Tail));
    vfs_.pAppData = this;
    vfs_.xOpen = &Open;
    self_ = this;
    sqlite3_vfs_register(&vfs_, /*makeDflt=*/1);
  }
  ~WalSyncCounter() {
    sqlite3_vfs_unregister(&vfs_);
    sqlite3_vfs_register(base_, /*makeDflt=*/1);
    self_ = nullptr;
  }
  int wal_syncs() const { return wal_syncs_.load(); }
  // From now on every fsync of a WAL fails as a full or failing disk would make it fail.
  void FailSyncs(bool fail) { fail_.store(fail); }

 private:
  struct Tail {
    const sqlite3_io_methods* real = nullptr;
    bool wal = false;
  };
  static Tail* TailOf(sqlite3_file* f) {
    return reinterpret_cast<Tail*>(reinterpret_cast<char*>(f) + self_->base_->szOsFile);
  }
  static int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags,
                  int* out_flags) {
    int rc = self_->base_->xOpen(self_->base_, name, f, flags, out_flags);
    // Only WAL files are wrapped; every other file keeps its own methods untouched.
    if (f->pMethods == nullptr || (flags & SQLITE_OPEN_WAL) == 0) return rc;
    // WAL files of the default unix VFS share one method table: copy it, wrap xSync.
    std::call_once(self_->methods_once_, [&] {
      self_->real_ = f->pMethods;
      self_->methods_ = *f->pMethods;
      self_->methods_.xSync = &Sync;
    });
    if (f->pMethods != self_->real_) return rc;
    Tail* tail = new (TailOf(f)) Tail;
    tail->real = f->pMethods;
    tail->wal = true;
    f->pMethods = &self_->methods_;
    return rc;
  }
  static int Sync(sqlite3_file* f, int flags) {
    Tail* tail = TailOf(f);
    if (tail->wal) {
      self_->wal_syncs_.fetch_add(1);
      if (self_->fail_.load()) return SQLITE_IOERR_FSYNC;
    }
    return tail->real->xSync(f, flags);
  }

  static inline WalSyncCounter* self_ = nullptr;
  sqlite3_vfs* base_ = nullptr;
  sqlite3_vfs vfs_{};
  const sqlite3_io_methods* real_ = nullptr;
  sqlite3_io_methods methods_{};
  std::once_flag methods_once_;
  std::atomic<int> wal_syncs_{0};
  std::atomic<bool> fail_{false};
};

AuditEvent SummaryAudit(const std::string& reason) {
  AuditEvent e;
  e.actor_kind = "institution";
  e.actor = "1311234567";
  e.purpose = "TREAT";
  e.action = "summary";
  e.person_key = "person-1";
  e.target = "Patient/$summary";
  e.outcome = "permit";
  e.http_status = 200;
  e.rule = "consent";
  e.reason = reason;
  return e;
}

TEST_F(SqliteStoreTest, ReadAuditsCommitWithoutAWalFsyncAndMixedGroupsStillFsync) {
  WalSyncCounter counter;
  SqliteOptions options;
  options.path = dir_;
  // No idle flush during the test: only commits may fsync the WAL.
  options.relaxed_sync_flush_ms = 3'600'000;
  {
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    const int before = counter.wal_syncs();
    WriteBatch audit_only;
    audit_only.ops.push_back(AppendAudit{SummaryAudit("read-1")});
    ASSERT_TRUE((*store)->Commit(std::move(audit_only)).ok());
    EXPECT_EQ(counter.wal_syncs(), before) << "a read-audit-only group fsynced the WAL";

    WriteBatch mixed;
    mixed.ops.push_back(SmallUnit("A"));
    mixed.ops.push_back(AppendAudit{SummaryAudit("submit-1")});
    ASSERT_TRUE((*store)->Commit(std::move(mixed)).ok());
    EXPECT_GT(counter.wal_syncs(), before) << "a group with a unit did not fsync the WAL";

    const int after_mixed = counter.wal_syncs();
    WriteBatch audit_again;
    audit_again.ops.push_back(AppendAudit{SummaryAudit("read-2")});
    ASSERT_TRUE((*store)->Commit(std::move(audit_again)).ok());
    EXPECT_EQ(counter.wal_syncs(), after_mixed);
  }
  // Durable across closing and reopening the store, chain intact.
  Result<std::unique_ptr<Store>> reopened = OpenSqliteStore(options, clock_);
  ASSERT_TRUE(reopened.ok());
  AuditQuery q;
  q.person_key = "person-1";
  Result<std::vector<AuditEvent>> events = (*reopened)->ListAudit(q);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  std::vector<std::string> reasons;
  for (const AuditEvent& e : *events) reasons.push_back(e.reason);
  EXPECT_EQ(reasons, (std::vector<std::string>{"read-1", "submit-1", "read-2"}));
  Result<AuditVerification> chain = (*reopened)->VerifyAudit();
  ASSERT_TRUE(chain.ok());
  EXPECT_TRUE(chain->intact) << chain->problem;
}

// Commits are answered only after the syncer's fsync of the WAL. If that fsync fails, what
// the OS holds of the WAL is unknown: the commits waiting on it fail, and the store takes no
// more writes (like PostgreSQL after a failed fsync) until it is reopened; reads go on.
TEST_F(SqliteStoreTest, AFailedWalFsyncFailsItsCommitsAndStopsWritesUntilReopened) {
  WalSyncCounter counter;
  SqliteOptions options;
  options.path = dir_;
  {
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    WriteBatch first;
    first.ops.push_back(SmallUnit("A"));
    ASSERT_TRUE((*store)->Commit(std::move(first)).ok());

    counter.FailSyncs(true);
    WriteBatch second;
    second.ops.push_back(SmallUnit("B"));
    Result<CommitResult> failed = (*store)->Commit(std::move(second));
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().code(), ErrorCode::kUnavailable);
    EXPECT_NE(failed.status().message().find("fsync"), std::string::npos)
        << failed.status().message();

    counter.FailSyncs(false);
    WriteBatch third;
    third.ops.push_back(SmallUnit("C"));
    Result<CommitResult> refused = (*store)->Commit(std::move(third));
    ASSERT_FALSE(refused.ok()) << "a write was taken after a failed fsync";
    EXPECT_EQ(refused.status().code(), ErrorCode::kUnavailable);
    EXPECT_FALSE((*store)->Ping().ok()) << "/healthz would not tell";
    EXPECT_TRUE((*store)
                    ->ReadUnit(UnitKey{"person-1", "http://jpfhir.jp/fhir/clins/bundle-identifier", "A"})
                    .ok());
  }
  Result<std::unique_ptr<Store>> reopened = OpenSqliteStore(options, clock_);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_TRUE((*reopened)->Ping().ok());
  WriteBatch fourth;
  fourth.ops.push_back(SmallUnit("D"));
  EXPECT_TRUE((*reopened)->Commit(std::move(fourth)).ok());
}

TEST_F(SqliteStoreTest, ReadAuditsFsyncEveryCommitWhenRelaxingIsOff) {
  WalSyncCounter counter;
  SqliteOptions options;
  options.path = dir_;
  options.relaxed_read_audit_sync = false;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, clock_);
  ASSERT_TRUE(store.ok());
  const int before = counter.wal_syncs();
  WriteBatch audit_only;
  audit_only.ops.push_back(AppendAudit{SummaryAudit("read-1")});
  ASSERT_TRUE((*store)->Commit(std::move(audit_only)).ok());
  EXPECT_GT(counter.wal_syncs(), before);
}

// What the writer thread splices into JSON serialised by the caller: the stored Bundle is
// valid JSON with the assigned id after resourceType, versionId / lastUpdated in meta, and
// the submitted meta members kept; a client's stale meta values are replaced.
TEST_F(SqliteStoreTest, UnitBundlesKeepTheirSubmittedMetaBesideTheStampedOne) {
  SequentialIdGenerator ids("bundle");
  SqliteOptions options;
  options.path = dir_;
  options.ids = &ids;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, clock_);
  ASSERT_TRUE(store.ok());
  PutUnit put = SmallUnit("A");
  fhir::Value profiles = fhir::Value::Array();
  profiles.Append(fhir::Value::String("http://jpfhir.jp/fhir/clins/StructureDefinition/x"));
  fhir::Value meta = fhir::Value::Object();
  meta.Set("lastUpdated", fhir::Value::String("2020-01-01T00:00:00Z"));
  meta.Set("profile", std::move(profiles));
  put.bundle.Set("meta", std::move(meta));
  put.bundle.Set("implicitRules", fhir::Value::String("\"versionId\":\"1\""));
  for (int round = 1; round <= 2; ++round) {
    put.content_hash = "h" + std::to_string(round);
    WriteBatch b;
    b.ops.push_back(put);
    ASSERT_TRUE((*store)->Commit(std::move(b)).ok());
    clock_.Advance(std::chrono::seconds(1));
  }
  Result<ResourceVersion> r = (*store)->Read("Bundle", "bundle-1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 2);
  EXPECT_EQ(r->json.rfind(R"({"resourceType":"Bundle","id":"bundle-1",)", 0), 0u) << r->json;
  Result<fhir::Value> parsed = fhir::ParseJson(r->json);
  ASSERT_TRUE(parsed.ok()) << r->json;
  const fhir::Value* stored_meta = parsed->Find("meta");
  ASSERT_NE(stored_meta, nullptr);
  EXPECT_EQ(stored_meta->StringAt("versionId"), "2");
  EXPECT_EQ(stored_meta->StringAt("lastUpdated"), FormatInstant(r->last_updated));
  ASSERT_NE(stored_meta->Find("profile"), nullptr);
  EXPECT_EQ(stored_meta->Find("profile")->items().size(), 1u);
  EXPECT_EQ(parsed->StringAt("implicitRules"), "\"versionId\":\"1\"");
  EXPECT_EQ(stored_meta->members().size(), 3u) << r->json;
}

}  // namespace
}  // namespace clinshub::store
