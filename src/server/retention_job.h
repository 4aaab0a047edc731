// Retention in the running server (docs/retention.md): a thread that purges expired data every
// configured interval (Store::Purge with the configured RetentionPolicy, at the injected
// clock's instant) and audits each purge with counts only. `clinshub purge` (purge_command.h)
// runs the same PurgeAndAudit once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include <spdlog/logger.h>

#include "common/clock.h"
#include "common/result.h"
#include "store/store.h"

namespace clinshub::server {

struct RetentionConfig {
  store::RetentionPolicy policy;
  // How often the server purges; zero: never (`clinshub purge` from cron instead).
  std::chrono::milliseconds purge_interval = std::chrono::minutes(60);
};

// "12 items, 3 units, 5 Bundle versions, 1 referral recipients, 2 consents, 4 persons".
std::string DescribePurge(const store::PurgeReport& report);

// Purges at `now` and appends one audit event (actor_kind "system", actor "retention", action
// "purge", target "$purge", reason: `origin` and the counts; no person, no content). A failed
// purge is audited with outcome "error". A dry run deletes nothing and is audited as such.
Result<store::PurgeReport> PurgeAndAudit(store::Store& store,
                                         const store::RetentionPolicy& policy, Timestamp now,
                                         bool dry_run, const std::string& origin);

class RetentionJob {
 public:
  // Starts the thread unless config.purge_interval is zero. The first purge runs one interval
  // after the start. `store`, `clock` and `logger` must outlive the job.
  RetentionJob(store::Store& store, const Clock& clock, RetentionConfig config,
               spdlog::logger& logger);
  ~RetentionJob();  // Stop()
  RetentionJob(const RetentionJob&) = delete;
  RetentionJob& operator=(const RetentionJob&) = delete;

  // Wakes the thread and joins it; a purge in progress finishes its current step sequence
  // first (each step is short). Idempotent.
  void Stop();

  // Purges completed by the thread since start (for tests and logs).
  int purges() const;

 private:
  void Loop();

  store::Store& store_;
  const Clock& clock_;
  const RetentionConfig config_;
  spdlog::logger& logger_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int purges_ = 0;
  std::thread thread_;
};

}  // namespace clinshub::server
