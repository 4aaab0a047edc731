// Retention purge for the SQLite store (Store::Purge, store/records.h RetentionPolicy). Private
// to store/sqlite: sqlite_store.cc runs each step on its writer thread, between commit groups,
// so concurrent commits keep flowing while a large purge proceeds.
//
// The purge walks three tables in primary-key order, a bounded window per transaction
// (keyset paging: `WHERE (pk) > (last pk seen) ORDER BY pk LIMIT n`):
//   1. item     — an item row whose `registered` is at or before its cutoff goes
//                 (cutoff = now - period of its kind; LTS-flagged items: now - max(period,
//                 long_term)).
//   2. unit     — a unit is removed with everything it owns (items, every Bundle version,
//                 resource_current, referral_consent rows, the unit row) when it expired:
//                   withdrawn:                last_changed + superseded_versions
//                   "checkup":                last_changed + checkups
//                   "discharge-summary":      last_changed + discharge_summaries
//                   "referral":               every recipient retrieved → last retrieval +
//                                             referral_after_retrieval; none retrieved (or no
//                                             recipient) → last_changed + referral_unretrieved;
//                                             some retrieved → the later of the two
//                   any other kind (6情報):    no unexpired item left and last_changed + the
//                                             shortest item period (a unit with no items at
//                                             all never outlives its shortest item period)
//                 A unit that stays loses its superseded Bundle versions: version v goes once
//                 version v+1 is older than superseded_versions, i.e. every version below the
//                 newest version whose last_updated <= now - superseded_versions.
//   3. consent  — expires or revoked at or before now - consents.
// "At or before the cutoff" means: data registered at T is gone from the first purge at or
// after T + period, and kept by any purge before it.
//
// A dry run walks the same windows with the same queries and counts instead of deleting, so
// its report equals what a real purge at the same instant would delete.
// The audit table is never touched.
#pragma once

#include <functional>

#include "common/clock.h"
#include "common/result.h"
#include "store/records.h"
#include "store/retention_cutoffs.h"
#include "store/sqlite/sqlite_db.h"

namespace clinshub::store::sqlite {

// One step of a purge: opens its own transaction on the connection, does a bounded amount of
// work, commits (or rolls back on error).
using PurgeStep = std::function<Status(Connection& writer)>;

// Runs `step` on the writer connection (the writer thread) and returns its status.
using RunOnWriter = std::function<Status(PurgeStep step)>;

using store::PurgeWindows;  // retention_cutoffs.h: the same windows on every backend

Result<PurgeReport> PurgeExpired(const RetentionPolicy& policy, Timestamp now, bool dry_run,
                                 const RunOnWriter& run, PurgeWindows windows = {});

}  // namespace clinshub::store::sqlite
