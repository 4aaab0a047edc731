// Thin RAII wrappers over the SQLite C API, private to store/sqlite. Every SQLite failure
// becomes a Status here, so nothing above this file sees an sqlite return code.
//
// A Connection and its Statements are used by one thread at a time (connections are opened
// SQLITE_OPEN_NOMUTEX; the store hands each to one thread: the writer or a read lease).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace clinshub::store::sqlite {

// Maps an SQLite result code to a Status. Busy, locked, I/O, disk-full, can't-open and
// out-of-memory conditions are kUnavailable (the operator can fix them and the client may
// retry); corruption and everything else (SQL errors, constraint violations: our bugs) are
// kInternal.
Status SqliteError(int rc, std::string_view what, sqlite3* db);

class Statement {
 public:
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binding failures are programming errors (bad index, misuse); the first is kept and
  // reported by the next Step(), so call sites stay linear.
  void BindText(int index, std::string_view text);
  void BindBlob(int index, std::string_view bytes);
  void BindInt64(int index, int64_t value);
  void BindNull(int index);

  // true: a row is available; false: done. Errors as Status.
  Result<bool> Step();
  // Runs a statement that returns no rows (or whose rows are irrelevant) to completion.
  Status Run();

  int64_t ColumnInt64(int column) const;
  std::string ColumnText(int column) const;
  // The column's bytes as stored (TEXT or BLOB, no conversion); valid until the next Step or
  // Reset.
  std::string_view ColumnBytes(int column) const;
  bool ColumnIsNull(int column) const;

  // Resets and clears bindings. An un-reset read statement would keep its read snapshot
  // open (stale reads, blocked checkpoints), so use ScopedReset around each use.
  void Reset();

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
  int bind_rc_ = 0;
};

class ScopedReset {
 public:
  explicit ScopedReset(Statement& s) : s_(s) {}
  ~ScopedReset() { s_.Reset(); }
  ScopedReset(const ScopedReset&) = delete;
  ScopedReset& operator=(const ScopedReset&) = delete;

 private:
  Statement& s_;
};

class Connection {
 public:
  // Opens (creating if `create`) the database file, with the busy timeout installed.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, bool create,
                                                  int busy_timeout_ms);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements with no parameters and no interesting result rows.
  Status Exec(const std::string& sql);
  // A statement kept for the life of the connection (SQLITE_PREPARE_PERSISTENT).
  Result<std::unique_ptr<Statement>> Prepare(std::string_view sql);
  // The single text value of a one-row query such as "PRAGMA journal_mode=WAL".
  Result<std::string> QueryText(const std::string& sql);
  // True when no transaction is open (SQLite rolls back by itself on some I/O errors).
  bool InAutocommit() const;

  sqlite3* raw() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace clinshub::store::sqlite
