// kill -9 during commits: everything Commit() acknowledged must be there, complete, after
// reopening, and the file must pass the integrity check. Replaced reporting units must hold
// exactly one complete version (Bundle, unit row and items agree), never a mix or nothing.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "fhir/json.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_test_suite.h"

namespace clinshub::store {
namespace {

constexpr int kResourcesPerBatch = 5;

fhir::Value Observation(const std::string& id, int value) {
  fhir::Value quantity = fhir::Value::Object();
  quantity.Set("value", fhir::Value::Number(std::to_string(value)));
  quantity.Set("unit", fhir::Value::String("mg/dL"));
  fhir::Value o = fhir::Value::Object();
  o.Set("resourceType", fhir::Value::String("Observation"));
  o.Set("id", fhir::Value::String(id));
  o.Set("status", fhir::Value::String("final"));
  o.Set("valueQuantity", std::move(quantity));
  return o;
}

std::string BatchId(int round, int i, int k) {
  return "r" + std::to_string(round) + "-" + std::to_string(i) + "-" + std::to_string(k);
}

// The child: commit forever, acknowledging each committed batch number on `ack_fd` only
// after Commit() returned OK. Never returns.
[[noreturn]] void CommitUntilKilled(const std::string& dir, int round, int ack_fd) {
  ManualClock clock(Timestamp(std::chrono::seconds(1'800'000'000)));
  SqliteOptions options;
  options.path = dir;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, clock);
  if (!store.ok()) _exit(2);
  for (int i = 0;; ++i) {
    WriteBatch b;
    for (int k = 0; k < kResourcesPerBatch; ++k) {
      b.ops.push_back(PutResource{Observation(BatchId(round, i, k), i), 0});
    }
    b.ops.push_back(PutResource{Observation("tally", i), std::nullopt});
    if (!(*store)->Commit(std::move(b)).ok()) _exit(3);
    clock.Advance(std::chrono::milliseconds(1));
    const std::string line = std::to_string(i) + "\n";
    if (write(ack_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
  }
}

// A forked child that writes one line per acknowledged commit to a pipe, which the parent
// reads as `acks`. `body` never returns (the child runs until killed).
struct AckingChild {
  pid_t pid = -1;
  FILE* acks = nullptr;
};
AckingChild StartAckingChild(const std::function<void(int ack_fd)>& body) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t child = fork();
  if (child < 0) return {};
  if (child == 0) {
    close(fds[0]);
    body(fds[1]);
  }
  close(fds[1]);
  return {child, fdopen(fds[0], "r")};
}

TEST(SqliteCrashTest, AcknowledgedCommitsSurviveKillNine) {
  const std::string dir = MakeTempDir("crash");
  // How many acknowledgements to wait for before killing, per round: right after open, early,
  // and deep into a run when checkpoints have happened.
  const std::vector<int> kill_after = {1, 3, 17, 60, 250, 900};
  int64_t total_acked = 0;
  for (int round = 0; round < static_cast<int>(kill_after.size()); ++round) {
    AckingChild started = StartAckingChild([&](int ack_fd) { CommitUntilKilled(dir, round, ack_fd); });
    const pid_t child = started.pid;
    FILE* acks = started.acks;
    ASSERT_GT(child, 0);
    ASSERT_NE(acks, nullptr);
    std::vector<int> acked;
    int batch = 0;
    while (static_cast<int>(acked.size()) < kill_after[round] &&
           fscanf(acks, "%d", &batch) == 1) {
      acked.push_back(batch);
    }
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited by itself with " << WEXITSTATUS(status)
                                     << " after " << acked.size() << " acks";
    // Acknowledgements written before the kill count too.
    while (fscanf(acks, "%d", &batch) == 1) acked.push_back(batch);
    fclose(acks);
    ASSERT_GE(static_cast<int>(acked.size()), kill_after[round]);
    total_acked += static_cast<int64_t>(acked.size());

    ManualClock clock(Timestamp(std::chrono::seconds(1'900'000'000)));
    SqliteOptions options;
    options.path = dir;
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, clock);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Status integrity = (*store)->CheckIntegrity();
    ASSERT_TRUE(integrity.ok()) << integrity.ToString();
    for (int i : acked) {
      for (int k = 0; k < kResourcesPerBatch; ++k) {
        Result<ResourceVersion> r = (*store)->Read("Observation", BatchId(round, i, k));
        ASSERT_TRUE(r.ok()) << "round " << round << " lost acknowledged batch " << i << ": "
                            << r.status().ToString();
        Result<fhir::Value> parsed = fhir::ParseJson(r->json);
        ASSERT_TRUE(parsed.ok()) << r->json;
        EXPECT_EQ(parsed->Find("valueQuantity")->Find("value")->text(), std::to_string(i));
      }
    }
    Result<ResourceVersion> tally = (*store)->Read("Observation", "tally");
    ASSERT_TRUE(tally.ok());
    EXPECT_GE(tally->version, total_acked);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// ---- Replacing reporting units under kill -9 --------------------------------------------

constexpr int kUnits = 4;
constexpr const char* kUnitSystem = "http://jpfhir.jp/fhir/clins/bundle-identifier";
constexpr const char* kSender = "1311234567";

UnitKey CrashUnitKey(int unit) {
  return UnitKey{"person-" + std::to_string(unit), kUnitSystem,
                 "1311234567^2026^unit-" + std::to_string(unit)};
}

// Send `send` of `round` names its version: tag "<round>:<send>", between 1 and 5 items coded
// "<tag>/<k>", so a mix of two versions or a partial one shows in the item codes and count.
std::string Tag(int round, int send) { return std::to_string(round) + ":" + std::to_string(send); }
int ItemCount(int send) { return send % 5 + 1; }

PutUnit Replacement(int round, int send) {
  const std::string tag = Tag(round, send);
  PutUnit put;
  put.key = CrashUnitKey(send % kUnits);
  put.institution = kSender;
  put.kind = "Condition";
  put.content_hash = "hash-" + tag;
  put.bundle = fhir::Value::Object();
  put.bundle.Set("resourceType", fhir::Value::String("Bundle"));
  put.bundle.Set("type", fhir::Value::String("collection"));
  put.bundle.Set("implicitRules", fhir::Value::String("urn:test:" + tag));
  for (int k = 0; k < ItemCount(send); ++k) {
    Item item;
    item.resource_type = "Condition";
    item.code = tag + "/" + std::to_string(k);
    item.json = "{\"resourceType\":\"Condition\"}";
    put.items.push_back(std::move(item));
  }
  return put;
}

// The child: replace the units round-robin forever, acknowledging each send number after
// Commit() returned OK. Never returns.
[[noreturn]] void ReplaceUntilKilled(const std::string& dir, int round, int ack_fd) {
  ManualClock clock(Timestamp(std::chrono::seconds(1'800'000'000)));
  SqliteOptions options;
  options.path = dir;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, clock);
  if (!store.ok()) _exit(2);
  for (int send = 0;; ++send) {
    WriteBatch b;
    b.ops.push_back(Replacement(round, send));
    if (!(*store)->Commit(std::move(b)).ok()) _exit(3);
    clock.Advance(std::chrono::milliseconds(1));
    const std::string line = std::to_string(send) + "\n";
    if (write(ack_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
  }
}

TEST(SqliteCrashTest, ReplacedUnitsHoldExactlyOneCompleteVersionAfterKillNine) {
  const std::string dir = MakeTempDir("crash-units");
  const std::vector<int> kill_after = {1, 5, 40, 300};
  // Per unit, the newest acknowledged (round, send): the stored version may be newer (sent
  // but not yet acknowledged when killed), never older.
  std::map<int, std::pair<int, int>> newest_acked;
  for (int round = 0; round < static_cast<int>(kill_after.size()); ++round) {
    AckingChild started = StartAckingChild([&](int ack_fd) { ReplaceUntilKilled(dir, round, ack_fd); });
    const pid_t child = started.pid;
    FILE* acks = started.acks;
    ASSERT_GT(child, 0);
    ASSERT_NE(acks, nullptr);
    int acked = 0;
    int send = 0;
    while (acked < kill_after[round] && fscanf(acks, "%d", &send) == 1) {
      ++acked;
      newest_acked[send % kUnits] = {round, send};
    }
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited by itself with " << WEXITSTATUS(status);
    while (fscanf(acks, "%d", &send) == 1) newest_acked[send % kUnits] = {round, send};
    fclose(acks);

    ManualClock clock(Timestamp(std::chrono::seconds(1'900'000'000)));
    SqliteOptions options;
    options.path = dir;
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, clock);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Status integrity = (*store)->CheckIntegrity();
    ASSERT_TRUE(integrity.ok()) << integrity.ToString();
    for (const auto& [unit, acked_at] : newest_acked) {
      Result<UnitRecord> record = (*store)->ReadUnit(CrashUnitKey(unit));
      ASSERT_TRUE(record.ok()) << "round " << round << " lost unit " << unit << ": "
                               << record.status().ToString();
      EXPECT_EQ(record->status, UnitStatus::kRegistered);
      Result<ResourceVersion> bundle = (*store)->Read("Bundle", record->bundle_id);
      ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
      EXPECT_EQ(bundle->version, record->version);
      Result<fhir::Value> parsed = fhir::ParseJson(bundle->json);
      ASSERT_TRUE(parsed.ok());
      const std::string tag =
          std::string(parsed->StringAt("implicitRules")).substr(std::string("urn:test:").size());
      const int stored_round = std::stoi(tag.substr(0, tag.find(':')));
      const int stored_send = std::stoi(tag.substr(tag.find(':') + 1));
      EXPECT_GE(std::make_pair(stored_round, stored_send), acked_at)
          << "unit " << unit << " lost an acknowledged replace";
      EXPECT_EQ(record->content_hash, "hash-" + tag) << "unit row and Bundle disagree";

      Result<std::vector<StoredItem>> items = (*store)->ListItems(CrashUnitKey(unit).person_key);
      ASSERT_TRUE(items.ok()) << items.status().ToString();
      std::vector<std::string> codes;
      for (const StoredItem& i : *items) {
        EXPECT_EQ(i.bundle_version, record->version);
        codes.push_back(i.item.code);
      }
      std::vector<std::string> expected;
      for (int k = 0; k < ItemCount(stored_send); ++k) {
        expected.push_back(tag + "/" + std::to_string(k));
      }
      std::sort(codes.begin(), codes.end());
      std::sort(expected.begin(), expected.end());
      EXPECT_EQ(codes, expected) << "unit " << unit << " holds a partial or mixed version";
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// ---- Read audits committed at synchronous=NORMAL under kill -9 ---------------------------

AuditEvent ReadAudit(int round, int i) {
  AuditEvent e;
  e.actor_kind = "institution";
  e.actor = kSender;
  e.purpose = "TREAT";
  e.action = "summary";
  e.person_key = "person-" + std::to_string(round);
  e.target = "Patient/$summary";
  e.outcome = "permit";
  e.http_status = 200;
  e.rule = "consent";
  e.reason = std::to_string(i);
  return e;
}

// The child: commit read audits (batches of nothing but AppendAudit, which the store commits
// without a FULL fsync) forever, acknowledging each after Commit() returned OK.
[[noreturn]] void AuditUntilKilled(const std::string& dir, int round, int ack_fd) {
  ManualClock clock(Timestamp(std::chrono::seconds(1'800'000'000)));
  SqliteOptions options;
  options.path = dir;
  options.relaxed_read_audit_sync = true;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, clock);
  if (!store.ok()) _exit(2);
  for (int i = 0;; ++i) {
    WriteBatch b;
    b.ops.push_back(AppendAudit{ReadAudit(round, i)});
    if (!(*store)->Commit(std::move(b)).ok()) _exit(3);
    clock.Advance(std::chrono::milliseconds(1));
    const std::string line = std::to_string(i) + "\n";
    if (write(ack_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
  }
}

// kill -9 is a process crash, not a power loss: the NORMAL commits' WAL frames are in the OS,
// so every acknowledged read audit is there after reopening, and the chain still verifies.
TEST(SqliteCrashTest, AcknowledgedReadAuditsSurviveKillNineWithoutAFullFsync) {
  const std::string dir = MakeTempDir("crash-audit");
  const std::vector<int> kill_after = {1, 20, 400};
  for (int round = 0; round < static_cast<int>(kill_after.size()); ++round) {
    AckingChild started =
        StartAckingChild([&](int ack_fd) { AuditUntilKilled(dir, round, ack_fd); });
    ASSERT_GT(started.pid, 0);
    ASSERT_NE(started.acks, nullptr);
    std::vector<int> acked;
    int i = 0;
    while (static_cast<int>(acked.size()) < kill_after[round] &&
           fscanf(started.acks, "%d", &i) == 1) {
      acked.push_back(i);
    }
    ASSERT_EQ(kill(started.pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(started.pid, &status, 0), started.pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited by itself with " << WEXITSTATUS(status);
    while (fscanf(started.acks, "%d", &i) == 1) acked.push_back(i);
    fclose(started.acks);
    ASSERT_GE(static_cast<int>(acked.size()), kill_after[round]);

    ManualClock clock(Timestamp(std::chrono::seconds(1'900'000'000)));
    SqliteOptions options;
    options.path = dir;
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, clock);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->CheckIntegrity().ok());
    AuditQuery q;
    q.person_key = "person-" + std::to_string(round);
    q.limit = 1'000'000;
    Result<std::vector<AuditEvent>> events = (*store)->ListAudit(q);
    ASSERT_TRUE(events.ok()) << events.status().ToString();
    std::set<std::string> stored;
    for (const AuditEvent& e : *events) stored.insert(e.reason);
    for (int a : acked) {
      EXPECT_TRUE(stored.count(std::to_string(a)) == 1)
          << "round " << round << " lost acknowledged read audit " << a;
    }
    Result<AuditVerification> chain = (*store)->VerifyAudit();
    ASSERT_TRUE(chain.ok());
    EXPECT_TRUE(chain->intact) << chain->problem;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace clinshub::store
