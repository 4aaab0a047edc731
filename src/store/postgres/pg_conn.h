// A thin, owning wrapper over one libpq connection: the only place libpq types live, and the
// one place PostgreSQL errors become Status values.
//
// Error mapping (MapError): connection failures, server shutdown, too many connections and
// serialization failures are kUnavailable (the caller may retry); a unique violation is
// kConflict (another writer got there first); anything else is kInternal.
//
// Not thread-safe: one connection serves one thread at a time (the store's pool hands them out).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

struct pg_conn;    // libpq's PGconn, kept out of every includer's way
struct pg_result;  // libpq's PGresult

namespace clinshub::store::postgres {

// Positional parameters ($1, $2, …) sent as text.
class Params {
 public:
  Params& Text(std::string_view v);
  Params& Int64(int64_t v);
  Params& Null();
  int size() const { return static_cast<int>(values_.size()); }
  // Pointers for PQexecPrepared; valid while this object lives and is not modified.
  std::vector<const char*> Pointers() const;

 private:
  std::vector<std::string> values_;
  std::vector<bool> null_;
};

// The rows of one statement's result.
class Rows {
 public:
  explicit Rows(pg_result* result);
  ~Rows();
  Rows(Rows&& other) noexcept;
  Rows& operator=(Rows&&) = delete;
  Rows(const Rows&) = delete;

  int size() const;
  bool IsNull(int row, int col) const;
  std::string Text(int row, int col) const;
  int64_t Int64(int row, int col) const;

 private:
  pg_result* result_;
};

// One statement of a pipeline (PgConnection::Pipeline).
struct Call {
  std::string name;  // a statement prepared on the connection
  Params params;
};

class PgConnection {
 public:
  // Connects (conninfo: key=value pairs or a postgresql:// URI). kUnavailable if the server
  // cannot be reached or refuses the login.
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one or more statements without parameters (DDL, BEGIN, …).
  Status Exec(const std::string& sql);
  // Runs a statement with parameters (unnamed, planned each time; for rare statements).
  Result<Rows> Query(const std::string& sql, const Params& params = {});

  // Prepares `sql` as statement `name` on this connection, once.
  Status Prepare(const std::string& name, const std::string& sql);
  Result<Rows> Run(const std::string& name, const Params& params);

  // Sends every call in libpq pipeline mode and reads all their results: one round trip for
  // the lot. `rows` receives one entry per call (empty for a call that returned no rows or
  // was skipped). On failure returns the first error and sets `failed_at` to that call's index
  // (calls.size() if the pipeline itself failed); the server skipped every call after it, and
  // an open transaction block is then in the aborted state (ROLLBACK TO SAVEPOINT recovers).
  // Results are read only after everything is sent (blocking mode): callers keep the results
  // small (command tags and a few rows), so the server never blocks writing to us.
  Status Pipeline(const std::vector<Call>& calls, std::vector<Rows>& rows, size_t& failed_at);

  // False once the connection is lost; the pool then drops it and connects anew.
  bool Healthy() const;
  // True outside a transaction block.
  bool Idle() const;

 private:
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}
  Result<Rows> Check(pg_result* result, const std::string& what);

  pg_conn* conn_;
  // Set when a call saw the connection die. libpq may still report CONNECTION_OK then (the
  // server closed the socket under an idle connection), so we remember it ourselves.
  bool broken_ = false;
};

}  // namespace clinshub::store::postgres
