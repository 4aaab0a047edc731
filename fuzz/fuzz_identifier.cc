// Insurance-identifier and search-text normalisation on arbitrary bytes. Properties: no
// crash; the output is valid UTF-8 (invalid input is replaced by U+FFFD); normalising twice
// gives the same result as once (keys must be stable); no leading or trailing space.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/japanese_text.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string id = clinshub::NormaliseIdentifier(input);
  Check(IsValidUtf8(id));
  Check(clinshub::NormaliseIdentifier(id) == id);
  Check(id.empty() || (id.front() != ' ' && id.back() != ' '));

  std::string search = clinshub::NormaliseForSearch(input);
  Check(IsValidUtf8(search));
  Check(search.empty() || (search.front() != ' ' && search.back() != ' '));
  return 0;
}
