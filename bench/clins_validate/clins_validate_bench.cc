// JP-CLINS validation and item extraction per submission kind, on generated bundles (seed 1).
// Reports bundles/s (items_per_second) and bytes/s of the compact JSON.
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

// Arg: generator::SubmissionKind (0 Condition, 1 Allergy, 2 Observation, 3 Referral,
// 4 DischargeSummary, 5 Checkup).
BENCHMARK(BM_Validate)->DenseRange(0, 5);
BENCHMARK(BM_ValidateAndExtract)->DenseRange(0, 5);

}  // namespace
}  // namespace clinshub

BENCHMARK_MAIN();
