#include "api/item_cache.h"

#include <utility>

namespace clinshub::api {
namespace {

// What one cached item costs beyond its strings' characters: the structs, the strings'
// headers and the allocator's rounding. An estimate; it only has to keep the budget honest.
constexpr size_t kItemOverhead = 512;
// The same for one kept run, and how many runs a person keeps at most.
constexpr size_t kRunOverhead = 128;
constexpr size_t kRunsPerPerson = 4;

size_t BytesOf(const ItemCache::CachedItem& c) {
  const store::StoredItem& s = c.stored;
  return kItemOverhead + c.entry.size() + c.ref.size() +
         s.person_key.size() + s.bundle_id.size() + s.institution.size() +
         s.item.resource_type.size() + s.item.code_system.size() + s.item.code.size() +
         s.item.text.size();
}

}  // namespace

ItemCache::ItemCache(size_t max_bytes, Renderer render)
    : max_shard_bytes_(max_bytes / kShards), render_(std::move(render)) {}

ItemCache::Shard& ItemCache::ShardOf(const std::string& person_key) {
  return shards_[std::hash<std::string>{}(person_key) % kShards];
}

Result<ItemCache::Items> ItemCache::Get(store::Store& store, const std::string& person_key) {
  Result<int64_t> generation = store.ItemsGeneration(person_key);
  if (!generation.ok()) return generation.take_status();
  Shard& shard = ShardOf(person_key);
  if (max_shard_bytes_ > 0) {
    std::lock_guard lock(shard.mu);
    auto it = shard.persons.find(person_key);
    if (it != shard.persons.end() && it->second.generation == *generation) {
      shard.recency.splice(shard.recency.begin(), shard.recency, it->second.lru);
      hits_.fetch_add(1, std::memory_order_relaxed);
      return it->second.items;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  Result<std::vector<store::StoredItem>> listed = store.ListItems(person_key);
  if (!listed.ok()) return listed.take_status();
  auto items = std::make_shared<std::vector<CachedItem>>();
  items->reserve(listed->size());
  size_t bytes = 0;
  for (store::StoredItem& stored : *listed) {
    CachedItem c;
    c.ref = stored.bundle_id + "/" + std::to_string(stored.ordinal);
    c.entry = render_(stored, &c.json_at);
    // The entry holds the item's JSON; the copy in `stored` is not needed again.
    c.json_size = stored.item.json.size();
    stored.item.json.clear();
    stored.item.json.shrink_to_fit();
    c.stored = std::move(stored);
    bytes += BytesOf(c);
    items->push_back(std::move(c));
  }
  Items shared = std::move(items);
  if (max_shard_bytes_ > 0 && bytes <= max_shard_bytes_) {
    // Kept only if nothing changed while the items were read: then they are exactly the
    // items of `generation` (a change in between would have moved it on).
    Result<int64_t> after = store.ItemsGeneration(person_key);
    if (after.ok() && *after == *generation) Put(shard, person_key, *generation, shared, bytes);
  }
  return shared;
}

void ItemCache::Put(Shard& shard, const std::string& person_key, int64_t generation,
                    Items items, size_t bytes) {
  std::lock_guard lock(shard.mu);
  auto it = shard.persons.find(person_key);
  if (it != shard.persons.end()) {
    // Another request cached the person meanwhile: keep whichever is newer.
    if (it->second.generation > generation) return;
    shard.bytes -= it->second.bytes;
    shard.recency.erase(it->second.lru);
    shard.persons.erase(it);
  }
  MakeRoom(shard, bytes, nullptr);
  shard.recency.push_front(person_key);
  Node node;
  node.generation = generation;
  node.items = std::move(items);
  node.bytes = bytes;
  node.lru = shard.recency.begin();
  shard.persons.emplace(person_key, std::move(node));
  shard.bytes += bytes;
}

void ItemCache::MakeRoom(Shard& shard, size_t incoming, const std::string* keep) {
  auto victim = shard.recency.end();
  while (shard.bytes + incoming > max_shard_bytes_ && victim != shard.recency.begin()) {
    --victim;
    if (keep != nullptr && *victim == *keep) continue;
    auto node = shard.persons.find(*victim);
    shard.bytes -= node->second.bytes;
    shard.persons.erase(node);
    victim = shard.recency.erase(victim);
  }
}

std::shared_ptr<const DeflatedRun> ItemCache::KeptRun(const std::string& person_key,
                                                      const Items& items,
                                                      const std::vector<uint32_t>& selection,
                                                      const std::function<DeflatedRun()>& make) {
  if (max_shard_bytes_ == 0) return nullptr;
  Shard& shard = ShardOf(person_key);
  {
    std::lock_guard lock(shard.mu);
    auto it = shard.persons.find(person_key);
    if (it == shard.persons.end() || it->second.items != items) return nullptr;
    for (const auto& [kept_selection, run] : it->second.runs) {
      if (kept_selection == selection) return run;
    }
  }
  // Compressed outside the lock; two requests may both make it, and the first kept wins.
  auto run = std::make_shared<const DeflatedRun>(make());
  const size_t bytes = kRunOverhead + run->deflated.size() + selection.size() * sizeof(uint32_t);
  std::lock_guard lock(shard.mu);
  auto it = shard.persons.find(person_key);
  if (it == shard.persons.end() || it->second.items != items) return run;
  Node& node = it->second;
  for (const auto& [kept_selection, kept] : node.runs) {
    if (kept_selection == selection) return kept;
  }
  if (node.runs.size() >= kRunsPerPerson) {
    const size_t dropped = kRunOverhead + node.runs.front().second->deflated.size() +
                           node.runs.front().first.size() * sizeof(uint32_t);
    node.bytes -= dropped;
    shard.bytes -= dropped;
    node.runs.erase(node.runs.begin());
  }
  MakeRoom(shard, bytes, &person_key);
  node.runs.emplace_back(selection, run);
  node.bytes += bytes;
  shard.bytes += bytes;
  return run;
}

ItemCache::Stats ItemCache::stats() const {
  Stats s;
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    s.persons += shard.persons.size();
    s.bytes += shard.bytes;
  }
  return s;
}

}  // namespace clinshub::api
