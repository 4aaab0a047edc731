// Delivers queued 感染症発生届 to the surveillance endpoint (docs/public-health.md).
//
// At-least-once: a notification is queued in the transaction that stores it (store
// PutNotification); the worker claims each due delivery by advancing its attempt counter
// (UpdateDelivery with if_attempts, so two workers never run the same attempt; a claimed
// attempt that never reports — the process died — is due again after `lease`), POSTs it with
// `Idempotency-Key: <notification id>` and records the outcome. 2xx (and 409: the receiver
// already has it) is delivered; 408, 429, 5xx and transport errors are retried with
// exponential backoff and jitter; other 4xx, or the last allowed attempt failing, move the
// row to the dead-letter state (kFailed) for the operator. The receiver dedups by the key.
//
// Time for backoff and due-ness comes from the injected Clock; only the idle poll interval
// is real time. Thread-safe: Start() runs one background thread; RunOnce() may be called
// from tests instead.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include <spdlog/logger.h>

#include "common/clock.h"
#include "common/result.h"
#include "publichealth/http_poster.h"
#include "store/store.h"

namespace clinshub::publichealth {

struct OutboxOptions {
  std::string endpoint_url;             // http(s)://… of the surveillance system
  int max_attempts = 10;                // then dead letter
  std::chrono::milliseconds base_backoff{1000};
  std::chrono::milliseconds max_backoff{std::chrono::hours(1)};
  std::chrono::milliseconds lease{std::chrono::minutes(2)};  // > the poster's timeout
  std::chrono::milliseconds poll_interval{1000};  // real time between idle polls
  size_t batch = 32;
  uint64_t jitter_seed = 0;  // 0: random
};

// The delay before attempt `attempts + 1` after `attempts` failed ones, before jitter:
// base * 2^(attempts-1), capped at max.
std::chrono::milliseconds BackoffDelay(const OutboxOptions& o, int attempts);

class OutboxWorker {
 public:
  // Borrows store, clock and logger (they must outlive the worker); owns the poster.
  OutboxWorker(store::Store& store, const Clock& clock, std::unique_ptr<HttpPoster> poster,
               OutboxOptions options, spdlog::logger& logger);
  ~OutboxWorker();  // Stop()

  void Start();
  // Finishes the attempt in progress, then returns. Idempotent.
  void Stop();
  // Polls now instead of after the idle interval (a notification was just queued).
  void Wake();

  // Attempts every delivery due now; returns how many attempts were made.
  Result<int> RunOnce();

 private:
  Status DeliverOne(const store::DeliveryRecord& d);
  void Loop();

  store::Store& store_;
  const Clock& clock_;
  std::unique_ptr<HttpPoster> poster_;
  OutboxOptions options_;
  spdlog::logger& logger_;
  std::mt19937_64 rng_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace clinshub::publichealth
