// Time as the server sees it. Everything that needs "now" gets a Clock injected, so tests
// move time instead of waiting.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace clinshub {

// Microseconds since the Unix epoch, UTC.
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  // Thread-safe.
  virtual Timestamp Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp Now() const override {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now());
  }
};

// A clock tests set and advance by hand. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start) : micros_(start.time_since_epoch().count()) {}
  Timestamp Now() const override {
    return Timestamp(std::chrono::microseconds(micros_.load()));
  }
  void Set(Timestamp t) { micros_.store(t.time_since_epoch().count()); }
  void Advance(std::chrono::microseconds d) { micros_.fetch_add(d.count()); }

 private:
  std::atomic<int64_t> micros_;
};

// FHIR instant with milliseconds and a Z zone: "2026-11-25T04:48:37.123Z".
std::string FormatInstant(Timestamp t);
// Parses a FHIR dateTime/instant ("2024", "2024-05", "2024-05-01", "2024-05-01T10:00:00+09:00",
// with optional fraction) to the earliest instant it covers; nullopt if malformed.
std::optional<Timestamp> ParseFhirDateTime(std::string_view text);

}  // namespace clinshub
