#include "store/sqlite/page_cache_bound.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <new>

namespace clinshub::store::sqlite {
namespace {

// SQLite's os.h: the byte range SQLite locks, never part of a page it uses.
constexpr unsigned kPendingByte = 0x40000000;

sqlite3_pcache_methods2 g_base;  // pcache1's methods, set once before SQLite initialises
std::atomic<uint64_t> g_skipped{0};

// One page cache. SQLite serialises the calls on one cache (it belongs to one connection's
// pager, and connections are opened SQLITE_OPEN_NOMUTEX and used by one thread at a time).
struct BoundedCache {
  sqlite3_pcache* inner;
  unsigned parking_key;  // the key a balance parks a page at while renumbering
  unsigned bound = 0;    // no page of this cache has a key above it (but the parking key)
};

BoundedCache* Cast(sqlite3_pcache* p) { return reinterpret_cast<BoundedCache*>(p); }

int Init(void*) { return g_base.xInit(g_base.pArg); }
void Shutdown(void*) { g_base.xShutdown(g_base.pArg); }

sqlite3_pcache* Create(int page_size, int extra_size, int purgeable) {
  sqlite3_pcache* inner = g_base.xCreate(page_size, extra_size, purgeable);
  if (inner == nullptr) return nullptr;
  auto* cache = new (std::nothrow) BoundedCache{
      inner, kPendingByte / static_cast<unsigned>(std::max(page_size, 1)) + 1};
  if (cache == nullptr) {
    g_base.xDestroy(inner);
    return nullptr;
  }
  return reinterpret_cast<sqlite3_pcache*>(cache);
}

void Cachesize(sqlite3_pcache* p, int pages) { g_base.xCachesize(Cast(p)->inner, pages); }
int Pagecount(sqlite3_pcache* p) { return g_base.xPagecount(Cast(p)->inner); }

sqlite3_pcache_page* Fetch(sqlite3_pcache* p, unsigned key, int create) {
  BoundedCache* cache = Cast(p);
  // Only a fetch that may create adds a page; bound it whatever the key (the parking key too:
  // nothing fetches it with create, and if something did, truncates would just not be skipped).
  if (create != 0) cache->bound = std::max(cache->bound, key);
  return g_base.xFetch(cache->inner, key, create);
}

void Unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
  g_base.xUnpin(Cast(p)->inner, page, discard);
}

void Rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
  BoundedCache* cache = Cast(p);
  // btree.c balance_nonroot renumbers A → parking, B → A, parking → B in one go, so no page
  // is at the parking key when a transaction ends.
  if (new_key != cache->parking_key) cache->bound = std::max(cache->bound, new_key);
  g_base.xRekey(cache->inner, page, old_key, new_key);
}

void Truncate(sqlite3_pcache* p, unsigned limit) {
  BoundedCache* cache = Cast(p);
  if (limit > cache->bound) {  // no page at or above `limit`: nothing to drop
    g_skipped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  g_base.xTruncate(cache->inner, limit);
  cache->bound = limit - 1;
}

void Destroy(sqlite3_pcache* p) {
  BoundedCache* cache = Cast(p);
  g_base.xDestroy(cache->inner);
  delete cache;
}

void Shrink(sqlite3_pcache* p) { g_base.xShrink(Cast(p)->inner); }

}  // namespace

bool InstallPageCacheBound() {
  static const bool installed = [] {
    if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &g_base) != SQLITE_OK) return false;
    if (g_base.iVersion < 1 || g_base.xFetch == nullptr) return false;
    static const sqlite3_pcache_methods2 wrapped = {
        1,         nullptr, &Init,   &Shutdown, &Create,  &Cachesize, &Pagecount,
        &Fetch,    &Unpin,  &Rekey,  &Truncate, &Destroy, &Shrink};
    return sqlite3_config(SQLITE_CONFIG_PCACHE2, &wrapped) == SQLITE_OK;
  }();
  return installed;
}

uint64_t PageCacheTruncatesSkipped() { return g_skipped.load(std::memory_order_relaxed); }

}  // namespace clinshub::store::sqlite
