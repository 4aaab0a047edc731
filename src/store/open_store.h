// Opens the Store a location names, so that callers (the server, `clinshub migrate`, tools)
// never pick a backend themselves:
//
//   postgresql://… or postgres://…   PostgreSQL (libpq URI). One parameter is ours, not libpq's:
//                                     `schema=NAME` keeps the tables in that schema (created
//                                     if missing); the rest goes to libpq as is.
//   sqlite:PATH                       SQLite at PATH (a directory or a database file)
//   PATH                              SQLite at PATH
//
// Errors: kMalformed for an empty location; otherwise the backend's (kUnavailable when the
// database cannot be reached, kInternal when its schema is newer than this build).
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"
#include "store/store.h"

namespace clinshub::store {

enum class StoreBackend { kSqlite, kPostgres };

struct StoreLocation {
  StoreBackend backend = StoreBackend::kSqlite;
  std::string target;  // the SQLite path, or the libpq connection URI without `schema=`
  std::string schema;  // PostgreSQL: the `schema=` parameter, else empty
};

// Classifies a location (see above). kMalformed if empty.
Result<StoreLocation> ParseStoreLocation(const std::string& url_or_path);

struct OpenStoreOptions {
  // Pooled read connections (SQLite: read connections; PostgreSQL: server connections; each
  // backend's writer has one more).
  int connections = 4;
  // SQLite: fsync every read's audit event before the read answers. Off (the default), a
  // commit group holding only read audits is written to the WAL without an fsync: it survives
  // kill -9, and a power loss can lose at most ~50 ms of read audits (docs/reliability.md).
  bool fsync_read_audits = false;
  // Borrowed id generator for reporting units' Bundles; nullptr: random ids.
  IdGenerator* ids = nullptr;
};

// Opens (creating and migrating as needed). `clock` must outlive the store.
Result<std::unique_ptr<Store>> OpenStore(const std::string& url_or_path,
                                         const OpenStoreOptions& options, const Clock& clock);

// Applies pending schema migrations and closes again (`clinshub migrate`).
Status MigrateStore(const std::string& url_or_path, const Clock& clock);

// The location with any password replaced by "***", fit for logs.
std::string RedactStoreLocation(const std::string& url_or_path);

}  // namespace clinshub::store
