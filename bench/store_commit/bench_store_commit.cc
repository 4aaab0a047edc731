// Commits per second of the SQLite store: batches of 10 small Observations, 1 and 16 writer
// threads, on a fresh database in the temp directory. Arg 0 = synchronous FULL (the durable
// default), 1 = NORMAL (for comparison only: not durable against power loss).
//
//   bench_store_commit --benchmark_counters_tabular=true
#include <stdlib.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "store/sqlite/sqlite_store.h"

namespace clinshub::store {
namespace {

constexpr int kResourcesPerBatch = 10;

// One store per benchmark run, shared by its threads. Google Benchmark's Setup/Teardown hooks
// are plain function pointers, so the run's state has to live at namespace scope; this is a
// benchmark program, not library code.
struct Run {
  std::string dir;
  SystemClock clock;
  std::unique_ptr<Store> store;
  std::atomic<uint64_t> next_batch{0};
};
Run* run = nullptr;

void Setup(const benchmark::State& state) {
  run = new Run;
  std::string pattern = (std::filesystem::temp_directory_path() / "bench-store-XXXXXX").string();
  run->dir = mkdtemp(pattern.data());
  SqliteOptions options;
  options.path = run->dir;
  options.synchronous = state.range(0) == 0 ? SqliteOptions::Synchronous::kFull
                                            : SqliteOptions::Synchronous::kNormal;
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(options, run->clock);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    std::abort();
  }
  run->store = std::move(*store);
}

void Teardown(const benchmark::State& state) {
  const StoreStats stats = run->store->Stats();
  std::fprintf(stderr, "  [%d threads] %llu batches in %llu transactions (%.1f per fsync)\n",
               state.threads(), static_cast<unsigned long long>(stats.batches_committed),
               static_cast<unsigned long long>(stats.transactions),
               stats.transactions == 0
                   ? 0.0
                   : static_cast<double>(stats.batches_committed) / stats.transactions);
  run->store.reset();
  std::error_code ec;
  std::filesystem::remove_all(run->dir, ec);
  delete run;
  run = nullptr;
}

fhir::Value SmallObservation(const std::string& id) {
  fhir::Value coding = fhir::Value::Object();
  coding.Set("system", fhir::Value::String("urn:oid:1.2.392.200119.4.504"));
  coding.Set("code", fhir::Value::String("3D010000001926101"));
  fhir::Value codings = fhir::Value::Array();
  codings.Append(std::move(coding));
  fhir::Value code = fhir::Value::Object();
  code.Set("coding", std::move(codings));
  code.Set("text", fhir::Value::String("グルコース"));
  fhir::Value quantity = fhir::Value::Object();
  quantity.Set("value", fhir::Value::Number("98.0"));
  quantity.Set("unit", fhir::Value::String("mg/dL"));
  fhir::Value o = fhir::Value::Object();
  o.Set("resourceType", fhir::Value::String("Observation"));
  o.Set("id", fhir::Value::String(id));
  o.Set("status", fhir::Value::String("final"));
  o.Set("code", std::move(code));
  o.Set("effectiveDateTime", fhir::Value::String("2026-11-25T09:00:00+09:00"));
  o.Set("valueQuantity", std::move(quantity));
  return o;
}

void BM_Commit(benchmark::State& state) {
  for (auto _ : state) {
    const std::string prefix = "b" + std::to_string(run->next_batch.fetch_add(1)) + "-";
    WriteBatch batch;
    for (int k = 0; k < kResourcesPerBatch; ++k) {
      batch.ops.push_back(PutResource{SmallObservation(prefix + std::to_string(k)), 0});
    }
    Result<CommitResult> committed = run->store->Commit(std::move(batch));
    if (!committed.ok()) {
      state.SkipWithError(committed.status().ToString().c_str());
      break;
    }
  }
  state.counters["commits/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["resources/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * kResourcesPerBatch), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_Commit)
    ->ArgName("normal_sync")
    ->Arg(0)
    ->Arg(1)
    ->Setup(Setup)
    ->Teardown(Teardown)
    ->Threads(1)
    ->Threads(16)
    ->UseRealTime()
    ->MinTime(2.0);

}  // namespace
}  // namespace clinshub::store

BENCHMARK_MAIN();
