// Response compression (src/common/gzip.h) on a ~90 KB body made of generated JP-CLINS
// resources, the size and make-up of a patient summary: coding it whole (libdeflate, what
// other responses get), deflating the entries once as a run that can be followed (zlib) or as
// the final one (libdeflate, what the item cache keeps), splicing a kept run behind a
// per-request head (what a cached gzip summary costs), and decoding.
// Run: build/bench/gzip/bench_gzip
#include <string>

#include <benchmark/benchmark.h>

#include "common/gzip.h"
#include "fhir/json.h"
#include "generator/generator.h"

namespace clinshub {
namespace {

// The resources of a few generated persons' submissions, joined like summary entries.
const std::string& Entries() {
  static const std::string entries = [] {
    generator::Generator gen(generator::GeneratorOptions{.seed = 1, .persons = 4});
    std::string out;
    for (const generator::Person& person : gen.population().persons) {
      for (const generator::GeneratedSubmission& s : gen.SubmissionsFor(person)) {
        const fhir::Value* entry = s.bundle.Find("entry");
        if (entry == nullptr) continue;
        for (const fhir::Value& e : entry->items()) {
          if (out.size() > 90 * 1000) return out + "]}";
          if (!out.empty()) out += ',';
          out += R"({"fullUrl":"urn:clinshub:item:0123456789abcdef0123456789abcdef/1",)";
          out += R"("resource":)" + fhir::WriteJson(*e.Find("resource")) +
                 R"(,"search":{"mode":"match"}})";
        }
      }
    }
    return out + "]}";
  }();
  return entries;
}

const std::string kHead =
    R"({"resourceType":"Bundle","type":"searchset","timestamp":"2026-12-07T10:00:00.000+09:00","total":33,"entry":[)";

void BM_GzipWhole(benchmark::State& state) {
  const std::string body = kHead + Entries();
  size_t out = 0;
  for (auto _ : state) out = Gzip(body).size();
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.counters["ratio"] = static_cast<double>(body.size()) / static_cast<double>(out);
}
BENCHMARK(BM_GzipWhole);

// Deflating the entries once, with `deflate` (DeflateRun or DeflateFinalRun).
void DeflateEntries(benchmark::State& state, DeflatedRun (*deflate)(std::string_view, int)) {
  const std::string& entries = Entries();
  size_t out = 0;
  for (auto _ : state) out = deflate(entries, 1).deflated.size();
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * entries.size()));
  state.counters["ratio"] = static_cast<double>(entries.size()) / static_cast<double>(out);
}
BENCHMARK_CAPTURE(DeflateEntries, run_zlib, &DeflateRun);
BENCHMARK_CAPTURE(DeflateEntries, final_run_libdeflate, &DeflateFinalRun);

// Per cached gzip summary: the head as a stored block, the kept run copied behind it.
void BM_SpliceKeptRun(benchmark::State& state) {
  const DeflatedRun run = DeflateFinalRun(Entries());
  for (auto _ : state) {
    GzipBuilder gzip(kHead.size() + run.deflated.size() + 32);
    gzip.AppendText(kHead);
    gzip.AppendRun(run);
    benchmark::DoNotOptimize(std::move(gzip).Finish());
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * (kHead.size() + Entries().size())));
}
BENCHMARK(BM_SpliceKeptRun);

void BM_Gunzip(benchmark::State& state) {
  const std::string body = kHead + Entries();
  const std::string coded = Gzip(body);
  for (auto _ : state) {
    Result<std::string> text = Gunzip(coded, 1 << 20);
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_Gunzip);

}  // namespace
}  // namespace clinshub

BENCHMARK_MAIN();
