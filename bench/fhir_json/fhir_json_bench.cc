// Throughput of the FHIR JSON path every submission takes: ParseResource (simdjson parse,
// Value tree, R4 structure checks) and WriteJson, on a ~50 KB JP-CLINS-like lab-result bundle
// built in memory. Run: build/bench/fhir_json/bench_fhir_json
#include <string>

#include <benchmark/benchmark.h>

#include "fhir/json.h"

namespace clinshub::fhir {
namespace {

std::string Observation(int i) {
  std::string n = std::to_string(i);
  return R"({"fullUrl":"urn:uuid:0a1b2c3d-4e5f-4a6b-8c7d-)" + std::string(12 - n.size(), '0') +
         n + R"(","resource":{"resourceType":"Observation","id":"obs-)" + n + R"(",)"
         R"("meta":{"profile":["http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Observation_LabResult_eCS"]},)"
         R"("contained":[{"resourceType":"Specimen","id":"sp","type":{"coding":[{"system":"urn:oid:1.2.392.200119.4.504","code":"023"}],"text":"血清"}}],)"
         R"("extension":[{"url":"http://jpfhir.jp/fhir/clins/Extension/StructureDefinition/JP_eCS_InstitutionNumber","valueIdentifier":{"system":"http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no","value":"1312345678"}}],)"
         R"("identifier":[{"system":"http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier","value":"1312345678_lab_)" + n + R"("}],)"
         R"("status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],)"
         R"("code":{"coding":[{"system":"urn:oid:1.2.392.200119.4.504","code":"3B035000002327201","display":"AST"},{"system":"http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_CoreLabo_CS","code":"3B035000002327201"}],"text":"AST・GOT"},)"
         R"("subject":{"reference":"urn:uuid:11111111-2222-4333-8444-555555555555"},)"
         R"("effectiveDateTime":"2024-05-01T10:00:00+09:00","issued":"2024-05-01T12:00:00.000+09:00",)"
         R"("valueQuantity":{"value":)" + std::to_string(10 + i % 40) + R"(.50,"unit":"U/L","system":"http://unitsofmeasure.org","code":"U/L"},)"
         R"("referenceRange":[{"low":{"value":13,"unit":"U/L"},"high":{"value":30,"unit":"U/L"},"text":"13-30"}],)"
         R"("interpretation":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation","code":"N"}]}],)"
         R"("specimen":{"reference":"#sp"}}})";
}

// A collection bundle of a Patient and enough lab Observations to reach ~50 KB.
std::string BuildBundle() {
  std::string json =
      R"({"resourceType":"Bundle","id":"bench","meta":{"lastUpdated":"2024-05-01T12:00:00Z",)"
      R"("tag":[{"system":"http://jpfhir.jp/fhir/clins/CodeSystem/BundleResourceType_CS","code":"Observation"}]},)"
      R"("identifier":{"system":"http://jpfhir.jp/fhir/clins/bundle-identifier","value":"1312345678^2024^bench-1"},)"
      R"("type":"collection","timestamp":"2024-05-01T12:00:00+09:00","entry":[)"
      R"({"fullUrl":"urn:uuid:11111111-2222-4333-8444-555555555555","resource":{"resourceType":"Patient",)"
      R"("identifier":[{"system":"http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID","value":"00012345:あいう:１８７:05"}],)"
      R"("name":[{"text":"山田 太郎","family":"山田","given":["太郎"]}],"gender":"male","birthDate":"1970-01-01"}})";
  for (int i = 0; json.size() < 50 * 1024; ++i) json += "," + Observation(i);
  json += "]}";
  return json;
}

void BM_ParseResource(benchmark::State& state) {
  const std::string json = BuildBundle();
  for (auto _ : state) {
    Result<Value> v = ParseResource(json);
    if (!v.ok()) {
      state.SkipWithError(v.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * json.size()));
}
BENCHMARK(BM_ParseResource);

void BM_ParseJson(benchmark::State& state) {
  const std::string json = BuildBundle();
  for (auto _ : state) {
    Result<Value> v = ParseJson(json);
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * json.size()));
}
BENCHMARK(BM_ParseJson);

void BM_WriteJson(benchmark::State& state) {
  const std::string json = BuildBundle();
  Result<Value> v = ParseResource(json);
  if (!v.ok()) {
    state.SkipWithError(v.status().ToString().c_str());
    return;
  }
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out = WriteJson(*v);
    bytes += out.size();
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_WriteJson);

}  // namespace
}  // namespace clinshub::fhir

BENCHMARK_MAIN();
