#include "api/page_cache.h"

namespace clinshub::api {

size_t SearchSnapshot::bytes() const {
  size_t n = sizeof(*this) + self_query.size() + include_json.size() + person_key.size() +
             actor_id.size();
  for (const std::string& o : outcome_json) n += o.size();
  for (const SnapshotEntry& e : entries) n += sizeof(e) + e.json.size() + e.item_ref.size();
  return n;
}

PageCache::PageCache(const Clock& clock, Options options)
    : clock_(clock), options_(options) {}

bool PageCache::Put(const std::string& token, SearchSnapshot snapshot) {
  const size_t bytes = snapshot.bytes();
  if (bytes > options_.max_bytes || options_.max_entries == 0) return false;
  const Timestamp now = clock_.Now();
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = slots_.find(token); it != slots_.end()) EraseLocked(it);
  EvictLocked(now);
  while (!order_.empty() &&
         (slots_.size() + 1 > options_.max_entries || bytes_ + bytes > options_.max_bytes)) {
    EraseLocked(slots_.find(order_.front()));
  }
  order_.push_back(token);
  Slot slot{std::make_shared<const SearchSnapshot>(std::move(snapshot)), now + options_.ttl,
            bytes, std::prev(order_.end())};
  slots_.emplace(token, std::move(slot));
  bytes_ += bytes;
  return true;
}

std::shared_ptr<const SearchSnapshot> PageCache::Get(const std::string& token) {
  const Timestamp now = clock_.Now();
  std::lock_guard<std::mutex> lock(mu_);
  EvictLocked(now);
  auto it = slots_.find(token);
  if (it == slots_.end()) return nullptr;
  return it->second.snapshot;
}

size_t PageCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return slots_.size();
}

size_t PageCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

void PageCache::EraseLocked(std::map<std::string, Slot>::iterator it) {
  bytes_ -= it->second.bytes;
  order_.erase(it->second.age);
  slots_.erase(it);
}

// Snapshots are inserted with the same TTL, so expiry order is insertion order (unless the
// clock went backwards, in which case a later one may expire first and simply waits).
void PageCache::EvictLocked(Timestamp now) {
  while (!order_.empty()) {
    auto it = slots_.find(order_.front());
    if (it->second.expires > now) break;
    EraseLocked(it);
  }
}

}  // namespace clinshub::api
