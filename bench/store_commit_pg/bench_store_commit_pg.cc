// Commits per second of the PostgreSQL store: batches of 10 small Observations, 1 and 16
// writer threads (the same workload as bench_store_commit for SQLite). Against the server in
// $CLINSHUB_BENCH_PG (a libpq URI; each run uses a fresh schema there) or, if unset, a
// throwaway local server (tests/support/pg_server.h: fsync on, unix socket).
//
//   bench_store_commit_pg --benchmark_counters_tabular=true
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "pg_server.h"
#include "store/postgres/pg_conn.h"
#include "store/postgres/pg_store.h"

namespace clinshub::store {
namespace {

constexpr int kResourcesPerBatch = 10;

// Benchmark hooks are plain function pointers, so the run's state lives at namespace scope
// (a benchmark program, not library code).
std::unique_ptr<testing::PgTestServer> server;
std::string base_conninfo;
int run_number = 0;

struct Run {
  SystemClock clock;
  std::unique_ptr<Store> store;
  std::atomic<uint64_t> next_batch{0};
};
Run* run = nullptr;

[[noreturn]] void Die(const std::string& what, const Status& st) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), st.ToString().c_str());
  std::exit(1);
}

void Setup(const benchmark::State&) {
  run = new Run;
  const std::string schema = "bench_" + std::to_string(++run_number);
  Result<std::unique_ptr<postgres::PgConnection>> admin =
      postgres::PgConnection::Connect(base_conninfo);
  if (!admin.ok()) Die("connect", admin.status());
  Status made = (*admin)->Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " +
                               schema);
  if (!made.ok()) Die("create schema", made);
  PostgresOptions options;
  // key=value and URI forms both take options via the environment-free `options` keyword.
  options.conninfo = base_conninfo.find("://") != std::string::npos
                         ? base_conninfo + (base_conninfo.find('?') == std::string::npos ? "?" : "&") +
                               "options=-csearch_path%3D" + schema
                         : base_conninfo + " options='-c search_path=" + schema + "'";
  Result<std::unique_ptr<Store>> store = OpenPostgresStore(options, run->clock);
  if (!store.ok()) Die("open", store.status());
  run->store = std::move(*store);
}

void Teardown(const benchmark::State& state) {
  const StoreStats stats = run->store->Stats();
  std::fprintf(stderr, "  [%d threads] %llu batches in %llu transactions (%.1f per commit)\n",
               state.threads(), static_cast<unsigned long long>(stats.batches_committed),
               static_cast<unsigned long long>(stats.transactions),
               stats.transactions == 0
                   ? 0.0
                   : static_cast<double>(stats.batches_committed) / stats.transactions);
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

void BM_CommitPg(benchmark::State& state) {
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

BENCHMARK(BM_CommitPg)
    ->Setup(Setup)
    ->Teardown(Teardown)
    ->Threads(1)
    ->Threads(16)
    ->UseRealTime()
    ->MinTime(2.0);

}  // namespace
}  // namespace clinshub::store

int main(int argc, char** argv) {
  using clinshub::store::base_conninfo;
  using clinshub::store::server;
  if (const char* url = std::getenv("CLINSHUB_BENCH_PG"); url != nullptr && *url != '\0') {
    base_conninfo = url;
  } else {
    auto started = clinshub::testing::PgTestServer::Start();
    if (!started.ok()) {
      std::fprintf(stderr, "%s\n", started.status().ToString().c_str());
      return 1;
    }
    server = std::move(*started);
    base_conninfo = server->conninfo();
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  server.reset();
  return 0;
}
