// Commits per second of the SQLite store: batches of 10 small Observations, 1 and 16 writer
// threads, on a fresh database in the temp directory. Arg 0 = synchronous FULL (the durable
// default), 1 = NORMAL (for comparison only: not durable against power loss).
// BM_CommitUnit commits what POST /Bundle commits: one generated reporting unit (validated,
// its items extracted) and its audit event, at synchronous FULL — the writer thread's real work.
//
//   bench_store_commit --benchmark_counters_tabular=true
#include <stdlib.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "clins/extract.h"
#include "clins/submission.h"
#include "generator/generator.h"
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
  std::fprintf(stderr,
               "  [%d threads] %llu batches in %llu transactions, %llu fsyncs (%.1f per fsync), "
               "%.1f log pages per batch\n",
               state.threads(), static_cast<unsigned long long>(stats.batches_committed),
               static_cast<unsigned long long>(stats.transactions),
               static_cast<unsigned long long>(stats.syncs),
               stats.syncs == 0 ? 0.0
                                : static_cast<double>(stats.batches_committed) / stats.syncs,
               stats.batches_committed == 0
                   ? 0.0
                   : static_cast<double>(stats.pages_written) / stats.batches_committed);
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

// Generated units of 100 persons (~1,100 bundles of every kind), validated and extracted once.
const std::vector<PutUnit>& GeneratedUnits() {
  static const auto* units = [] {
    auto* out = new std::vector<PutUnit>;
    generator::Generator gen(generator::GeneratorOptions{.seed = 1, .persons = 100});
    const clins::ValidationContext ctx{"", generator::GeneratorOptions{}.now};
    for (const generator::Person& person : gen.population().persons) {
      for (generator::GeneratedSubmission& s : gen.SubmissionsFor(person)) {
        auto facts = clins::ValidateSubmission(s.bundle, ctx);
        if (!facts.ok()) continue;
        auto items = clins::ExtractItems(s.bundle, *facts);
        if (!items.ok()) continue;
        PutUnit put;
        put.key = {"P" + std::to_string(person.index), facts->bundle_id_system,
                   facts->bundle_id_value};
        put.institution = facts->institution;
        put.kind = std::string(clins::SubmissionKindName(facts->kind));
        put.addressee = facts->addressee;
        put.bundle = std::move(s.bundle);
        put.items = std::move(*items);
        out->push_back(std::move(put));
      }
    }
    return out;
  }();
  return *units;
}

void BM_CommitUnit(benchmark::State& state) {
  const std::vector<PutUnit>& units = GeneratedUnits();
  uint64_t resources = 0, items = 0;
  for (auto _ : state) {
    // A new unit each time (a resend of identical content would change nothing).
    const uint64_t n = run->next_batch.fetch_add(1);
    PutUnit put = units[n % units.size()];
    put.key.value += "-" + std::to_string(n);
    put.content_hash = std::to_string(n);
    resources += put.bundle.Find("entry")->items().size();
    items += put.items.size();
    AuditEvent event;
    event.actor_kind = "institution";
    event.actor = put.institution;
    event.purpose = "TREAT";
    event.action = "submit";
    event.person_key = put.key.person_key;
    event.target = "Bundle";
    event.outcome = "permit";
    event.rule = "sender";
    event.http_status = 200;
    WriteBatch batch;
    batch.ops.emplace_back(std::move(put));
    batch.ops.emplace_back(AppendAudit{std::move(event)});
    Result<CommitResult> committed = run->store->Commit(std::move(batch));
    if (!committed.ok()) {
      state.SkipWithError(committed.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["resources/s"] =
      benchmark::Counter(static_cast<double>(resources), benchmark::Counter::kIsRate);
  state.counters["items/s"] =
      benchmark::Counter(static_cast<double>(items), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_CommitUnit)
    ->ArgName("normal_sync")
    ->Arg(0)
    ->Setup(Setup)
    ->Teardown(Teardown)
    ->Threads(1)
    ->Threads(16)
    ->Threads(64)
    ->UseRealTime()
    ->MinTime(3.0);

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
