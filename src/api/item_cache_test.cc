#include "api/item_cache.h"

#include <stdlib.h>

#include <filesystem>
#include <atomic>
#include <random>
#include <thread>
#include <string>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "fhir/json.h"
#include "store/sqlite/sqlite_store.h"

namespace clinshub::api {
namespace {

constexpr const char* kSystem = "http://jpfhir.jp/fhir/clins/bundle-identifier";

// A unit of `n` Conditions for `person`, each noting `tag`.
store::PutUnit Unit(const std::string& person, const std::string& value, const std::string& tag,
                    int n) {
  store::PutUnit u;
  u.key = store::UnitKey{person, kSystem, value};
  u.institution = "1311234567";
  u.kind = "conditions";
  u.content_hash = "hash-" + tag + std::to_string(n);
  std::string entries;
  for (int i = 0; i < n; ++i) {
    const std::string json = R"({"resourceType":"Condition","id":"c)" + std::to_string(i) +
                             R"(","note":[{"text":")" + tag + R"("}]})";
    clins::Item item;
    item.kind = clins::ItemKind::kCondition;
    item.resource_type = "Condition";
    item.code = tag + "-" + std::to_string(i);
    item.json = json;
    item.entry = i;
    u.items.push_back(item);
    entries += std::string(i ? "," : "") + R"({"resource":)" + json + "}";
  }
  u.bundle = *fhir::ParseJson(R"({"resourceType":"Bundle","type":"collection","entry":[)" +
                              entries + "]}");
  return u;
}

// Entries rendered as "[<ref>]<json>", counting the renderings.
struct CountingRenderer {
  int* calls;
  std::string operator()(const store::StoredItem& item, size_t* json_at) const {
    ++*calls;
    std::string entry = "[" + item.bundle_id + "/" + std::to_string(item.ordinal) + "]";
    *json_at = entry.size();
    return entry + item.item.json;
  }
};

class ItemCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "item-cache-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    store_ = Open();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::unique_ptr<store::Store> Open() {
    store::SqliteOptions options;
    options.path = dir_;
    Result<std::unique_ptr<store::Store>> s = store::OpenSqliteStore(options, clock_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  void Commit(store::Store& store, store::PutUnit unit) {
    store::WriteBatch b;
    b.ops.push_back(std::move(unit));
    Result<store::CommitResult> c = store.Commit(std::move(b));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
  }
  static std::vector<std::string> Json(const ItemCache::Items& items) {
    std::vector<std::string> out;
    for (const ItemCache::CachedItem& c : *items) out.emplace_back(c.json());
    return out;
  }

  std::string dir_;
  ManualClock clock_{Timestamp(std::chrono::seconds(1'800'000'000))};
  std::unique_ptr<store::Store> store_;
  int renders_ = 0;
};

TEST_F(ItemCacheTest, AnUnchangedPersonIsServedFromTheCacheRenderedOnce) {
  Commit(*store_, Unit("p1", "u1", "first", 3));
  ItemCache cache(64 << 20, CountingRenderer{&renders_});
  Result<ItemCache::Items> a = cache.Get(*store_, "p1");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ((*a)->size(), 3u);
  EXPECT_EQ(renders_, 3);
  Result<ItemCache::Items> b = cache.Get(*store_, "p1");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->get(), b->get()) << "the second read was not the cached snapshot";
  EXPECT_EQ(renders_, 3);
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(cache.stats().misses, 1u);
  for (const ItemCache::CachedItem& c : **b) {
    EXPECT_EQ(c.entry, "[" + c.ref + "]" + std::string(c.json()));
    EXPECT_NE(c.json().find("first"), std::string_view::npos);
    EXPECT_TRUE(c.stored.item.json.empty());
  }
}

TEST_F(ItemCacheTest, AChangeToThePersonsItemsIsSeenAtOnceAndOtherPersonsStayCached) {
  Commit(*store_, Unit("p1", "u1", "first", 2));
  Commit(*store_, Unit("p2", "u2", "other", 1));
  ItemCache cache(64 << 20, CountingRenderer{&renders_});
  ASSERT_TRUE(cache.Get(*store_, "p1").ok());
  ASSERT_TRUE(cache.Get(*store_, "p2").ok());
  Commit(*store_, Unit("p1", "u1", "second", 2));  // replaced
  Result<ItemCache::Items> p1 = cache.Get(*store_, "p1");
  ASSERT_TRUE(p1.ok());
  for (const std::string& json : Json(*p1)) EXPECT_NE(json.find("second"), std::string::npos);
  const uint64_t misses = cache.stats().misses;
  ASSERT_TRUE(cache.Get(*store_, "p2").ok());
  EXPECT_EQ(cache.stats().misses, misses) << "p2 did not change but was read again";

  store::WriteBatch withdraw;
  withdraw.ops.push_back(store::WithdrawUnit{store::UnitKey{"p1", kSystem, "u1"}, "1311234567"});
  ASSERT_TRUE(store_->Commit(std::move(withdraw)).ok());
  p1 = cache.Get(*store_, "p1");
  ASSERT_TRUE(p1.ok());
  EXPECT_TRUE((*p1)->empty());
}

// The generation lives in the store, so a change made through another connection (another
// hub process, `clinshub purge`) is seen as well.
TEST_F(ItemCacheTest, AChangeMadeByAnotherStoreOnTheSameDatabaseIsSeen) {
  Commit(*store_, Unit("p1", "u1", "first", 2));
  ItemCache cache(64 << 20, CountingRenderer{&renders_});
  ASSERT_TRUE(cache.Get(*store_, "p1").ok());
  {
    std::unique_ptr<store::Store> other = Open();
    ASSERT_NE(other, nullptr);
    Commit(*other, Unit("p1", "u1", "elsewhere", 1));
  }
  Result<ItemCache::Items> p1 = cache.Get(*store_, "p1");
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ((*p1)->size(), 1u);
  EXPECT_NE(Json(*p1)[0].find("elsewhere"), std::string::npos);
}

TEST_F(ItemCacheTest, TheBudgetEvictsTheLeastRecentlyUsedAndZeroCachesNothing) {
  for (int i = 0; i < 40; ++i) {
    Commit(*store_, Unit("p" + std::to_string(i), "u", "tag", 2));
  }
  // Room for a few persons per shard at most.
  ItemCache small(16 * 3 * 1500, CountingRenderer{&renders_});
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(small.Get(*store_, "p" + std::to_string(i)).ok());
  EXPECT_LE(small.stats().bytes, size_t{16 * 3 * 1500});
  EXPECT_LT(small.stats().persons, 40u);
  EXPECT_GT(small.stats().persons, 0u);

  ItemCache off(0, CountingRenderer{&renders_});
  ASSERT_TRUE(off.Get(*store_, "p1").ok());
  ASSERT_TRUE(off.Get(*store_, "p1").ok());
  EXPECT_EQ(off.stats().hits, 0u);
  EXPECT_EQ(off.stats().misses, 2u);
  EXPECT_EQ(off.stats().persons, 0u);
}

TEST_F(ItemCacheTest, KeptRunsAreMadeOncePerSelectionAndDroppedWithTheirItems) {
  Commit(*store_, Unit("p1", "u1", "first", 3));
  ItemCache cache(64 << 20, CountingRenderer{&renders_});
  Result<ItemCache::Items> items = cache.Get(*store_, "p1");
  ASSERT_TRUE(items.ok());
  int made = 0;
  auto make_from = [&](const std::string& text) {
    return [&made, text] {
      ++made;
      return DeflateRun(text);
    };
  };
  std::shared_ptr<const DeflatedRun> all = cache.KeptRun("p1", *items, {0, 1, 2}, make_from("all"));
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->size, 3u);
  EXPECT_EQ(cache.KeptRun("p1", *items, {0, 1, 2}, make_from("again")), all);
  EXPECT_EQ(made, 1) << "the same selection was deflated twice";
  std::shared_ptr<const DeflatedRun> some = cache.KeptRun("p1", *items, {0, 2}, make_from("some"));
  EXPECT_NE(some, all);
  EXPECT_EQ(made, 2);
  // At most four selections per person: the oldest goes first.
  for (uint32_t i = 0; i < 4; ++i) cache.KeptRun("p1", *items, {i}, make_from("one"));
  EXPECT_EQ(made, 6);
  cache.KeptRun("p1", *items, {0, 1, 2}, make_from("all"));
  EXPECT_EQ(made, 7);

  // The person's items change: the old snapshot has nothing to keep runs with.
  Commit(*store_, Unit("p1", "u1", "second", 3));
  Result<ItemCache::Items> changed = cache.Get(*store_, "p1");
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(cache.KeptRun("p1", *items, {0, 1, 2}, make_from("stale")), nullptr);
  std::shared_ptr<const DeflatedRun> fresh =
      cache.KeptRun("p1", *changed, {0, 1, 2}, make_from("fresh"));
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(fresh->size, 5u);
  EXPECT_EQ(cache.KeptRun("nobody", *changed, {0}, make_from("x")), nullptr);

  ItemCache off(0, CountingRenderer{&renders_});
  Result<ItemCache::Items> uncached = off.Get(*store_, "p1");
  ASSERT_TRUE(uncached.ok());
  EXPECT_EQ(off.KeptRun("p1", *uncached, {0}, make_from("off")), nullptr);
}

// Readers getting items and runs while a writer changes the persons: every run handed out
// decodes to the text made from the items it was asked for (TSan checks the locking).
TEST_F(ItemCacheTest, ConcurrentReadersAndChangesNeverMixRunsAndItems) {
  for (int p = 0; p < 4; ++p) Commit(*store_, Unit("p" + std::to_string(p), "u", "v0", 3));
  ItemCache cache(1 << 20, [](const store::StoredItem& item, size_t* json_at) {
    *json_at = 0;
    return item.item.json;
  });
  std::atomic<bool> stop{false};
  std::atomic<int> checked{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      int i = t;
      while (!stop.load()) {
        const std::string person = "p" + std::to_string(i++ % 4);
        Result<ItemCache::Items> items = cache.Get(*store_, person);
        ASSERT_TRUE(items.ok());
        std::string text;
        std::vector<uint32_t> all;
        for (uint32_t k = 0; k < (*items)->size(); ++k) {
          all.push_back(k);
          text += (**items)[k].entry;
        }
        std::shared_ptr<const DeflatedRun> run =
            cache.KeptRun(person, *items, all, [&] { return DeflateRun(text); });
        if (run == nullptr) continue;  // the items changed meanwhile
        GzipBuilder gzip;
        gzip.AppendRun(*run);
        Result<std::string> back = Gunzip(std::move(gzip).Finish(), 1 << 20);
        ASSERT_TRUE(back.ok());
        EXPECT_EQ(*back, text);
        checked.fetch_add(1);
      }
    });
  }
  for (int round = 1; round <= 40; ++round) {
    Commit(*store_, Unit("p" + std::to_string(round % 4), "u", "v" + std::to_string(round),
                         1 + round % 3));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (checked.load() < 200 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop = true;
  for (std::thread& r : readers) r.join();
  EXPECT_GE(checked.load(), 200);
}

TEST_F(ItemCacheTest, KeptRunsCountAgainstTheBudget) {
  Commit(*store_, Unit("p1", "u1", "first", 3));
  ItemCache cache(64 << 20, CountingRenderer{&renders_});
  Result<ItemCache::Items> items = cache.Get(*store_, "p1");
  ASSERT_TRUE(items.ok());
  const size_t before = cache.stats().bytes;
  std::string big(100000, 'x');
  std::mt19937 rng(1);
  for (char& c : big) c = static_cast<char>('a' + rng() % 26);  // incompressible-ish
  cache.KeptRun("p1", *items, {0}, [&] { return DeflateRun(big); });
  EXPECT_GT(cache.stats().bytes, before + 1000);
}

// A store that keeps no reporting units answers ItemsGeneration with kInternal (store.h):
// the cache passes that on rather than serving an empty summary.
class NoUnitsStore final : public store::Store {
 public:
  Result<store::ResourceVersion> Read(const std::string&, const std::string&) override {
    return NotFoundError("none");
  }
  Result<store::ResourceVersion> ReadVersion(const std::string&, const std::string&,
                                             int64_t) override {
    return NotFoundError("none");
  }
  Result<std::vector<store::ResourceVersion>> History(const std::string&, const std::string&,
                                                      size_t) override {
    return NotFoundError("none");
  }
  Result<store::CommitResult> Commit(store::WriteBatch) override {
    return InternalError("read-only");
  }
  Status Ping() override { return Status::Ok(); }
};

TEST_F(ItemCacheTest, StoreErrorsPassThroughInsteadOfAnEmptyList) {
  ItemCache cache(64 << 20, CountingRenderer{&renders_});
  NoUnitsStore none;
  Result<ItemCache::Items> r = cache.Get(none, "p1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInternal);
  Result<ItemCache::Items> nobody = cache.Get(*store_, "nobody");
  ASSERT_TRUE(nobody.ok());
  EXPECT_TRUE((*nobody)->empty());
}

}  // namespace
}  // namespace clinshub::api
