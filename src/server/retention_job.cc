#include "server/retention_job.h"

namespace clinshub::server {

std::string DescribePurge(const store::PurgeReport& r) {
  return std::to_string(r.items) + " items, " + std::to_string(r.units) + " units, " +
         std::to_string(r.bundle_versions) + " Bundle versions, " +
         std::to_string(r.referral_recipients) + " referral recipients, " +
         std::to_string(r.consents) + " consents, " + std::to_string(r.persons) + " persons";
}

Result<store::PurgeReport> PurgeAndAudit(store::Store& store,
                                         const store::RetentionPolicy& policy, Timestamp now,
                                         bool dry_run, const std::string& origin) {
  Result<store::PurgeReport> report = store.Purge(policy, now, dry_run);
  store::AuditEvent e;
  e.time = now;
  e.actor_kind = "system";
  e.actor = "retention";
  e.purpose = "HOPERAT";
  e.action = "purge";
  e.target = "$purge";
  e.rule = "retention";
  if (report.ok()) {
    e.outcome = "permit";
    e.reason = origin + (dry_run ? " (dry run): would delete " : ": deleted ") +
               DescribePurge(*report);
  } else {
    // The status code only: an error message could quote data.
    e.outcome = "error";
    e.reason = origin + (dry_run ? " (dry run)" : "") + " failed: " +
               std::string(ErrorCodeName(report.status().code()));
  }
  store::WriteBatch batch;
  batch.ops.push_back(store::AppendAudit{std::move(e)});
  Result<store::CommitResult> audited = store.Commit(std::move(batch));
  if (!report.ok()) return report;
  if (!audited.ok()) return audited.take_status();
  return report;
}

RetentionJob::RetentionJob(store::Store& store, const Clock& clock, RetentionConfig config,
                           spdlog::logger& logger)
    : store_(store), clock_(clock), config_(std::move(config)), logger_(logger) {
  if (config_.purge_interval.count() == 0) {
    logger_.info("retention: purge job off (run `clinshub purge`)");
    return;
  }
  logger_.info("retention: purging every {} s (labs {} d, prescriptions {} d, conditions {} d)",
               std::chrono::duration_cast<std::chrono::seconds>(config_.purge_interval).count(),
               config_.policy.labs.count() / 24, config_.policy.prescriptions.count() / 24,
               config_.policy.conditions.count() / 24);
  thread_ = std::thread([this] { Loop(); });
}

RetentionJob::~RetentionJob() { Stop(); }

void RetentionJob::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int RetentionJob::purges() const {
  std::lock_guard lock(mu_);
  return purges_;
}

void RetentionJob::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    // Real time between purges (the interval is operational); the purge itself uses the
    // injected clock's instant, so tests move data past its period by moving the clock.
    if (cv_.wait_for(lock, config_.purge_interval, [&] { return stopping_; })) return;
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    Result<store::PurgeReport> r =
        PurgeAndAudit(store_, config_.policy, clock_.Now(), false, "retention job");
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    if (r.ok()) {
      logger_.info("retention purge: deleted {} in {} ms", DescribePurge(*r), ms);
    } else {
      logger_.error("retention purge failed after {} ms: {}", ms, r.status().ToString());
    }
    lock.lock();
    ++purges_;
  }
}

}  // namespace clinshub::server
