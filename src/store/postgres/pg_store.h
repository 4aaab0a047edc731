// The production Store: PostgreSQL 15 (or a PostgreSQL-protocol engine) through libpq.
//
// Writes go through one writer thread per store with its own connection, committing in
// groups exactly like the SQLite store: every batch queued while the previous group was being
// committed is applied in the next transaction, each inside its own SAVEPOINT (a failed
// precondition rolls back only its batch), and the group costs one COMMIT, i.e. one WAL flush
// on the server. Commit() returns once COMMIT has returned, i.e. once the server made the
// batch durable (synchronous_commit = on, the server default, is required for the contract).
// Row locks (SELECT … FOR UPDATE) keep several hub processes sharing one database correct; a
// write race lost to another process is kConflict.
//
// Round trips: the writer sends its statements as libpq pipelines (PostgreSQL 14+ client). A
// batch's reads (current versions, units, referral and consent states, the audit head) go out
// together with its SAVEPOINT, and its writes — multi-row INSERTs of its versions, current rows
// and items — with its RELEASE (and the group's COMMIT): about two round trips per batch
// whatever its size, where one statement per row cost ~3 per resource.
//
// Audit: the hash chain is one chain per schema. A group holding an AppendAudit takes a
// transaction-scoped advisory lock (keyed by the schema) before any row lock and before it
// reads the chain head, so appends of every process sharing the database form one chain.
//
// Reads use a pool of `connections` connections, handed out one call at a time.
//
// Connection loss: a call on a lost connection fails with kUnavailable; the connection is
// dropped and the next call connects anew (re-preparing its statements), so the store recovers
// by itself once the server is back. A COMMIT cut off by the loss reports kUnavailable although
// the server may have committed it: the caller retries, and resends are idempotent.
//
// Thread-safe. The destructor completes every queued commit, then closes the connections.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"
#include "store/store.h"

namespace clinshub::store {

struct PostgresOptions {
  // libpq connection string: a postgresql:// URI or key=value pairs.
  std::string conninfo;

  // Schema holding the store's tables ([A-Za-z0-9_]{1,63}); created if missing and put first
  // on every connection's search_path. Empty: the connection's default (normally public).
  std::string schema;

  // Read connections in the pool (concurrent reads beyond this wait for a free one). The
  // writer has one more of its own.
  int connections = 4;

  // Upper bound of batches per group transaction, to bound the latency of the first caller.
  int max_group_batches = 512;

  // Allocates the logical ids of reporting units' Bundles. Borrowed (must outlive the store);
  // nullptr: the store uses its own RandomIdGenerator.
  IdGenerator* ids = nullptr;
};

// Connects, applies pending migrations and opens the pool. kUnavailable if the server cannot
// be reached, kInternal if its schema is newer than this build. `clock` must outlive the store.
Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options,
                                                 const Clock& clock);

// Applies pending migrations and returns (for `clinshub migrate`); only conninfo and schema
// of `options` are used.
Status MigratePostgres(const PostgresOptions& options, const Clock& clock);

}  // namespace clinshub::store
