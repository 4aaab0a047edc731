#include "api/timed_store.h"

#include <chrono>

namespace clinshub::api {

Result<store::CommitResult> TimedStore::Commit(store::WriteBatch batch) {
  // Wall-clock duration for an operator metric, not a timestamp: steady_clock, not Clock.
  auto start = std::chrono::steady_clock::now();
  Result<store::CommitResult> result = inner_.Commit(std::move(batch));
  metrics_.ObserveStoreCommit(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return result;
}

}  // namespace clinshub::api
