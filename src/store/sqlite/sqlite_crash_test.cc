// kill -9 during commits: everything Commit() acknowledged must be there, complete, after
// reopening, and the file must pass the integrity check.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
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

TEST(SqliteCrashTest, AcknowledgedCommitsSurviveKillNine) {
  const std::string dir = MakeTempDir("crash");
  // How many acknowledgements to wait for before killing, per round: right after open, early,
  // and deep into a run when checkpoints have happened.
  const std::vector<int> kill_after = {1, 3, 17, 60, 250, 900};
  int64_t total_acked = 0;
  for (int round = 0; round < static_cast<int>(kill_after.size()); ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(fds[0]);
      CommitUntilKilled(dir, round, fds[1]);
    }
    close(fds[1]);
    FILE* acks = fdopen(fds[0], "r");
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

}  // namespace
}  // namespace clinshub::store
