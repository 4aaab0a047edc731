// Per-workload tallies of the load tool: every request's latency (sorted at the end, so the
// percentiles are exact) and its outcome by HTTP status.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace clinshub::loadtest {

// One worker's tally for one workload (not shared between threads).
struct Tally {
  std::vector<uint32_t> latency_us;
  std::map<int, uint64_t> statuses;  // 0: transport failure (connect, TLS, reset)
  uint64_t ok = 0;
  uint64_t errors = 0;
  uint64_t resources = 0;  // resources carried by the successful requests (ingest)
  uint64_t bytes = 0;      // request body bytes of the successful requests
  uint64_t wire_bytes_in = 0;  // their responses' bodies as received (gzip-coded or not)
  uint64_t bytes_in = 0;       // and decoded
  std::vector<std::string> samples;  // the first few error descriptions

  void Merge(Tally&& other) {
    latency_us.insert(latency_us.end(), other.latency_us.begin(), other.latency_us.end());
    for (const auto& [status, n] : other.statuses) statuses[status] += n;
    ok += other.ok;
    errors += other.errors;
    resources += other.resources;
    wire_bytes_in += other.wire_bytes_in;
    bytes_in += other.bytes_in;
    bytes += other.bytes;
    for (std::string& s : other.samples) {
      if (samples.size() < 5) samples.push_back(std::move(s));
    }
  }
};

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, max = 0;  // milliseconds
};

// Sorts `latency_us` in place.
inline Percentiles ComputePercentiles(std::vector<uint32_t>& latency_us) {
  Percentiles p;
  if (latency_us.empty()) return p;
  std::sort(latency_us.begin(), latency_us.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(q * static_cast<double>(latency_us.size() - 1) + 0.5);
    return latency_us[std::min(i, latency_us.size() - 1)] / 1000.0;
  };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.max = latency_us.back() / 1000.0;
  return p;
}

}  // namespace clinshub::loadtest
