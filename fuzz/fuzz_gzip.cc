// gzip decoding of request bodies (Content-Encoding: gzip) on arbitrary bytes, and the
// builder that assembles gzip responses from pieces. Properties: no crash, hang or leak;
// decoding never returns more than its limit; whatever decodes re-encodes (whole and piece by
// piece, split where the input says) and decodes back to the same text.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/gzip.h"

namespace {

constexpr size_t kLimit = 1 << 20;

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  clinshub::Result<std::string> text = clinshub::Gunzip(input, kLimit);
  // Decoded bodies, or the raw input as text when it was not gzip.
  const std::string plain = text.ok() ? *text : std::string(input);
  Check(plain.size() <= std::max(kLimit, size));

  clinshub::Result<std::string> whole = clinshub::Gunzip(clinshub::Gzip(plain), kLimit * 2);
  Check(whole.ok() && *whole == plain);

  // Pieces: stored text and deflated runs alternating, cut at offsets taken from the text.
  clinshub::GzipBuilder builder;
  size_t at = 0;
  bool run = size > 0 && (data[0] & 1) != 0;
  while (at < plain.size()) {
    const size_t len = 1 + static_cast<unsigned char>(plain[at]) * 7 % 4096;
    const std::string_view piece = std::string_view(plain).substr(at, len);
    if (run) {
      builder.AppendRun(clinshub::DeflateRun(piece));
    } else {
      builder.AppendText(piece);
    }
    run = !run;
    at += piece.size();
  }
  // Sometimes a final run ends it (what the summary does).
  if (size > 0 && (data[0] & 2) != 0) builder.AppendRun(clinshub::DeflateFinalRun(input));
  const std::string expected = size > 0 && (data[0] & 2) != 0 ? plain + std::string(input) : plain;
  clinshub::Result<std::string> pieces =
      clinshub::Gunzip(std::move(builder).Finish(), kLimit * 2);
  Check(pieces.ok() && *pieces == expected);
  return 0;
}
