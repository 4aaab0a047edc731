// The embedded Store: one SQLite database file in WAL mode.
//
// Writes go through one writer thread that commits in groups: every batch queued while the
// previous group was being made durable is applied in the next transaction, each inside its
// own SAVEPOINT (so one batch's failed precondition does not touch the others), and the whole
// group costs one fsync. Reads use a small pool of read-only connections and run concurrently
// with the writer (WAL readers see the last committed state and never block it).
//
// Thread-safe. The destructor completes every queued commit, then closes the database.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"
#include "store/store.h"

namespace clinshub::store {

struct SqliteOptions {
  // An existing directory (the database is `clinshub.sqlite3` inside it) or a database file
  // path (its directory must exist). The file is created if missing.
  std::string path;

  // FULL: every commit group is fsynced before Commit() returns; survives power loss.
  // NORMAL: WAL is synced only at checkpoints; survives a process crash (kill -9) but a power
  // loss may drop the last commits. Only FULL meets the Store durability contract.
  enum class Synchronous { kFull, kNormal };
  Synchronous synchronous = Synchronous::kFull;

  // Read connections in the pool (concurrent reads beyond this wait for a free one).
  int read_connections = 4;

  // Page caches, KiB (SQLite's default is 2 MB): the writer's, and each read connection's.
  int writer_cache_kib = 64 * 1024;
  int reader_cache_kib = 16 * 1024;

  // How long a statement waits on a lock held by another process before kUnavailable.
  int busy_timeout_ms = 5000;

  // Upper bound of batches per group transaction, to bound the latency of the first caller.
  int max_group_batches = 512;

  // WAL checkpoints run on a background thread with its own connection, never inline on the
  // writer thread (SQLite's auto-checkpoint copied pages back into the database file during a
  // commit: ~10 % of the serial writer's time). A PASSIVE checkpoint (it never blocks the
  // writer or readers) starts once the WAL holds `checkpoint_pages` frames; once it holds
  // `truncate_pages` (the passive ones did not keep up, or readers kept the WAL pinned) a
  // TRUNCATE checkpoint briefly blocks the writer to bound the file's size.
  int checkpoint_pages = 1000;
  int truncate_pages = 16000;

  // Read audits without a FULL fsync. Every read commits its audit event before it answers;
  // waiting for an fsync (~8 ms here) behind the single writer made that the reads' latency.
  // A commit group made only of batches holding nothing but AppendAudit ops commits with
  // synchronous=NORMAL instead: in WAL mode its frames reach the OS before Commit() returns,
  // so it still survives kill -9 of the server; only a power loss (or kernel crash) before the
  // WAL's next fsync could lose it. That window is bounded: the next FULL commit fsyncs the
  // whole WAL, and if none comes within `relaxed_sync_flush_ms` the writer fsyncs the WAL
  // itself (or runs the next group at FULL if it is never idle). Default on: losing the last
  // ~50 ms of read audits to a power cut is the documented trade (docs/reliability.md); set
  // false to fsync every read audit. Ignored with Synchronous::kNormal (nothing is fsynced).
  bool relaxed_read_audit_sync = true;
  int relaxed_sync_flush_ms = 50;

  // Allocates the logical ids of reporting units' Bundles. Borrowed (must outlive the store);
  // nullptr: the store uses its own RandomIdGenerator.
  IdGenerator* ids = nullptr;
};

// The file a SqliteOptions::path resolves to.
std::string SqliteDatabaseFile(const std::string& path);

// Opens (creating and migrating as needed) the store. Errors: kUnavailable if the file cannot
// be opened or locked, kInternal if its schema is newer than this build or it is damaged.
// `clock` must outlive the store.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options, const Clock& clock);

}  // namespace clinshub::store
