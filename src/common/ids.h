// Server-assigned logical ids. Injected so tests get predictable ids.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace clinshub {

class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  // A fresh FHIR id ([A-Za-z0-9\-\.]{1,64}). Thread-safe.
  virtual std::string NewId() = 0;
};

// 128 random bits (OpenSSL RAND_bytes) as 32 lower-case hex characters: unguessable, so an id
// reveals nothing about the person or the order of registration.
class RandomIdGenerator final : public IdGenerator {
 public:
  std::string NewId() override;
};

// "prefix-1", "prefix-2", … for tests.
class SequentialIdGenerator final : public IdGenerator {
 public:
  explicit SequentialIdGenerator(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string NewId() override { return prefix_ + "-" + std::to_string(++next_); }

 private:
  std::string prefix_;
  std::atomic<uint64_t> next_{0};
};

}  // namespace clinshub
