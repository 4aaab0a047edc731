#include "publichealth/outbox_worker.h"

#include <algorithm>

namespace clinshub::publichealth {
namespace {

bool Retryable(int status) { return status == 408 || status == 429 || status >= 500; }

}  // namespace

std::chrono::milliseconds BackoffDelay(const OutboxOptions& o, int attempts) {
  const int doublings = std::clamp(attempts - 1, 0, 30);
  const int64_t base = o.base_backoff.count();
  const int64_t cap = o.max_backoff.count();
  int64_t delay = base;
  for (int i = 0; i < doublings && delay < cap; ++i) delay *= 2;
  return std::chrono::milliseconds(std::min(delay, cap));
}

OutboxWorker::OutboxWorker(store::Store& store, const Clock& clock,
                           std::unique_ptr<HttpPoster> poster, OutboxOptions options,
                           spdlog::logger& logger)
    : store_(store),
      clock_(clock),
      poster_(std::move(poster)),
      options_(std::move(options)),
      logger_(logger),
      rng_(options_.jitter_seed != 0 ? options_.jitter_seed : std::random_device{}()) {}

OutboxWorker::~OutboxWorker() { Stop(); }

void OutboxWorker::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void OutboxWorker::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutboxWorker::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void OutboxWorker::Loop() {
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    Result<int> attempted = RunOnce();
    if (!attempted.ok()) logger_.warn("outbox: {}", attempted.status().ToString());
    std::unique_lock lock(mu_);
    if (attempted.ok() && *attempted > 0 && !stop_) continue;  // more may be due
    cv_.wait_for(lock, options_.poll_interval, [this] { return stop_ || woken_; });
    woken_ = false;
  }
}

Result<int> OutboxWorker::RunOnce() {
  Result<std::vector<store::DeliveryRecord>> due =
      store_.ListDueDeliveries(clock_.Now(), options_.batch);
  if (!due.ok()) return due.take_status();
  int attempted = 0;
  for (const store::DeliveryRecord& d : *due) {
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
    }
    Status st = DeliverOne(d);
    if (st.ok()) {
      ++attempted;
    } else if (st.code() != ErrorCode::kPreconditionFailed) {
      return st;
    }
  }
  return attempted;
}

Status OutboxWorker::DeliverOne(const store::DeliveryRecord& d) {
  Result<store::NotificationRecord> n = store_.ReadNotification(d.notification_id);
  if (!n.ok()) return n.take_status();
  const int attempt = d.attempts + 1;

  // Claim: the attempt counter moves first, so a crash mid-POST still counts the attempt and
  // the row is due again only after the lease.
  store::WriteBatch claim;
  claim.ops.push_back(store::UpdateDelivery{d.notification_id, d.attempts,
                                            store::DeliveryState::kQueued, attempt,
                                            clock_.Now() + options_.lease, d.last_error});
  Result<store::CommitResult> claimed = store_.Commit(std::move(claim));
  if (!claimed.ok()) return claimed.take_status();

  Result<PostResult> posted = poster_->Post(
      options_.endpoint_url, "application/fhir+json",
      {{"Idempotency-Key", d.notification_id}, {"X-Delivery-Attempt", std::to_string(attempt)}},
      n->bundle_json);

  store::UpdateDelivery outcome{d.notification_id, attempt, store::DeliveryState::kQueued,
                                attempt, clock_.Now(), ""};
  bool retry = false;
  if (!posted.ok()) {
    outcome.last_error = posted.status().message();
    retry = true;
  } else if ((posted->status >= 200 && posted->status < 300) || posted->status == 409) {
    outcome.state = store::DeliveryState::kDelivered;
    outcome.delivered = clock_.Now();
  } else {
    outcome.last_error = "HTTP " + std::to_string(posted->status);
    retry = Retryable(posted->status);
    if (!retry) outcome.state = store::DeliveryState::kFailed;
  }
  if (retry) {
    if (attempt >= options_.max_attempts) {
      outcome.state = store::DeliveryState::kFailed;
    } else {
      const int64_t delay = BackoffDelay(options_, attempt).count();
      // "Equal jitter": half the delay fixed, half random, so retries of many notifications
      // after an outage spread out instead of arriving together.
      std::uniform_int_distribution<int64_t> half(0, delay / 2);
      outcome.next_attempt = clock_.Now() + std::chrono::milliseconds(delay - delay / 2 + half(rng_));
    }
  }
  store::AuditEvent event;
  event.actor_kind = "system";
  event.actor = "outbox";
  event.purpose = "PUBHLTH";
  event.action = "notification-delivery";
  event.person_key = d.person_key;
  event.target = "Notification/" + d.notification_id;
  event.outcome = outcome.state == store::DeliveryState::kDelivered ? "permit" : "error";
  event.http_status = posted.ok() ? posted->status : 0;
  event.rule = "notification.statutory";
  event.reason = "attempt " + std::to_string(attempt) +
                 (outcome.last_error.empty() ? "" : ": " + outcome.last_error);
  store::WriteBatch record;
  record.ops.push_back(std::move(outcome));
  record.ops.push_back(store::AppendAudit{std::move(event)});
  Result<store::CommitResult> recorded = store_.Commit(std::move(record));
  if (!recorded.ok()) return recorded.take_status();
  if (!posted.ok() || posted->status >= 300) {
    logger_.warn("outbox: notification {} attempt {} failed: {}", d.notification_id, attempt,
                 posted.ok() ? "HTTP " + std::to_string(posted->status) : posted.status().message());
  }
  return Status::Ok();
}

}  // namespace clinshub::publichealth
