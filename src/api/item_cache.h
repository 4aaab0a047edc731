// The current items of recently read persons, each with its $summary entry rendered once,
// kept while the store's item generation for the person stays the same (Store::
// ItemsGeneration moves on in the transaction of every change to a person's items, in any
// process sharing the store). A summary of a cached person is then one generation lookup and
// the concatenation of entries, instead of reading, decoding and rendering every item (issue
// 7: the summary spent three quarters of its time there).
//
// What is cached is the same for every viewer: who may see which item (src/access), the
// 検査/処方 windows and the request's filters are applied per request on top of it.
//
// Thread-safe; the persons are spread over shards, each with its own lock. Bounded by bytes;
// the least recently used persons go first. A budget of 0 turns caching off (every Get reads
// the store).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/gzip.h"
#include "common/result.h"
#include "store/store.h"

namespace clinshub::api {

class ItemCache {
 public:
  struct CachedItem {
    // As ListItems returned it, except stored.item.json, which is empty: the JSON is kept
    // once, inside `entry` (see json()).
    store::StoredItem stored;
    std::string ref;    // "bundle_id/ordinal": the audit trail's name for the item
    std::string entry;  // its rendered $summary Bundle.entry (summary.cc RenderSummaryEntry)
    size_t json_at = 0;  // where the item's resource JSON lies in `entry`
    size_t json_size = 0;
    std::string_view json() const { return std::string_view(entry).substr(json_at, json_size); }
  };
  using Items = std::shared_ptr<const std::vector<CachedItem>>;
  // Renders an item's entry; sets *json_at to where the item's JSON starts in it.
  using Renderer = std::function<std::string(const store::StoredItem&, size_t* json_at)>;

  ItemCache(size_t max_bytes, Renderer render);
  ItemCache(const ItemCache&) = delete;
  ItemCache& operator=(const ItemCache&) = delete;

  // The person's current items in ListItems order: the cached ones while the person's item
  // generation is unchanged, else read from `store` (and kept, unless the items changed
  // while they were being read). Store errors pass through.
  Result<Items> Get(store::Store& store, const std::string& person_key);

  // A deflated text made from a selection of the person's cached items (the gzip-coded
  // summary's entries, summary.cc), kept with them so that the next request for the same
  // selection splices it instead of compressing again. `selection` names the items by index
  // in `items`, in order. Made by `make` when not yet kept; returns null when `items` is not
  // what the cache holds for the person now (caching off, evicted, or the items changed):
  // then there is nothing to keep it with, and the caller codes its body itself.
  std::shared_ptr<const DeflatedRun> KeptRun(const std::string& person_key, const Items& items,
                                             const std::vector<uint32_t>& selection,
                                             const std::function<DeflatedRun()>& make);

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    size_t persons = 0;
    size_t bytes = 0;
  };
  Stats stats() const;

 private:
  struct Node {
    int64_t generation = 0;
    Items items;
    size_t bytes = 0;
    std::list<std::string>::iterator lru;  // position in the shard's recency list
    // KeptRun's runs, by selection; a few per person (viewers differ only where an item is
    // hidden from some of them).
    std::vector<std::pair<std::vector<uint32_t>, std::shared_ptr<const DeflatedRun>>> runs;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Node> persons;
    std::list<std::string> recency;  // most recently used first
    size_t bytes = 0;
  };
  static constexpr size_t kShards = 16;

  Shard& ShardOf(const std::string& person_key);
  void Put(Shard& shard, const std::string& person_key, int64_t generation, Items items,
           size_t bytes);
  // Drops the least recently used persons other than `keep` until the shard fits `incoming`
  // more bytes. Called with shard.mu held.
  void MakeRoom(Shard& shard, size_t incoming, const std::string* keep);

  const size_t max_shard_bytes_;
  const Renderer render_;
  Shard shards_[kShards];
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace clinshub::api
