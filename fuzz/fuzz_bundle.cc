// JP-CLINS submission handling on arbitrary bytes, as POST /Bundle runs it: ParseResource,
// ValidateSubmission, then ExtractItems on what was accepted. Properties: no crash; rejection
// is kUnprocessable; extraction of an accepted bundle never reports kInternal (which would
// mean the validator's facts do not describe the bundle).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "clins/extract.h"
#include "clins/submission.h"
#include "fhir/json.h"

namespace {

namespace clins = clinshub::clins;
using clinshub::ErrorCode;

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!clins::CheckSubmissionSize(size).ok()) return 0;
  auto bundle = clinshub::fhir::ParseResource(input);
  if (!bundle.ok()) return 0;
  clins::ValidationContext ctx{
      "", clinshub::Timestamp(std::chrono::sys_days(std::chrono::year{2025} / 6 / 1))};
  auto facts = clins::ValidateSubmission(*bundle, ctx);
  if (!facts.ok()) {
    Check(facts.status().code() == ErrorCode::kUnprocessable);
    return 0;
  }
  auto items = clins::ExtractItems(*bundle, *facts);
  if (!items.ok()) Check(items.status().code() == ErrorCode::kUnprocessable);
  return 0;
}
