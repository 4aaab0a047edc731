#include "api/page_cache.h"

#include <gtest/gtest.h>

#include <thread>

namespace clinshub::api {
namespace {

SearchSnapshot Snapshot(const std::string& actor, size_t entries, size_t entry_bytes = 10) {
  SearchSnapshot s;
  s.actor_kind = "institution";
  s.actor_id = actor;
  s.person_key = "P1";
  s.resource_type = "Condition";
  for (size_t i = 0; i < entries; ++i) {
    s.entries.push_back({std::string(entry_bytes, 'x'), "b/" + std::to_string(i), false});
  }
  return s;
}

TEST(PageCacheTest, SnapshotsExpireAfterTheirTtl) {
  ManualClock clock(Timestamp(std::chrono::seconds(1000)));
  PageCache cache(clock, {.max_entries = 10, .max_bytes = 1 << 20, .ttl = std::chrono::seconds(60)});
  ASSERT_TRUE(cache.Put("t1", Snapshot("a", 3)));
  clock.Advance(std::chrono::seconds(59));
  auto s = cache.Get("t1");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->entries.size(), 3u);
  EXPECT_EQ(s->actor_id, "a");
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(cache.Get("t1"), nullptr);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_EQ(cache.Get("never"), nullptr);
}

TEST(PageCacheTest, TheOldestSnapshotsMakeRoomByCountAndBytes) {
  ManualClock clock(Timestamp(std::chrono::seconds(1000)));
  PageCache by_count(clock, {.max_entries = 2, .max_bytes = 1 << 20, .ttl = std::chrono::seconds(60)});
  by_count.Put("a", Snapshot("x", 1));
  by_count.Put("b", Snapshot("x", 1));
  by_count.Put("c", Snapshot("x", 1));
  EXPECT_EQ(by_count.Get("a"), nullptr);
  EXPECT_NE(by_count.Get("b"), nullptr);
  EXPECT_NE(by_count.Get("c"), nullptr);

  const size_t one = Snapshot("x", 10, 1000).bytes();
  PageCache by_bytes(clock, {.max_entries = 100, .max_bytes = one * 2 + one / 2,
                             .ttl = std::chrono::seconds(60)});
  by_bytes.Put("a", Snapshot("x", 10, 1000));
  by_bytes.Put("b", Snapshot("x", 10, 1000));
  by_bytes.Put("c", Snapshot("x", 10, 1000));
  EXPECT_EQ(by_bytes.Get("a"), nullptr);
  EXPECT_NE(by_bytes.Get("c"), nullptr);
  EXPECT_LE(by_bytes.bytes(), by_bytes.options().max_bytes);
  EXPECT_FALSE(by_bytes.Put("huge", Snapshot("x", 100, 1000))) << "larger than the cache";
  EXPECT_NE(by_bytes.Get("c"), nullptr) << "a refused snapshot evicts nothing";
}

TEST(PageCacheTest, ConcurrentUseIsSafe) {
  ManualClock clock(Timestamp(std::chrono::seconds(1000)));
  PageCache cache(clock, {.max_entries = 50, .max_bytes = 1 << 20, .ttl = std::chrono::seconds(60)});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        std::string token = std::to_string(t) + "-" + std::to_string(i);
        cache.Put(token, Snapshot("x", 2));
        (void)cache.Get(token);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(cache.size(), 50u);
}

}  // namespace
}  // namespace clinshub::api
