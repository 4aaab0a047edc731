// fhir::ParseJson / ParseResource on arbitrary bytes. Properties: parsing never crashes; an
// error is kMalformed with at least one issue; what parses writes back to JSON that parses
// to the same value, and writing is stable (write(parse(write(v))) == write(v)).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fhir/json.h"

namespace {

using clinshub::ErrorCode;
namespace fhir = clinshub::fhir;

void Check(bool ok) {
  if (!ok) std::abort();
}

void RoundTrip(const clinshub::Result<fhir::Value>& parsed) {
  if (!parsed.ok()) {
    Check(parsed.status().code() == ErrorCode::kMalformed);
    Check(!parsed.status().issues().empty());
    return;
  }
  std::string written = fhir::WriteJson(*parsed);
  auto again = fhir::ParseJson(written);
  Check(again.ok());
  Check(*again == *parsed);
  Check(fhir::WriteJson(*again) == written);
  fhir::WriteJsonPretty(*parsed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  RoundTrip(fhir::ParseJson(input));
  RoundTrip(fhir::ParseResource(input));
  return 0;
}
