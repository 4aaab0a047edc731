// The per-submission work of POST /Bundle, per submission kind, on generated bundles (seed 1):
// strict parse (ParseResource), JP-CLINS validation, item extraction, and the serialisation of a
// summary-sized Bundle (one person's extracted items). Reports bundles/s (items_per_second) and
// bytes/s of the compact JSON.
//
//   build/bench/clins_validate/bench_clins_validate --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <vector>

#include "clins/extract.h"
#include "clins/submission.h"
#include "fhir/json.h"
#include "generator/generator.h"

namespace clinshub {
namespace {

// Every generated bundle of one kind, from the first persons of seed 1.
const std::vector<fhir::Value>& BundlesOf(generator::SubmissionKind kind) {
  static const auto* all = [] {
    auto* by_kind = new std::vector<std::vector<fhir::Value>>(6);
    generator::Generator gen(generator::GeneratorOptions{.seed = 1, .persons = 20});
    for (const generator::Person& person : gen.population().persons) {
      for (generator::GeneratedSubmission& s : gen.SubmissionsFor(person)) {
        (*by_kind)[static_cast<size_t>(s.kind)].push_back(std::move(s.bundle));
      }
    }
    return by_kind;
  }();
  return (*all)[static_cast<size_t>(kind)];
}

size_t JsonBytes(const std::vector<fhir::Value>& bundles) {
  size_t bytes = 0;
  for (const fhir::Value& b : bundles) bytes += fhir::WriteJson(b).size();
  return bytes;
}

void BM_Validate(benchmark::State& state) {
  const auto& bundles = BundlesOf(static_cast<generator::SubmissionKind>(state.range(0)));
  const clins::ValidationContext ctx{"", generator::GeneratorOptions{}.now};
  size_t i = 0;
  for (auto _ : state) {
    auto facts = clins::ValidateSubmission(bundles[i++ % bundles.size()], ctx);
    if (!facts.ok()) state.SkipWithError("generated bundle rejected");
    benchmark::DoNotOptimize(facts);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() *
                                               (JsonBytes(bundles) / bundles.size())));
}

void BM_ValidateAndExtract(benchmark::State& state) {
  const auto& bundles = BundlesOf(static_cast<generator::SubmissionKind>(state.range(0)));
  const clins::ValidationContext ctx{"", generator::GeneratorOptions{}.now};
  size_t i = 0;
  for (auto _ : state) {
    const fhir::Value& bundle = bundles[i++ % bundles.size()];
    auto facts = clins::ValidateSubmission(bundle, ctx);
    if (!facts.ok()) state.SkipWithError("generated bundle rejected");
    auto items = clins::ExtractItems(bundle, *facts);
    benchmark::DoNotOptimize(items);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// Strict FHIR parse of the generated JSON as POST /Bundle receives it.
void BM_ParseGenerated(benchmark::State& state) {
  const auto& bundles = BundlesOf(static_cast<generator::SubmissionKind>(state.range(0)));
  std::vector<std::string> texts;
  for (const fhir::Value& b : bundles) texts.push_back(fhir::WriteJson(b));
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::string& text = texts[i++ % texts.size()];
    auto parsed = fhir::ParseResource(text);
    if (!parsed.ok()) state.SkipWithError("generated bundle does not parse");
    bytes += text.size();
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// Extraction alone (validation done beforehand): items/s counts extracted items.
void BM_Extract(benchmark::State& state) {
  const auto& bundles = BundlesOf(static_cast<generator::SubmissionKind>(state.range(0)));
  const clins::ValidationContext ctx{"", generator::GeneratorOptions{}.now};
  std::vector<clins::SubmissionFacts> facts;
  for (const fhir::Value& b : bundles) {
    auto f = clins::ValidateSubmission(b, ctx);
    if (!f.ok()) {
      state.SkipWithError("generated bundle rejected");
      return;
    }
    facts.push_back(std::move(*f));
  }
  size_t i = 0, items = 0;
  for (auto _ : state) {
    const size_t k = i++ % bundles.size();
    auto extracted = clins::ExtractItems(bundles[k], facts[k]);
    if (extracted.ok()) items += extracted->size();
    benchmark::DoNotOptimize(extracted);
  }
  state.SetItemsProcessed(static_cast<int64_t>(items));
  state.counters["bundles/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// A summary-sized searchset Bundle: every item extracted from one person's submissions (about
// 20–60 resources), as fhir::Value, written with WriteJson. items/s counts summaries.
void BM_WriteSummaryBundle(benchmark::State& state) {
  generator::Generator gen(generator::GeneratorOptions{.seed = 1, .persons = 1});
  const clins::ValidationContext ctx{"", generator::GeneratorOptions{}.now};
  fhir::Value summary = fhir::Value::Object();
  summary.Set("resourceType", fhir::Value::String("Bundle"));
  summary.Set("type", fhir::Value::String("searchset"));
  fhir::Value& entries = summary.Set("entry", fhir::Value::Array());
  for (const generator::GeneratedSubmission& s : gen.SubmissionsFor(gen.population().persons[0])) {
    auto facts = clins::ValidateSubmission(s.bundle, ctx);
    if (!facts.ok()) continue;
    auto items = clins::ExtractItems(s.bundle, *facts);
    if (!items.ok()) continue;
    for (const clins::Item& item : *items) {
      auto resource = fhir::ParseJson(item.json);
      if (!resource.ok()) continue;
      fhir::Value entry = fhir::Value::Object();
      entry.Set("resource", std::move(*resource));
      entries.Append(std::move(entry));
    }
  }
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out = fhir::WriteJson(summary);
    bytes += out.size();
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["resources"] = static_cast<double>(entries.items().size());
}
BENCHMARK(BM_WriteSummaryBundle);

// Arg: generator::SubmissionKind (0 Condition, 1 Allergy, 2 Observation, 3 Referral,
// 4 DischargeSummary, 5 Checkup).
BENCHMARK(BM_Validate)->DenseRange(0, 5);
BENCHMARK(BM_ValidateAndExtract)->DenseRange(0, 5);
BENCHMARK(BM_ParseGenerated)->DenseRange(0, 5);
BENCHMARK(BM_Extract)->DenseRange(0, 5);

}  // namespace
}  // namespace clinshub

BENCHMARK_MAIN();
