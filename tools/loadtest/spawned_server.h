// `clinshub bench --spawn`: starts `clinshub serve` on a fresh data directory, waits for its
// "listening" line, and reports its memory and disk use before stopping it with SIGTERM.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace clinshub::loadtest {

class SpawnedServer {
 public:
  // Runs `binary serve --data DATA_DIR --port 0 --log-level warn EXTRA...`; kUnavailable if it
  // does not print its URL within 60 s.
  static Result<std::unique_ptr<SpawnedServer>> Start(const std::string& binary,
                                                      const std::string& data_dir,
                                                      const std::vector<std::string>& extra);
  ~SpawnedServer();  // stops the server if still running

  const std::string& url() const { return url_; }
  pid_t pid() const { return pid_; }
  // VmRSS and VmHWM (peak) from /proc/<pid>/status, in bytes; 0 when unreadable.
  uint64_t RssBytes() const;
  uint64_t PeakRssBytes() const;
  // SIGTERM and wait; the exit status (0 for a clean shutdown).
  int Stop();

 private:
  SpawnedServer() = default;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string url_;
};

// Total size of the regular files under `dir`, skipping the `pki` folder.
uint64_t DataBytes(const std::string& dir);

}  // namespace clinshub::loadtest
