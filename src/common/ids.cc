#include "common/ids.h"

#include <openssl/rand.h>

#include <cstdlib>

namespace clinshub {

std::string RandomIdGenerator::NewId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // The CSPRNG failing means the process cannot make safe ids at all: a programmer/system
    // invariant, not an input error.
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0f]);
  }
  return out;
}

}  // namespace clinshub
