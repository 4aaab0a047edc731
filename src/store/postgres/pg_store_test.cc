// The PostgreSQL store against a throwaway PostgreSQL server (tests/support/pg_server.h): the
// backend-neutral contract suite, migrations, and connection loss (server stopped, killed
// mid-ingest, restarted) with no acknowledged commit lost and no partial unit stored.
//
// One server serves the whole binary (CTest runs it as one test); every test gets its own
// schema, named after its temp location. Exit code 77 (CTest: skipped) when PostgreSQL is not
// installed.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "fhir/json.h"
#include "pg_server.h"
#include "store/postgres/pg_conn.h"
#include "store/postgres/pg_schema.h"
#include "store/postgres/pg_store.h"
#include "store/store_test_suite.h"

namespace clinshub::store {
namespace {

using postgres::PgConnection;
using postgres::Rows;
using testing_support = clinshub::testing::PgTestServer;

testing_support* g_server = nullptr;  // owned by main()

// A schema per location, so tests never see each other's rows.
std::string SchemaFor(const std::string& location) {
  return "s_" + std::to_string(std::hash<std::string>{}(location));
}

std::string ConninfoFor(const std::string& schema) {
  return g_server->conninfo("options='-c search_path=" + schema + "'");
}

Result<std::unique_ptr<Store>> OpenInSchema(const std::string& location, const Clock& clock) {
  PostgresOptions options;
  options.conninfo = g_server->conninfo();
  options.schema = SchemaFor(location);  // created by the store
  return OpenPostgresStore(options, clock);
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreContractTest,
                         ::testing::Values(StoreFactory{"Postgres", &OpenInSchema}),
                         [](const auto& info) { return info.param.name; });

#define ASSERT_OK(expr)                                   \
  do {                                                    \
    const auto& _r = (expr);                              \
    ASSERT_TRUE(_r.ok()) << _r.status().ToString();       \
  } while (0)

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { location_ = MakeTempDir("pg"); }
  void TearDown() override {
    // A test that stopped the server must leave it running for the next one.
    Result<std::unique_ptr<PgConnection>> probe = PgConnection::Connect(g_server->conninfo());
    if (!probe.ok()) (void)g_server->Restart();
    std::error_code ec;
    std::filesystem::remove_all(location_, ec);
  }
  Result<std::unique_ptr<Store>> Open() { return OpenInSchema(location_, clock_); }
  Rows Query(const std::string& sql) {
    Result<std::unique_ptr<PgConnection>> c =
        PgConnection::Connect(ConninfoFor(SchemaFor(location_)));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    Result<Rows> r = (*c)->Query(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(*r);
  }

  std::string location_;
  ManualClock clock_{Timestamp(std::chrono::seconds(1'800'000'000))};
};

fhir::Value Patient(const std::string& id) {
  fhir::Value p = fhir::Value::Object();
  p.Set("resourceType", fhir::Value::String("Patient"));
  p.Set("id", fhir::Value::String(id));
  return p;
}

WriteBatch PutPatient(const std::string& id) {
  WriteBatch b;
  b.ops.push_back(PutResource{Patient(id), std::nullopt});
  return b;
}

TEST_F(PostgresStoreTest, OpeningRecordsEveryMigrationWithItsTime) {
  ASSERT_OK(Open());
  Rows rows = Query("SELECT version, applied_at FROM schema_migrations ORDER BY version");
  ASSERT_EQ(rows.size(), static_cast<int>(postgres::Migrations().size()));
  EXPECT_EQ(rows.Int64(rows.size() - 1, 0), postgres::LatestSchemaVersion());
  EXPECT_EQ(rows.Int64(rows.size() - 1, 1), clock_.Now().time_since_epoch().count());
}

TEST_F(PostgresStoreTest, ReopeningAppliesNoMigrationTwice) {
  ASSERT_OK(Open());
  clock_.Advance(std::chrono::seconds(5));
  ASSERT_OK(Open());
  Rows rows = Query("SELECT COUNT(*), MAX(applied_at) FROM schema_migrations");
  EXPECT_EQ(rows.Int64(0, 0), static_cast<int64_t>(postgres::Migrations().size()));
  EXPECT_LT(rows.Int64(0, 1), clock_.Now().time_since_epoch().count());
}

TEST_F(PostgresStoreTest, ASchemaNewerThanThisBuildIsRefused) {
  ASSERT_OK(Open());
  Query("INSERT INTO schema_migrations VALUES (999, 'from the future', 0)");
  Result<std::unique_ptr<Store>> again = Open();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kInternal);
  EXPECT_NE(again.status().message().find("newer"), std::string::npos);
}

TEST_F(PostgresStoreTest, EveryPersonTableLeadsWithThePersonKey) {
  ASSERT_OK(Open());
  Rows rows = Query(
      "SELECT c.relname, a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
      " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]"
      " WHERE i.indisprimary"
      " AND c.relname IN ('unit', 'item', 'consent', 'referral_consent', 'audit', 'notification')"
      " AND c.relnamespace = current_schema()::regnamespace");
  ASSERT_EQ(rows.size(), 6);
  for (int i = 0; i < rows.size(); ++i) EXPECT_EQ(rows.Text(i, 1), "person_key") << rows.Text(i, 0);
}

TEST_F(PostgresStoreTest, AnUnreachableServerIsUnavailable) {
  PostgresOptions options;
  options.conninfo = "host=/nonexistent-clinshub-socket-dir port=5432 user=x dbname=x";
  Result<std::unique_ptr<Store>> store = OpenPostgresStore(options, clock_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), ErrorCode::kUnavailable) << store.status().ToString();
}

TEST_F(PostgresStoreTest, WhileTheServerIsAwayCallsAreUnavailableThenTheStoreRecoversByItself) {
  Result<std::unique_ptr<Store>> opened = Open();
  ASSERT_OK(opened);
  Store& store = **opened;
  ASSERT_OK(store.Commit(PutPatient("before")));
  ASSERT_TRUE(g_server->Stop(false).ok());
  EXPECT_EQ(store.Read("Patient", "before").status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(store.Commit(PutPatient("during")).status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(store.Ping().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(store.ListItems("p").status().code(), ErrorCode::kUnavailable);
  ASSERT_TRUE(g_server->Restart().ok());
  // Same store object, no reopen: the pool reconnects on the next calls.
  EXPECT_TRUE(store.Ping().ok());
  ASSERT_OK(store.Read("Patient", "before"));
  EXPECT_EQ(store.Read("Patient", "during").status().code(), ErrorCode::kNotFound);
  ASSERT_OK(store.Commit(PutPatient("after")));
  ASSERT_OK(store.Read("Patient", "after"));
  EXPECT_TRUE(store.CheckIntegrity().ok());
}

// ---- Unique violations fail their own batch only -----------------------------------------

// Polls `done` (every 10 ms, up to 30 s): for states only the server can report.
bool WaitUntil(const std::function<bool()>& done) {
  for (int i = 0; i < 3000 && !done(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

AuditEvent Event(const std::string& action) {
  AuditEvent e;
  e.actor_kind = "institution";
  e.actor = "1311234567";
  e.action = action;
  e.outcome = "permit";
  return e;
}

// Another hub process inserting the same notification, export job or consent id while our
// batch is in flight is caught only by the unique index: the server's unique violation must
// reach the caller as kConflict (not kInternal), roll back only that batch (its audit event
// too), and leave the other batches of the same group transaction committed.
TEST_F(PostgresStoreTest, AUniqueViolationByAnotherWriterFailsOnlyItsOwnBatchWithConflict) {
  Result<std::unique_ptr<Store>> opened = Open();
  ASSERT_OK(opened);
  Store& store = **opened;
  ASSERT_OK(store.Commit(PutPatient("blocker")));
  ConsentRecord consent{"c1", "p1", "1311234567", "card-reader", clock_.Now(),
                        clock_.Now() + std::chrono::hours(24), {}};
  {
    WriteBatch b;
    b.ops.push_back(PutConsent{consent});
    ASSERT_OK(store.Commit(std::move(b)));
  }
  auto connect = [&] {
    Result<std::unique_ptr<PgConnection>> c =
        PgConnection::Connect(ConninfoFor(SchemaFor(location_)));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(*c);
  };
  std::unique_ptr<PgConnection> monitor = connect();
  auto lock_waiters = [&] {
    Result<Rows> r = monitor->Query(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND datname = current_database()");
    return r.ok() ? r->Int64(0, 0) : -1;
  };
  // "The other process": holds the blocker's row, so our writer stalls on its next group, and
  // has inserted (not yet committed) the ids our queued batches are about to insert.
  std::unique_ptr<PgConnection> holder = connect();
  ASSERT_TRUE(holder->Exec("BEGIN").ok());
  ASSERT_OK(holder->Query(
      "SELECT 1 FROM resource_current WHERE type = 'Patient' AND id = 'blocker' FOR UPDATE"));
  std::unique_ptr<PgConnection> other = connect();
  ASSERT_TRUE(other->Exec("BEGIN").ok());
  ASSERT_OK(other->Query(
      "INSERT INTO notification VALUES ('p2', 'n1', '1311234567', 'x', 'measles', 'h', '{}', 0)"));
  ASSERT_OK(other->Query(
      "INSERT INTO export_job VALUES ('job-1', 'alice', '', 1, '{}', 0, '', '', 0, 0, NULL)"));

  std::thread stalled([&] { EXPECT_TRUE(store.Commit(PutPatient("blocker")).ok()); });
  ASSERT_TRUE(WaitUntil([&] { return lock_waiters() == 1; })) << "the writer did not stall";

  // Queued while the writer is stalled, so they form its next group.
  NotificationRecord n;
  n.person_key = "p1";
  n.id = "n1";
  n.institution = "1311234567";
  n.identifier = "1311234567^2026^n1";
  n.disease_code = "measles";
  n.content_hash = "hash-n1";
  n.bundle_json = R"({"resourceType":"Bundle"})";
  ExportJob job;
  job.id = "job-1";
  job.requester = "bob";
  job.request_json = "{}";
  std::vector<WriteBatch> batches(4);
  batches[0].ops = {PutNotification{n}, AppendAudit{Event("notify")}};
  batches[1].ops = {PutResource{Patient("bystander"), std::nullopt}, AppendAudit{Event("ok")}};
  batches[2].ops = {PutExportJob{job, std::nullopt}, AppendAudit{Event("export")}};
  batches[3].ops = {PutConsent{consent}, AppendAudit{Event("consent")}};
  std::vector<Status> outcomes(batches.size());
  std::atomic<int> entering{0};
  std::vector<std::thread> callers;
  for (size_t i = 0; i < batches.size(); ++i) {
    callers.emplace_back([&, i] {
      entering.fetch_add(1);
      Result<CommitResult> c = store.Commit(std::move(batches[i]));
      outcomes[i] = c.ok() ? Status::Ok() : c.status();
    });
  }
  ASSERT_TRUE(WaitUntil([&] { return entering.load() == static_cast<int>(batches.size()); }));
  // Commit() enqueues before it blocks; give the callers that moment (grouping is not asserted:
  // the outcomes below hold however the batches group).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const uint64_t transactions_before = store.Stats().transactions;
  ASSERT_TRUE(holder->Exec("COMMIT").ok());
  stalled.join();
  // Our insert of n1 (or job-1) now waits for the other process's uncommitted row.
  ASSERT_TRUE(WaitUntil([&] { return lock_waiters() == 1; }));
  ASSERT_TRUE(other->Exec("COMMIT").ok());
  for (std::thread& t : callers) t.join();

  EXPECT_EQ(outcomes[0].code(), ErrorCode::kConflict) << outcomes[0].ToString();
  EXPECT_TRUE(outcomes[1].ok()) << outcomes[1].ToString();
  EXPECT_EQ(outcomes[2].code(), ErrorCode::kConflict) << outcomes[2].ToString();
  EXPECT_EQ(outcomes[3].code(), ErrorCode::kConflict) << outcomes[3].ToString();
  ASSERT_OK(store.Read("Patient", "bystander"));
  EXPECT_EQ(store.ReadNotification("n1")->person_key, "p2") << "the other process's row stays";
  EXPECT_EQ(store.ReadDelivery("n1").status().code(), ErrorCode::kNotFound)
      << "our outbox row went with our batch";
  EXPECT_EQ(store.ReadExportJob("job-1")->requester, "alice");
  Result<std::vector<AuditEvent>> audit = store.ListAudit(AuditQuery{});
  ASSERT_OK(audit);
  ASSERT_EQ(audit->size(), 1u) << "only the committed batch's event";
  EXPECT_EQ((*audit)[0].action, "ok");
  Result<AuditVerification> chain = store.VerifyAudit();
  ASSERT_OK(chain);
  EXPECT_TRUE(chain->intact) << chain->problem;
  std::printf("unique-violation test: the %zu batches took %llu transaction(s)\n",
              batches.size(),
              static_cast<unsigned long long>(store.Stats().transactions - transactions_before - 1));
}

// ---- Crash mid-ingest ---------------------------------------------------------------------

constexpr const char* kSystem = "http://jpfhir.jp/fhir/clins/bundle-identifier";
constexpr const char* kSender = "1311234567";

// Unit `value` of `person` with content `tag` and `n` items coded "<tag>-0" … .
PutUnit Unit(const std::string& person, const std::string& value, const std::string& tag,
             int n) {
  PutUnit u;
  u.key = UnitKey{person, kSystem, value};
  u.institution = kSender;
  u.kind = "Condition";
  u.content_hash = "hash-" + tag;
  u.bundle = fhir::Value::Object();
  u.bundle.Set("resourceType", fhir::Value::String("Bundle"));
  u.bundle.Set("type", fhir::Value::String("collection"));
  u.bundle.Set("implicitRules", fhir::Value::String("urn:test:" + tag + ":" + std::to_string(n)));
  for (int i = 0; i < n; ++i) {
    Item item;
    item.kind = ItemKind::kCondition;
    item.resource_type = "Condition";
    item.code_system = "urn:oid:1.2.392.200119.4.101.6";
    item.code = tag + "-" + std::to_string(i);
    item.text = "傷病";
    item.json = "{\"resourceType\":\"Condition\"}";
    u.items.push_back(std::move(item));
  }
  return u;
}

// Every stored unit holds exactly the items of its current Bundle version: never a mix, never
// a Bundle without its items.
void ExpectUnitComplete(Store& store, const UnitRecord& unit) {
  Result<ResourceVersion> bundle = store.Read("Bundle", unit.bundle_id);
  ASSERT_OK(bundle);
  ASSERT_EQ(bundle->version, unit.version);
  Result<fhir::Value> parsed = fhir::ParseJson(bundle->json);
  ASSERT_OK(parsed);
  const std::string rules(parsed->StringAt("implicitRules"));  // urn:test:<tag>:<n>
  const size_t colon = rules.rfind(':');
  const std::string tag = rules.substr(9, colon - 9);
  const int n = std::stoi(rules.substr(colon + 1));
  EXPECT_EQ(unit.content_hash, "hash-" + tag);
  Result<std::vector<StoredItem>> items = store.ListItems(unit.key.person_key);
  ASSERT_OK(items);
  std::vector<std::string> codes, expected;
  for (const StoredItem& it : *items) {
    if (it.bundle_id == unit.bundle_id) codes.push_back(it.item.code);
  }
  for (int i = 0; i < n; ++i) expected.push_back(tag + "-" + std::to_string(i));
  std::sort(codes.begin(), codes.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(codes, expected) << unit.key.value;
}

TEST_F(PostgresStoreTest, KillingTheServerMidIngestLosesNoAcknowledgedUnitAndStoresNoPartial) {
  Result<std::unique_ptr<Store>> opened = Open();
  ASSERT_OK(opened);
  Store& store = **opened;
  constexpr int kThreads = 4;
  std::atomic<bool> stop{false};
  std::atomic<bool> restarted{false};
  std::atomic<int> acked_total{0};
  std::mutex mu;
  std::map<std::string, std::string> acked;  // unit value → tag acknowledged last
  std::vector<int> acked_after_restart(kThreads, 0);
  std::map<std::string, int> failure_codes;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      const std::string person = "person-" + std::to_string(t);
      for (int i = 0; !stop.load(); ++i) {
        const std::string fresh = "u" + std::to_string(t) + "-" + std::to_string(i);
        const std::string tag = "t" + std::to_string(t) + "-" + std::to_string(i);
        WriteBatch b;
        b.ops.push_back(Unit(person, fresh, tag, 1 + i % 7));
        // A unit replaced over and over: after the crash it must hold one whole version.
        b.ops.push_back(Unit(person, "shared-" + std::to_string(t), tag, 1 + (i * 3) % 11));
        const bool after = restarted.load();
        Result<CommitResult> c = store.Commit(std::move(b));
        std::lock_guard lock(mu);
        if (c.ok()) {
          acked[fresh] = tag;
          acked["shared-" + std::to_string(t)] = tag;
          ++acked_total;
          if (after) ++acked_after_restart[t];
        } else {
          ++failure_codes[std::string(ErrorCodeName(c.status().code()))];
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }
    });
  }
  auto wait_for = [&](const std::function<bool()>& done) {
    for (int i = 0; i < 3000 && !done(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
  };
  EXPECT_TRUE(wait_for([&] { return acked_total.load() >= 60; }));
  ASSERT_TRUE(g_server->Stop(true).ok());  // mid-ingest: no checkpoint, crash recovery
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(g_server->Restart().ok());
  restarted = true;
  const bool recovered = wait_for([&] {
    std::lock_guard lock(mu);
    return std::all_of(acked_after_restart.begin(), acked_after_restart.end(),
                       [](int n) { return n >= 3; });
  });
  stop = true;
  for (std::thread& w : writers) w.join();
  EXPECT_TRUE(recovered) << "writers did not get commits through after the restart";
  EXPECT_GT(failure_codes["unavailable"], 0) << "the stop did not hit any commit";
  for (const auto& [code, n] : failure_codes) {
    EXPECT_EQ(code, "unavailable") << n << " commits failed with " << code;
  }

  // Everything acknowledged is there, complete; whatever else is there is complete too.
  int checked = 0;
  for (const auto& [value, tag] : acked) {
    Result<std::vector<UnitRecord>> found = store.FindUnits(kSystem, value);
    ASSERT_OK(found);
    ASSERT_EQ(found->size(), 1u) << "acknowledged unit " << value << " lost";
    const UnitRecord& unit = (*found)[0];
    if (value.rfind("shared-", 0) != 0) {
      EXPECT_EQ(unit.content_hash, "hash-" + tag) << value;
    }
    ExpectUnitComplete(store, unit);
    ++checked;
  }
  Rows all = Query("SELECT person_key, id_value FROM unit");
  for (int i = 0; i < all.size(); ++i) {
    Result<UnitRecord> unit = store.ReadUnit(UnitKey{all.Text(i, 0), kSystem, all.Text(i, 1)});
    ASSERT_OK(unit);
    ExpectUnitComplete(store, *unit);
  }
  EXPECT_GE(checked, 60);
  Status integrity = store.CheckIntegrity();
  EXPECT_TRUE(integrity.ok()) << integrity.ToString();
  std::printf("crash test: %d acknowledged units checked, %d stored, failures:", checked,
              all.size());
  for (const auto& [code, n] : failure_codes) std::printf(" %s=%d", code.c_str(), n);
  std::printf("\n");
}

}  // namespace
}  // namespace clinshub::store

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  clinshub::Result<std::unique_ptr<clinshub::testing::PgTestServer>> server =
      clinshub::testing::PgTestServer::Start();
  if (!server.ok()) {
    if (clinshub::testing::PgTestServer::BinDir().empty()) {
      std::printf("SKIPPED: %s\n", server.status().message().c_str());
      return 77;  // CTest SKIP_RETURN_CODE
    }
    std::fprintf(stderr, "cannot start the throwaway PostgreSQL server: %s\n",
                 server.status().ToString().c_str());
    return 1;
  }
  clinshub::store::g_server = server->get();
  const int rc = RUN_ALL_TESTS();
  clinshub::store::g_server = nullptr;
  server->reset();  // stop and delete before exit
  return rc;
}
