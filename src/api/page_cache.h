// Snapshots of search results for stable paging (https://hl7.org/fhir/R4/http.html#paging):
// the first page of a search stores the full ordered result here under a random token, and
// `next` / `previous` links page through that snapshot, so writes between pages neither skip
// nor repeat entries. Bounded by entry count and bytes (the oldest snapshot is evicted first)
// and expiring after a TTL measured on the injected Clock. Each snapshot remembers who asked
// (actor and person); only that caller may read it. Thread-safe; holds no clinical data longer
// than the TTL.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace clinshub::api {

// One matched resource, ready to serve: its entry JSON and its audit reference.
struct SnapshotEntry {
  std::string json;      // the complete Bundle.entry object, compact JSON
  std::string item_ref;  // "bundle_id/ordinal"
  bool patient_hidden = false;  // 未告知: listed in the audit event's patient_hidden_items
};

struct SearchSnapshot {
  std::string actor_kind;  // who asked (access::ActorKindName) …
  std::string actor_id;    // … and their id
  std::string person_key;  // whose data
  std::string resource_type;
  std::string self_query;  // the search as understood, for the self link of page 1
  std::string include_json;  // an _include entry served with every non-empty page, or ""
  std::vector<std::string> outcome_json;  // OperationOutcome entries (lenient), every page
  std::vector<SnapshotEntry> entries;
  size_t bytes() const;
};

class PageCache {
 public:
  struct Options {
    size_t max_entries = 10000;
    size_t max_bytes = size_t{256} << 20;  // 256 MB
    std::chrono::seconds ttl{15 * 60};
  };

  PageCache(const Clock& clock, Options options);

  // Stores the snapshot under `token` (a fresh random id), evicting expired snapshots and then
  // the oldest ones until both bounds hold. A snapshot larger than max_bytes is not stored
  // (returns false: the caller serves the first page without paging links beyond it).
  bool Put(const std::string& token, SearchSnapshot snapshot);

  // The snapshot, or nullptr if the token is unknown, expired or evicted (all the same to a
  // client: run the search again). The snapshot is immutable and shared.
  std::shared_ptr<const SearchSnapshot> Get(const std::string& token);

  size_t size() const;
  size_t bytes() const;
  const Options& options() const { return options_; }

 private:
  struct Slot {
    std::shared_ptr<const SearchSnapshot> snapshot;
    Timestamp expires;
    size_t bytes = 0;
    std::list<std::string>::iterator age;  // position in order_ (oldest first)
  };
  void EraseLocked(std::map<std::string, Slot>::iterator it);
  void EvictLocked(Timestamp now);

  const Clock& clock_;
  const Options options_;
  mutable std::mutex mu_;
  std::map<std::string, Slot> slots_;
  std::list<std::string> order_;
  size_t bytes_ = 0;
};

}  // namespace clinshub::api
