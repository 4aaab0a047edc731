// A throwaway PostgreSQL server for tests: initdb into a fresh temporary directory, started on a
// unix socket inside that directory (no TCP port, so parallel test runs never collide), stopped
// and deleted on destruction — no state outlives the test.
//
// PostgreSQL refuses to run as root, and CI runs as root: then the server runs as the
// unprivileged `postgres` system user (made by Debian's postgresql-common), or `nobody`.
// Binaries are looked up on PATH, then in /usr/lib/postgresql/<version>/bin (Debian).
//
// Not thread-safe; one test process owns one server.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"

namespace clinshub::testing {

class PgTestServer {
 public:
  // The directory holding initdb and pg_ctl; empty if PostgreSQL is not installed.
  static std::string BinDir();

  // initdb + start. kUnavailable (with the reason and the server log) if that fails.
  static Result<std::unique_ptr<PgTestServer>> Start();

  ~PgTestServer();  // stops the server (immediate) and removes its directory
  PgTestServer(const PgTestServer&) = delete;
  PgTestServer& operator=(const PgTestServer&) = delete;

  // key=value connection string for database `postgres` as superuser `clinshub`;
  // `extra` is appended (e.g. "options='-c search_path=s1'").
  std::string conninfo(const std::string& extra = "") const;
  // The same as a URI, as `clinshub serve --store` takes it.
  std::string url() const;

  // Stops the server. immediate: SIGQUIT to every process, no checkpoint, crash recovery at
  // the next start — what a power cut or kill -9 leaves behind, as far as the WAL is concerned.
  Status Stop(bool immediate);
  // Starts it again after Stop().
  Status Restart();

  // The server's log (for failure messages).
  std::string Log() const;

 private:
  PgTestServer(std::string bin_dir, std::string dir, std::string run_as)
      : bin_dir_(std::move(bin_dir)), dir_(std::move(dir)), run_as_(std::move(run_as)) {}
  // Runs a PostgreSQL binary (as run_as_ when set); true if it exits 0.
  bool RunTool(const std::string& args) const;

  std::string bin_dir_;
  std::string dir_;     // holds data/, the socket and server.log
  std::string run_as_;  // unprivileged user when we are root, else empty
  bool running_ = false;
};

}  // namespace clinshub::testing
