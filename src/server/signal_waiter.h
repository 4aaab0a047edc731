// Waits for SIGINT or SIGTERM via asio::signal_set (no global handler state of our own).
// Construct it before starting anything, so a signal arriving early is not lost.
#pragma once

#include <memory>

namespace clinshub::server {

class SignalWaiter {
 public:
  SignalWaiter();
  ~SignalWaiter();
  // Blocks until SIGINT or SIGTERM arrives (or arrived since construction); returns it.
  int Wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace clinshub::server
