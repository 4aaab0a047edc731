// Retention purge for the PostgreSQL store (Store::Purge, store/records.h RetentionPolicy).
// Private to store/postgres. The same rules, windows and counts as the SQLite purge — read
// src/store/sqlite/purge_sqlite.h for what expires when; both backends pass the same contract
// tests (store_retention_test_suite.cc).
//
// How it runs here: pg_store.cc queues each step on its writer thread as a job of its own,
// between commit groups (as SQLite does), on the writer connection, so a purge never runs
// beside this process's own group transaction and commits keep flowing between its steps.
// Each step is one transaction over one bounded window of one table, walked in primary-key
// order (keyset paging), so no lock is held for long:
//   1. item     — one SELECT of the window (key + "expired?"), one DELETE of its expired keys
//                 (unnest arrays) that re-checks the expiry on the row it deletes: another
//                 process may have replaced the unit in between, re-inserting the same keys.
//   2. unit     — the window's unit rows are locked (FOR UPDATE: every writer locks the unit
//                 row before touching its Bundle or items), then one query gathers, per unit,
//                 its referral recipients, live items, Bundle versions and superseded versions;
//                 expired units lose everything they own in five set-wise DELETEs (child rows
//                 first: resource_current references resource_version, referral_consent
//                 references unit), the others their superseded Bundle versions.
//   3. consent  — like items (the DELETE re-checks expiry).
// A dry run runs the same window queries without locking or deleting and counts from them, so
// its report equals what a real purge at the same instant deletes. The audit table is never
// touched; the caller audits the purge with its counts (server/retention_job.cc).
#pragma once

#include <functional>

#include "common/clock.h"
#include "common/result.h"
#include "store/postgres/pg_conn.h"
#include "store/records.h"
#include "store/retention_cutoffs.h"

namespace clinshub::store::postgres {

// One step of a purge: opens its own transaction on the connection, does a bounded amount of
// work, commits. On error the runner rolls the transaction back.
using PurgeStep = std::function<Status(PgConnection& writer)>;

// Runs `step` on the writer connection (the writer thread) and returns its status.
using RunOnWriter = std::function<Status(PurgeStep step)>;

using store::PurgeWindows;  // retention_cutoffs.h: the same windows on every backend

Result<PurgeReport> PurgeExpired(const RetentionPolicy& policy, Timestamp now, bool dry_run,
                                 const RunOnWriter& run, PurgeWindows windows = {});

}  // namespace clinshub::store::postgres
