// A small deterministic random source. std::mt19937_64 is portable but the std distributions
// are not (libstdc++ and libc++ differ), so the generator uses SplitMix64 and its own integer
// distributions: the same seed gives the same data everywhere.
#pragma once

#include <cstddef>
#include <cstdint>

namespace clinshub::generator {

// SplitMix64 finaliser: a strong 64-bit mixer, used both as the engine step and to derive
// independent streams from (seed, stream ids).
inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

inline uint64_t DeriveSeed(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  uint64_t h = Mix64(seed + 0x9e3779b97f4a7c15ULL);
  h = Mix64(h ^ (a + 0x632be59bd9b4e019ULL));
  h = Mix64(h ^ (b + 0x8cb92ba72f3d8dd7ULL));
  return Mix64(h ^ (c + 0x4f1bbcdcbfa53e0bULL));
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return Mix64(state_);
  }
  // Uniform in [0, n) by multiply-shift (Lemire); the tiny bias is irrelevant for test data.
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  // Uniform in [lo, hi].
  int Range(int lo, int hi) { return lo + static_cast<int>(Below(static_cast<uint64_t>(hi - lo + 1))); }
  // True with probability percent/100.
  bool Percent(int percent) { return Below(100) < static_cast<uint64_t>(percent); }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) { return items[Below(N)]; }

 private:
  uint64_t state_;
};

}  // namespace clinshub::generator
