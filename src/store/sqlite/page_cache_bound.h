// SQLite's default page cache (pcache1), wrapped so that ending a transaction does not scan the
// whole cache.
//
// At the end of every transaction the pager truncates its cache to the database size, and
// pcache1 does that cheaply only when its highest key is near that size. A B-tree balance that
// renumbers sibling pages parks one of them, for an instant, at the page after the 1 GB lock
// byte (PENDING_BYTE / page size + 1 = 262,145 with 4 KB pages): pcache1 then believes pages up
// to there may exist and walks every cached page (all ~16 k of the writer's 64 MB) at the end of
// that transaction. That was 12 % of the writer thread in the summary run and ~2 % of the
// server's CPU in ingest (docs/performance.md, "also found").
//
// The wrapper keeps, per cache, an upper bound on the keys of the pages it holds — every key
// fetched with create, every key a page is renumbered to except that parking key (the balance
// always renumbers the page away again before it returns) — and skips a truncate when no page
// can be at or above its limit. Everything else goes to pcache1 unchanged.
#pragma once

#include <cstdint>

namespace clinshub::store::sqlite {

// Installs the wrapper (SQLITE_CONFIG_PCACHE2). Must run before SQLite initialises; returns
// false if it had (SQLite then keeps pcache1 as it is, which is correct, only slower).
bool InstallPageCacheBound();

// Truncates the wrapper answered without asking pcache1 (for tests and diagnostics).
uint64_t PageCacheTruncatesSkipped();

}  // namespace clinshub::store::sqlite
