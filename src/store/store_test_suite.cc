#include "store/store_test_suite.h"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "fhir/json.h"

namespace clinshub::store {

std::string MakeTempDir(const std::string& prefix) {
  std::string pattern = ::testing::TempDir() + "/" + prefix + "-XXXXXX";
  char* made = mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr) << "mkdtemp " << pattern;
  return pattern;
}

void StoreContractTest::SetUp() {
  location_ = MakeTempDir("store-" + GetParam().name);
  Result<std::unique_ptr<Store>> opened = GetParam().open(location_, clock_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store_ = std::move(*opened);
}

void StoreContractTest::TearDown() {
  store_.reset();
  std::error_code ec;
  std::filesystem::remove_all(location_, ec);
}

void StoreContractTest::Reopen() {
  store_.reset();
  Result<std::unique_ptr<Store>> opened = GetParam().open(location_, clock_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store_ = std::move(*opened);
}

namespace {

using fhir::Value;

Value Patient(const std::string& id, const std::string& family = "山田") {
  Value name = Value::Object();
  name.Set("family", Value::String(family));
  Value names = Value::Array();
  names.Append(std::move(name));
  Value p = Value::Object();
  p.Set("resourceType", Value::String("Patient"));
  p.Set("id", Value::String(id));
  p.Set("name", std::move(names));
  return p;
}

WriteBatch Put(Value resource, std::optional<int64_t> if_version = std::nullopt) {
  WriteBatch b;
  b.ops.push_back(PutResource{std::move(resource), if_version});
  return b;
}

WriteBatch Delete(const std::string& type, const std::string& id,
                  std::optional<int64_t> if_version = std::nullopt) {
  WriteBatch b;
  b.ops.push_back(DeleteResource{type, id, if_version});
  return b;
}

Value Parse(const std::string& json) {
  Result<Value> v = fhir::ParseJson(json);
  EXPECT_TRUE(v.ok()) << v.status().ToString() << "\n" << json;
  return v.ok() ? std::move(*v) : Value();
}

std::string MetaAt(const std::string& json, const std::string& key) {
  Value v = Parse(json);
  const Value* meta = v.Find("meta");
  return meta == nullptr ? std::string() : std::string(meta->StringAt(key));
}

#define ASSERT_OK(expr)                                          \
  do {                                                           \
    const auto& _r = (expr);                                     \
    ASSERT_TRUE(_r.ok()) << _r.status().ToString();              \
  } while (0)

TEST_P(StoreContractTest, CreateStampsVersionOneAndReadReturnsIt) {
  Result<CommitResult> c = store().Commit(Put(Patient("p1")));
  ASSERT_OK(c);
  ASSERT_EQ(c->written.size(), 1u);
  EXPECT_EQ(c->written[0].version, 1);
  EXPECT_EQ(c->written[0].last_updated, clock_.Now());
  EXPECT_FALSE(c->written[0].deleted);

  Result<ResourceVersion> r = store().Read("Patient", "p1");
  ASSERT_OK(r);
  EXPECT_EQ(r->version, 1);
  EXPECT_EQ(r->last_updated, clock_.Now());
  EXPECT_EQ(MetaAt(r->json, "versionId"), "1");
  EXPECT_EQ(MetaAt(r->json, "lastUpdated"), FormatInstant(clock_.Now()));
  Value stored = Parse(r->json);
  EXPECT_EQ(stored.Find("name")->items()[0].StringAt("family"), "山田");
  // Stored JSON is the compact writer's output of the stamped resource.
  EXPECT_EQ(r->json, fhir::WriteJson(stored));
}

TEST_P(StoreContractTest, EachUpdateCreatesTheNextVersionAndVreadReturnsAnyVersion) {
  for (int i = 1; i <= 3; ++i) {
    clock_.Advance(std::chrono::seconds(1));
    Result<CommitResult> c = store().Commit(Put(Patient("p1", "v" + std::to_string(i))));
    ASSERT_OK(c);
    EXPECT_EQ(c->written[0].version, i);
  }
  for (int i = 1; i <= 3; ++i) {
    Result<ResourceVersion> v = store().ReadVersion("Patient", "p1", i);
    ASSERT_OK(v);
    EXPECT_EQ(v->version, i);
    EXPECT_EQ(MetaAt(v->json, "versionId"), std::to_string(i));
    EXPECT_EQ(Parse(v->json).Find("name")->items()[0].StringAt("family"),
              "v" + std::to_string(i));
  }
  Result<ResourceVersion> latest = store().Read("Patient", "p1");
  ASSERT_OK(latest);
  EXPECT_EQ(latest->version, 3);
}

TEST_P(StoreContractTest, HistoryIsNewestFirstAndHonoursTheLimit) {
  for (int i = 0; i < 4; ++i) ASSERT_OK(store().Commit(Put(Patient("p1"))));
  Result<std::vector<ResourceVersion>> all = store().History("Patient", "p1", 100);
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ((*all)[i].version, static_cast<int64_t>(4 - i));
  Result<std::vector<ResourceVersion>> two = store().History("Patient", "p1", 2);
  ASSERT_OK(two);
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].version, 4);
  Result<std::vector<ResourceVersion>> none = store().History("Patient", "p1", 0);
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(StoreContractTest, StampingReplacesVersionAndTimeButKeepsOtherMetaMembers) {
  Result<Value> p = fhir::ParseJson(
      R"({"resourceType":"Patient","id":"p1","meta":{"versionId":"99",)"
      R"("lastUpdated":"2001-01-01T00:00:00.000Z",)"
      R"("profile":["http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Patient_eCS"],)"
      R"("tag":[{"system":"http://example.org/t","code":"x"}]},"active":true})");
  ASSERT_OK(p);
  ASSERT_OK(store().Commit(Put(std::move(*p))));
  Result<ResourceVersion> r = store().Read("Patient", "p1");
  ASSERT_OK(r);
  Value stored = Parse(r->json);
  const Value* meta = stored.Find("meta");
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(meta->StringAt("versionId"), "1");
  EXPECT_EQ(meta->StringAt("lastUpdated"), FormatInstant(clock_.Now()));
  ASSERT_NE(meta->Find("profile"), nullptr);
  EXPECT_EQ(meta->Find("profile")->items()[0].text(),
            "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Patient_eCS");
  ASSERT_NE(meta->Find("tag"), nullptr);
  EXPECT_EQ(meta->Find("tag")->items()[0].StringAt("code"), "x");
  EXPECT_TRUE(stored.Find("active")->bool_value());
}

TEST_P(StoreContractTest, LastUpdatedNeverGoesBackwardsWhenTheClockDoes) {
  ASSERT_OK(store().Commit(Put(Patient("p1"))));
  const Timestamp first = clock_.Now();
  clock_.Advance(-std::chrono::hours(1));
  Result<CommitResult> c = store().Commit(Put(Patient("p1")));
  ASSERT_OK(c);
  EXPECT_EQ(c->written[0].last_updated, first);
  Result<ResourceVersion> r = store().Read("Patient", "p1");
  ASSERT_OK(r);
  EXPECT_EQ(MetaAt(r->json, "lastUpdated"), FormatInstant(first));
  // A resource that has no history yet simply takes the clock.
  Result<CommitResult> other = store().Commit(Put(Patient("p2")));
  ASSERT_OK(other);
  EXPECT_EQ(other->written[0].last_updated, clock_.Now());
}

TEST_P(StoreContractTest, IfMatchWithTheCurrentVersionSucceeds) {
  ASSERT_OK(store().Commit(Put(Patient("p1"))));
  Result<CommitResult> c = store().Commit(Put(Patient("p1"), 1));
  ASSERT_OK(c);
  EXPECT_EQ(c->written[0].version, 2);
}

TEST_P(StoreContractTest, IfMatchWithAStaleVersionFailsAndWritesNothing) {
  ASSERT_OK(store().Commit(Put(Patient("p1"))));
  ASSERT_OK(store().Commit(Put(Patient("p1"))));
  Result<CommitResult> c = store().Commit(Put(Patient("p1", "stale"), 1));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kPreconditionFailed);
  Result<ResourceVersion> r = store().Read("Patient", "p1");
  ASSERT_OK(r);
  EXPECT_EQ(r->version, 2);
}

TEST_P(StoreContractTest, IfMatchOnAMissingResourceFails) {
  Result<CommitResult> c = store().Commit(Put(Patient("p1"), 1));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kPreconditionFailed);
}

TEST_P(StoreContractTest, CreateOnlySucceedsOnceThenFails) {
  ASSERT_OK(store().Commit(Put(Patient("p1"), 0)));
  Result<CommitResult> again = store().Commit(Put(Patient("p1"), 0));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kPreconditionFailed);
}

TEST_P(StoreContractTest, DeleteMakesReadGoneAndHistoryKeepsEveryVersion) {
  ASSERT_OK(store().Commit(Put(Patient("p1"))));
  clock_.Advance(std::chrono::seconds(5));
  Result<CommitResult> d = store().Commit(Delete("Patient", "p1"));
  ASSERT_OK(d);
  EXPECT_EQ(d->written[0].version, 2);
  EXPECT_TRUE(d->written[0].deleted);

  Result<ResourceVersion> r = store().Read("Patient", "p1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kGone);

  Result<std::vector<ResourceVersion>> h = store().History("Patient", "p1", 10);
  ASSERT_OK(h);
  ASSERT_EQ(h->size(), 2u);
  EXPECT_TRUE((*h)[0].deleted);
  EXPECT_TRUE((*h)[0].json.empty());
  EXPECT_EQ((*h)[0].last_updated, clock_.Now());
  EXPECT_FALSE((*h)[1].deleted);

  Result<ResourceVersion> v1 = store().ReadVersion("Patient", "p1", 1);
  ASSERT_OK(v1);
  EXPECT_FALSE(v1->json.empty());
  Result<ResourceVersion> v2 = store().ReadVersion("Patient", "p1", 2);
  ASSERT_OK(v2);
  EXPECT_TRUE(v2->deleted);
}

TEST_P(StoreContractTest, DeletingADeletedResourceSucceedsWithoutANewVersion) {
  ASSERT_OK(store().Commit(Put(Patient("p1"))));
  ASSERT_OK(store().Commit(Delete("Patient", "p1")));
  Result<CommitResult> again = store().Commit(Delete("Patient", "p1"));
  ASSERT_OK(again);
  EXPECT_EQ(again->written[0].version, 2);
  EXPECT_TRUE(again->written[0].deleted);
  Result<std::vector<ResourceVersion>> h = store().History("Patient", "p1", 10);
  ASSERT_OK(h);
  EXPECT_EQ(h->size(), 2u);
}

TEST_P(StoreContractTest, DeletingANeverCreatedResourceIsNotFound) {
  Result<CommitResult> d = store().Commit(Delete("Patient", "nobody"));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, ConditionalWritesOnADeletedResourceFail) {
  ASSERT_OK(store().Commit(Put(Patient("p1"))));
  ASSERT_OK(store().Commit(Delete("Patient", "p1")));
  for (int64_t v : {0, 1, 2}) {
    Result<CommitResult> c = store().Commit(Put(Patient("p1"), v));
    ASSERT_FALSE(c.ok()) << "if_version " << v;
    EXPECT_EQ(c.status().code(), ErrorCode::kPreconditionFailed);
  }
  Result<CommitResult> d = store().Commit(Delete("Patient", "p1", 2));
  EXPECT_EQ(d.status().code(), ErrorCode::kPreconditionFailed);
  // An unconditional put brings it back as the next version.
  Result<CommitResult> back = store().Commit(Put(Patient("p1")));
  ASSERT_OK(back);
  EXPECT_EQ(back->written[0].version, 3);
  ASSERT_OK(store().Read("Patient", "p1"));
}

TEST_P(StoreContractTest, ReadsOfUnknownResourcesAreNotFound) {
  EXPECT_EQ(store().Read("Patient", "x").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store().ReadVersion("Patient", "x", 1).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store().History("Patient", "x", 10).status().code(), ErrorCode::kNotFound);
  ASSERT_OK(store().Commit(Put(Patient("x"))));
  EXPECT_EQ(store().ReadVersion("Patient", "x", 2).status().code(), ErrorCode::kNotFound);
  // Same id, other type: a different resource.
  EXPECT_EQ(store().Read("Observation", "x").status().code(), ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, ResourcesWithoutAValidIdAreMalformed) {
  Value no_id = Patient("p1");
  no_id.Erase("id");
  EXPECT_EQ(store().Commit(Put(std::move(no_id))).status().code(), ErrorCode::kMalformed);
  EXPECT_EQ(store().Commit(Put(Patient("has space"))).status().code(), ErrorCode::kMalformed);
  Value bad_meta = Patient("p1");
  bad_meta.Set("meta", Value::String("x"));
  EXPECT_EQ(store().Commit(Put(std::move(bad_meta))).status().code(), ErrorCode::kMalformed);
}

TEST_P(StoreContractTest, ABatchWithOneFailingOpWritesNothing) {
  ASSERT_OK(store().Commit(Put(Patient("existing"))));
  WriteBatch b;
  b.ops.push_back(PutResource{Patient("a"), std::nullopt});
  b.ops.push_back(PutResource{Patient("existing"), std::nullopt});
  b.ops.push_back(DeleteResource{"Patient", "existing", std::nullopt});
  b.ops.push_back(PutResource{Patient("b"), 7});
  Result<CommitResult> c = store().Commit(std::move(b));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kPreconditionFailed);
  EXPECT_EQ(store().Read("Patient", "a").status().code(), ErrorCode::kNotFound);
  Result<ResourceVersion> e = store().Read("Patient", "existing");
  ASSERT_OK(e);
  EXPECT_EQ(e->version, 1);
}

TEST_P(StoreContractTest, OpsInOneBatchSeeTheEarlierOpsAndReportInOrder) {
  WriteBatch b;
  b.ops.push_back(PutResource{Patient("p1"), 0});
  b.ops.push_back(PutResource{Patient("p1"), 1});
  b.ops.push_back(DeleteResource{"Patient", "p1", 2});
  b.ops.push_back(PutResource{Patient("p2"), std::nullopt});
  Result<CommitResult> c = store().Commit(std::move(b));
  ASSERT_OK(c);
  ASSERT_EQ(c->written.size(), 4u);
  EXPECT_EQ(c->written[0].version, 1);
  EXPECT_EQ(c->written[1].version, 2);
  EXPECT_EQ(c->written[2].version, 3);
  EXPECT_TRUE(c->written[2].deleted);
  EXPECT_EQ(c->written[3].id, "p2");
}

TEST_P(StoreContractTest, AnEmptyBatchCommitsTrivially) {
  Result<CommitResult> c = store().Commit(WriteBatch{});
  ASSERT_OK(c);
  EXPECT_TRUE(c->written.empty());
}

constexpr int kWriters = 16;

// Runs fn(thread_index) on kWriters threads at once.
void OnWriters(const std::function<void(int)>& fn) {
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) threads.emplace_back(fn, t);
  for (std::thread& t : threads) t.join();
}

TEST_P(StoreContractTest, ConcurrentWritersGetDistinctGapFreeVersions) {
  constexpr int kCommitsPerWriter = 25;
  constexpr int kShared = 3;
  std::mutex mu;
  std::map<std::string, std::vector<int64_t>> versions;  // shared id -> versions handed out
  std::vector<std::string> failures;
  OnWriters([&](int t) {
    for (int i = 0; i < kCommitsPerWriter; ++i) {
      WriteBatch b;
      const std::string shared = "shared-" + std::to_string((t + i) % kShared);
      b.ops.push_back(PutResource{Patient(shared), std::nullopt});
      b.ops.push_back(PutResource{Patient("own-" + std::to_string(t) + "-" + std::to_string(i)),
                                  0});
      Result<CommitResult> c = store().Commit(std::move(b));
      std::lock_guard lock(mu);
      if (!c.ok()) {
        failures.push_back(c.status().ToString());
        continue;
      }
      versions[shared].push_back(c->written[0].version);
    }
  });
  ASSERT_TRUE(failures.empty()) << failures.front();
  for (auto& [id, vs] : versions) {
    std::sort(vs.begin(), vs.end());
    for (size_t i = 0; i < vs.size(); ++i) {
      ASSERT_EQ(vs[i], static_cast<int64_t>(i + 1)) << id << " has a gap or duplicate";
    }
    Result<std::vector<ResourceVersion>> h = store().History("Patient", id, 1000);
    ASSERT_OK(h);
    EXPECT_EQ(h->size(), vs.size());
  }
  for (int t = 0; t < kWriters; ++t) {
    for (int i = 0; i < kCommitsPerWriter; ++i) {
      Result<ResourceVersion> r =
          store().Read("Patient", "own-" + std::to_string(t) + "-" + std::to_string(i));
      ASSERT_OK(r);
      EXPECT_EQ(r->version, 1);
    }
  }
}

TEST_P(StoreContractTest, ConcurrentCommitsShareTransactions) {
  constexpr int kCommitsPerWriter = 20;
  const StoreStats before = store().Stats();
  OnWriters([&](int t) {
    for (int i = 0; i < kCommitsPerWriter; ++i) {
      WriteBatch b;
      for (int k = 0; k < 5; ++k) {
        b.ops.push_back(PutResource{
            Patient("g-" + std::to_string(t) + "-" + std::to_string(i) + "-" + std::to_string(k)),
            std::nullopt});
      }
      Result<CommitResult> c = store().Commit(std::move(b));
      EXPECT_TRUE(c.ok()) << c.status().ToString();
    }
  });
  const StoreStats after = store().Stats();
  const uint64_t commits = after.batches_committed - before.batches_committed;
  const uint64_t transactions = after.transactions - before.transactions;
  EXPECT_EQ(commits, static_cast<uint64_t>(kWriters * kCommitsPerWriter));
  EXPECT_GT(transactions, 0u);
  // Commits share the expensive part: one transaction (one fsync) for several, or, where the
  // backend fsyncs apart from its transactions (SQLite's syncer thread), one fsync for several
  // transactions.
  const uint64_t durable_points = after.syncs > 0 ? after.syncs - before.syncs : transactions;
  EXPECT_LT(durable_points, commits) << "no two commits shared a transaction or an fsync";
}

TEST_P(StoreContractTest, AFailingBatchDoesNotHarmBatchesCommittedWithIt) {
  ASSERT_OK(store().Commit(Put(Patient("taken"))));
  constexpr int kRounds = 10;
  std::atomic<int> ok{0}, precondition{0}, other{0};
  OnWriters([&](int t) {
    for (int i = 0; i < kRounds; ++i) {
      const bool fail = t % 2 == 1;
      WriteBatch b;
      b.ops.push_back(
          PutResource{Patient("f-" + std::to_string(t) + "-" + std::to_string(i)), 0});
      if (fail) b.ops.push_back(PutResource{Patient("taken"), 0});
      Result<CommitResult> c = store().Commit(std::move(b));
      if (c.ok()) {
        ++ok;
      } else if (c.status().code() == ErrorCode::kPreconditionFailed) {
        ++precondition;
      } else {
        ++other;
      }
    }
  });
  EXPECT_EQ(ok.load(), kWriters / 2 * kRounds);
  EXPECT_EQ(precondition.load(), kWriters / 2 * kRounds);
  EXPECT_EQ(other.load(), 0);
  for (int t = 0; t < kWriters; ++t) {
    for (int i = 0; i < kRounds; ++i) {
      const ErrorCode code =
          store().Read("Patient", "f-" + std::to_string(t) + "-" + std::to_string(i))
              .status()
              .code();
      EXPECT_EQ(code, t % 2 == 0 ? ErrorCode::kOk : ErrorCode::kNotFound) << t << "/" << i;
    }
  }
  EXPECT_EQ(store().Read("Patient", "taken")->version, 1);
}

TEST_P(StoreContractTest, CommittedDataSurvivesReopen) {
  ASSERT_OK(store().Commit(Put(Patient("p1"))));
  ASSERT_OK(store().Commit(Put(Patient("p1"))));
  ASSERT_OK(store().Commit(Put(Patient("p2"))));
  ASSERT_OK(store().Commit(Delete("Patient", "p2")));
  Reopen();
  Result<ResourceVersion> p1 = store().Read("Patient", "p1");
  ASSERT_OK(p1);
  EXPECT_EQ(p1->version, 2);
  EXPECT_EQ(MetaAt(p1->json, "versionId"), "2");
  EXPECT_EQ(store().Read("Patient", "p2").status().code(), ErrorCode::kGone);
  Result<CommitResult> next = store().Commit(Put(Patient("p1"), 2));
  ASSERT_OK(next);
  EXPECT_EQ(next->written[0].version, 3);
}

TEST_P(StoreContractTest, PingAndIntegrityCheckPassOnAHealthyStore) {
  EXPECT_TRUE(store().Ping().ok());
  for (int i = 0; i < 20; ++i) ASSERT_OK(store().Commit(Put(Patient("p" + std::to_string(i)))));
  ASSERT_OK(store().Commit(Delete("Patient", "p3")));
  Status st = store().CheckIntegrity();
  EXPECT_TRUE(st.ok()) << st.ToString();
}

// ---- Reporting units ----------------------------------------------------------------------

constexpr const char* kBundleSystem = "http://jpfhir.jp/fhir/clins/bundle-identifier";
constexpr const char* kSender = "1311234567";
constexpr const char* kOtherInstitution = "2719876543";

UnitKey Key(const std::string& value, const std::string& person = "person-1") {
  return UnitKey{person, kBundleSystem, value};
}

// A unit whose content is derived from `tag`, so every stored version is recognisable: items
// coded "<tag>-0" … "<tag>-(n-1)", Bundle.implicitRules "urn:test:<tag>", hash "hash-<tag>".
PutUnit Unit(const UnitKey& key, const std::string& tag, int item_count = 2,
             const std::string& institution = kSender) {
  PutUnit u;
  u.key = key;
  u.institution = institution;
  u.kind = "Condition";
  u.content_hash = "hash-" + tag;
  Value identifier = Value::Object();
  identifier.Set("system", Value::String(key.system));
  identifier.Set("value", Value::String(key.value));
  u.bundle = Value::Object();
  u.bundle.Set("resourceType", Value::String("Bundle"));
  u.bundle.Set("identifier", std::move(identifier));
  u.bundle.Set("type", Value::String("collection"));
  u.bundle.Set("implicitRules", Value::String("urn:test:" + tag));
  for (int i = 0; i < item_count; ++i) {
    Item item;
    item.kind = i % 2 == 0 ? ItemKind::kCondition : ItemKind::kAllergy;
    item.resource_type = i % 2 == 0 ? "Condition" : "AllergyIntolerance";
    item.code_system = "urn:oid:1.2.392.200119.4.101.6";
    item.code = tag + "-" + std::to_string(i);
    item.text = "傷病 " + tag;
    item.clinical_date = Timestamp(std::chrono::hours(24 * (19'000 + i)));
    item.json = "{\"resourceType\":\"" + item.resource_type + "\"}";
    u.items.push_back(std::move(item));
  }
  return u;
}

WriteBatch Batch(WriteOp op) {
  WriteBatch b;
  b.ops.push_back(std::move(op));
  return b;
}

// The tag of the stored Bundle version (see Unit()).
std::string BundleTag(const ResourceVersion& v) {
  Value b = Parse(v.json);
  std::string rules(b.StringAt("implicitRules"));
  return rules.substr(std::string("urn:test:").size());
}

std::vector<std::string> ItemCodes(const std::vector<StoredItem>& items) {
  std::vector<std::string> codes;
  for (const StoredItem& i : items) codes.push_back(i.item.code);
  std::sort(codes.begin(), codes.end());
  return codes;
}

std::vector<std::string> CodesOf(const std::string& tag, int n) {
  std::vector<std::string> codes;
  for (int i = 0; i < n; ++i) codes.push_back(tag + "-" + std::to_string(i));
  std::sort(codes.begin(), codes.end());
  return codes;
}

TEST_P(StoreContractTest, RegisteringAUnitStoresItsBundleAsVersionOneAndItsItems) {
  Result<CommitResult> c = store().Commit(Batch(Unit(Key("A"), "v1", 3)));
  ASSERT_OK(c);
  ASSERT_EQ(c->written.size(), 1u);
  ASSERT_EQ(c->unit_outcomes.size(), 1u);
  EXPECT_EQ(c->unit_outcomes[0], UnitOutcome::kCreated);
  const ResourceVersion& w = c->written[0];
  EXPECT_EQ(w.type, "Bundle");
  EXPECT_EQ(w.version, 1);
  EXPECT_FALSE(w.id.empty());

  Result<UnitRecord> unit = store().ReadUnit(Key("A"));
  ASSERT_OK(unit);
  EXPECT_EQ(unit->key, Key("A"));
  EXPECT_EQ(unit->bundle_id, w.id);
  EXPECT_EQ(unit->version, 1);
  EXPECT_EQ(unit->status, UnitStatus::kRegistered);
  EXPECT_EQ(unit->institution, kSender);
  EXPECT_EQ(unit->kind, "Condition");
  EXPECT_EQ(unit->content_hash, "hash-v1");
  EXPECT_EQ(unit->first_registered, clock_.Now());
  EXPECT_EQ(unit->last_changed, clock_.Now());

  Result<ResourceVersion> bundle = store().Read("Bundle", w.id);
  ASSERT_OK(bundle);
  EXPECT_EQ(bundle->version, 1);
  EXPECT_EQ(BundleTag(*bundle), "v1");
  EXPECT_EQ(Parse(bundle->json).StringAt("id"), w.id);
  EXPECT_EQ(MetaAt(bundle->json, "versionId"), "1");

  Result<std::vector<StoredItem>> items = store().ListItems("person-1");
  ASSERT_OK(items);
  ASSERT_EQ(items->size(), 3u);
  EXPECT_EQ(ItemCodes(*items), CodesOf("v1", 3));
  for (const StoredItem& i : *items) {
    EXPECT_EQ(i.person_key, "person-1");
    EXPECT_EQ(i.bundle_id, w.id);
    EXPECT_EQ(i.bundle_version, 1);
    EXPECT_EQ(i.institution, kSender);
    EXPECT_EQ(i.registered, clock_.Now());
    EXPECT_EQ(i.item.text, "傷病 v1");
    EXPECT_TRUE(i.item.clinical_date.has_value());
  }
  EXPECT_TRUE(store().ListItems("person-2")->empty());
}

// A unit as submissions make them: its items are its Bundle's entries, each item's JSON the
// entry's resource as fhir::WriteJson writes it (clins::ExtractItems). Entry i carries the
// note "<tag> #i", so every version's items are recognisable.
PutUnit UnitOfEntries(const UnitKey& key, const std::string& tag, int entries) {
  PutUnit u = Unit(key, tag, 0);
  Value list = Value::Array();
  for (int i = 0; i < entries; ++i) {
    Value resource = Parse(R"({"resourceType":"Condition","id":"c)" + std::to_string(i) +
                           R"(","code":{"text":"傷病 \"引用\" ü"},"note":[{"text":")" + tag +
                           " #" + std::to_string(i) + R"("}]})");
    Item item;
    item.kind = ItemKind::kCondition;
    item.resource_type = "Condition";
    item.code_system = "urn:oid:1.2.392.200119.4.101.6";
    item.code = tag + "-" + std::to_string(i);
    item.text = "傷病";
    item.json = fhir::WriteJson(resource);
    item.entry = i;
    u.items.push_back(std::move(item));
    Value entry = Value::Object();
    entry.Set("fullUrl", Value::String("urn:uuid:" + std::to_string(i)));
    entry.Set("resource", std::move(resource));
    list.Append(std::move(entry));
  }
  u.bundle.Set("entry", std::move(list));
  return u;
}

TEST_P(StoreContractTest, ItemsReadBackExactlyAsExtractedFromTheirBundle) {
  PutUnit v1 = UnitOfEntries(Key("A"), "v1", 4);
  std::map<std::string, std::string> expected;  // code → JSON
  for (const Item& i : v1.items) expected[i.code] = i.json;
  // An item that is not one of the Bundle's entries keeps its own JSON as given, and so does
  // one whose JSON differs from the entry it names.
  Item extra = v1.items[0];
  extra.code = "v1-extra";
  extra.entry = -1;
  extra.json = R"({"resourceType":"Condition","id":"elsewhere"})";
  expected[extra.code] = extra.json;
  v1.items.push_back(extra);
  Item mismatched = v1.items[1];
  mismatched.code = "v1-mismatched";
  mismatched.json = R"({"resourceType":"Condition","id":"not-the-entry"})";
  expected[mismatched.code] = mismatched.json;
  v1.items.push_back(mismatched);
  ASSERT_OK(store().Commit(Batch(std::move(v1))));
  auto json_by_code = [&] {
    std::map<std::string, std::string> got;
    Result<std::vector<StoredItem>> items = store().ListItems("person-1");
    EXPECT_TRUE(items.ok()) << items.status().ToString();
    if (items.ok()) {
      for (const StoredItem& i : *items) got[i.item.code] = i.item.json;
    }
    return got;
  };
  EXPECT_EQ(json_by_code(), expected);

  // Replaced: the items are the new version's, read from it.
  PutUnit v2 = UnitOfEntries(Key("A"), "v2-longer-tag", 3);
  expected.clear();
  for (const Item& i : v2.items) expected[i.code] = i.json;
  ASSERT_OK(store().Commit(Batch(std::move(v2))));
  EXPECT_EQ(json_by_code(), expected);
  Reopen();
  EXPECT_EQ(json_by_code(), expected);
}

TEST_P(StoreContractTest, ItemsAreListedByKindThenNewestClinicalDateFirst) {
  PutUnit u = Unit(Key("A"), "v1", 0);
  auto add = [&](ItemKind kind, std::optional<int> day, const std::string& code) {
    Item item;
    item.kind = kind;
    item.resource_type = "Condition";
    item.code = code;
    if (day.has_value()) item.clinical_date = Timestamp(std::chrono::hours(24 * *day));
    u.items.push_back(std::move(item));
  };
  add(ItemKind::kAllergy, 5, "allergy-old");
  add(ItemKind::kCondition, std::nullopt, "condition-undated");
  add(ItemKind::kCondition, 10, "condition-old");
  add(ItemKind::kAllergy, 9, "allergy-new");
  add(ItemKind::kCondition, 20, "condition-new");
  ASSERT_OK(store().Commit(Batch(std::move(u))));
  Result<std::vector<StoredItem>> items = store().ListItems("person-1");
  ASSERT_OK(items);
  std::vector<std::string> order;
  for (const StoredItem& i : *items) order.push_back(i.item.code);
  EXPECT_EQ(order, (std::vector<std::string>{"condition-new", "condition-old",
                                             "condition-undated", "allergy-new",
                                             "allergy-old"}));
}

TEST_P(StoreContractTest, ResendingIdenticalContentChangesNothing) {
  Result<CommitResult> first = store().Commit(Batch(Unit(Key("A"), "v1")));
  ASSERT_OK(first);
  clock_.Advance(std::chrono::seconds(5));
  Result<CommitResult> again = store().Commit(Batch(Unit(Key("A"), "v1")));
  ASSERT_OK(again);
  EXPECT_EQ(again->unit_outcomes.at(0), UnitOutcome::kUnchanged);
  EXPECT_EQ(again->written.at(0).id, first->written[0].id);
  EXPECT_EQ(again->written[0].version, 1);
  EXPECT_EQ(store().History("Bundle", first->written[0].id, 10)->size(), 1u);
  EXPECT_EQ(store().ReadUnit(Key("A"))->last_changed, first->written[0].last_updated);
}

TEST_P(StoreContractTest, ReplacingAUnitSwapsItsItemsAndKeepsBothBundleVersions) {
  Result<CommitResult> first = store().Commit(Batch(Unit(Key("A"), "v1", 3)));
  ASSERT_OK(first);
  const std::string id = first->written[0].id;
  clock_.Advance(std::chrono::seconds(5));
  Result<CommitResult> second = store().Commit(Batch(Unit(Key("A"), "v2", 2)));
  ASSERT_OK(second);
  EXPECT_EQ(second->unit_outcomes.at(0), UnitOutcome::kReplaced);
  EXPECT_EQ(second->written[0].id, id);
  EXPECT_EQ(second->written[0].version, 2);

  Result<std::vector<StoredItem>> items = store().ListItems("person-1");
  ASSERT_OK(items);
  EXPECT_EQ(ItemCodes(*items), CodesOf("v2", 2));
  for (const StoredItem& i : *items) {
    EXPECT_EQ(i.bundle_version, 2);
    EXPECT_EQ(i.registered, clock_.Now());
  }
  Result<UnitRecord> unit = store().ReadUnit(Key("A"));
  ASSERT_OK(unit);
  EXPECT_EQ(unit->version, 2);
  EXPECT_EQ(unit->content_hash, "hash-v2");
  EXPECT_EQ(unit->first_registered, first->written[0].last_updated);
  EXPECT_EQ(unit->last_changed, clock_.Now());

  Result<std::vector<ResourceVersion>> history = store().History("Bundle", id, 10);
  ASSERT_OK(history);
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ(BundleTag((*history)[0]), "v2");
  EXPECT_EQ(BundleTag((*history)[1]), "v1");
}

TEST_P(StoreContractTest, OnlyTheSenderMayReplaceOrWithdrawAUnit) {
  ASSERT_OK(store().Commit(Batch(Unit(Key("A"), "v1"))));
  struct Case {
    const char* name;
    WriteOp op;
  } cases[] = {
      {"replace", Unit(Key("A"), "v2", 4, kOtherInstitution)},
      {"identical resend", Unit(Key("A"), "v1", 2, kOtherInstitution)},
      {"withdraw", WithdrawUnit{Key("A"), kOtherInstitution}},
  };
  for (Case& c : cases) {
    Result<CommitResult> r = store().Commit(Batch(std::move(c.op)));
    EXPECT_EQ(r.status().code(), ErrorCode::kForbidden) << c.name;
  }
  Result<UnitRecord> unit = store().ReadUnit(Key("A"));
  ASSERT_OK(unit);
  EXPECT_EQ(unit->version, 1);
  EXPECT_EQ(unit->status, UnitStatus::kRegistered);
  EXPECT_EQ(unit->institution, kSender);
  EXPECT_EQ(ItemCodes(*store().ListItems("person-1")), CodesOf("v1", 2));
  EXPECT_EQ(store().History("Bundle", unit->bundle_id, 10)->size(), 1u);
}

TEST_P(StoreContractTest, WithdrawingAUnitDeletesItsBundleAndItems) {
  Result<CommitResult> first = store().Commit(Batch(Unit(Key("A"), "v1")));
  ASSERT_OK(first);
  const std::string id = first->written[0].id;
  Result<CommitResult> w = store().Commit(Batch(WithdrawUnit{Key("A"), kSender}));
  ASSERT_OK(w);
  EXPECT_EQ(w->unit_outcomes.at(0), UnitOutcome::kWithdrawn);
  EXPECT_EQ(w->written.at(0).id, id);
  EXPECT_EQ(w->written[0].version, 2);
  EXPECT_TRUE(w->written[0].deleted);

  EXPECT_EQ(store().Read("Bundle", id).status().code(), ErrorCode::kGone);
  EXPECT_TRUE(store().ListItems("person-1")->empty());
  Result<UnitRecord> unit = store().ReadUnit(Key("A"));
  ASSERT_OK(unit);
  EXPECT_EQ(unit->status, UnitStatus::kWithdrawn);
  EXPECT_EQ(unit->version, 2);

  EXPECT_EQ(store().Commit(Batch(WithdrawUnit{Key("A"), kSender})).status().code(),
            ErrorCode::kGone);
  EXPECT_EQ(store().History("Bundle", id, 10)->size(), 2u);
}

TEST_P(StoreContractTest, UnknownUnitsAreNotFound) {
  EXPECT_EQ(store().ReadUnit(Key("nope")).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store().Commit(Batch(WithdrawUnit{Key("nope"), kSender})).status().code(),
            ErrorCode::kNotFound);
  Result<std::vector<UnitRecord>> found = store().FindUnits(kBundleSystem, "nope");
  ASSERT_OK(found);
  EXPECT_TRUE(found->empty());
}

TEST_P(StoreContractTest, ReRegisteringAWithdrawnUnitContinuesItsBundleHistory) {
  Result<CommitResult> first = store().Commit(Batch(Unit(Key("A"), "v1")));
  ASSERT_OK(first);
  ASSERT_OK(store().Commit(Batch(WithdrawUnit{Key("A"), kSender})));
  // The same content as before the withdrawal is not an idempotent resend: it restores.
  Result<CommitResult> again = store().Commit(Batch(Unit(Key("A"), "v1")));
  ASSERT_OK(again);
  EXPECT_EQ(again->unit_outcomes.at(0), UnitOutcome::kReplaced);
  EXPECT_EQ(again->written[0].id, first->written[0].id);
  EXPECT_EQ(again->written[0].version, 3);
  Result<UnitRecord> unit = store().ReadUnit(Key("A"));
  ASSERT_OK(unit);
  EXPECT_EQ(unit->status, UnitStatus::kRegistered);
  EXPECT_EQ(unit->version, 3);
  EXPECT_EQ(ItemCodes(*store().ListItems("person-1")), CodesOf("v1", 2));
  ASSERT_OK(store().Read("Bundle", first->written[0].id));
}

TEST_P(StoreContractTest, FindUnitsReturnsEveryPersonsUnitWithThatIdentifier) {
  ASSERT_OK(store().Commit(Batch(Unit(Key("A", "person-1"), "a1"))));
  ASSERT_OK(store().Commit(Batch(Unit(Key("A", "person-2"), "a2"))));
  ASSERT_OK(store().Commit(Batch(Unit(Key("B", "person-1"), "b1"))));
  ASSERT_OK(store().Commit(Batch(WithdrawUnit{Key("A", "person-2"), kSender})));
  Result<std::vector<UnitRecord>> found = store().FindUnits(kBundleSystem, "A");
  ASSERT_OK(found);
  ASSERT_EQ(found->size(), 2u);
  std::vector<std::string> persons;
  for (const UnitRecord& u : *found) {
    EXPECT_EQ(u.key.value, "A");
    persons.push_back(u.key.person_key);
  }
  std::sort(persons.begin(), persons.end());
  EXPECT_EQ(persons, (std::vector<std::string>{"person-1", "person-2"}));
  EXPECT_TRUE(store().FindUnits("urn:other", "A")->empty());
  // Each person's units have their own Bundle.
  EXPECT_NE((*found)[0].bundle_id, (*found)[1].bundle_id);
}

TEST_P(StoreContractTest, ListUnitsReturnsThePersonsUnitsNewestChangeFirst) {
  ASSERT_OK(store().Commit(Batch(Unit(Key("A", "person-1"), "a1"))));
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_OK(store().Commit(Batch(Unit(Key("B", "person-1"), "b1"))));
  ASSERT_OK(store().Commit(Batch(Unit(Key("C", "person-2"), "c1"))));
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_OK(store().Commit(Batch(WithdrawUnit{Key("A", "person-1"), kSender})));
  Result<std::vector<UnitRecord>> units = store().ListUnits("person-1");
  ASSERT_OK(units);
  ASSERT_EQ(units->size(), 2u);
  EXPECT_EQ((*units)[0].key.value, "A");
  EXPECT_EQ((*units)[0].status, UnitStatus::kWithdrawn);
  EXPECT_EQ((*units)[1].key.value, "B");
  EXPECT_TRUE(store().ListUnits("nobody")->empty());
}

TEST_P(StoreContractTest, FindUnitByBundleIdFindsTheUnitInAnyStatus) {
  ASSERT_OK(store().Commit(Batch(Unit(Key("A", "person-1"), "a1"))));
  ASSERT_OK(store().Commit(Batch(Unit(Key("A", "person-2"), "a2"))));
  ASSERT_OK(store().Commit(Batch(WithdrawUnit{Key("A", "person-2"), kSender})));
  Result<std::vector<UnitRecord>> found = store().FindUnits(kBundleSystem, "A");
  ASSERT_OK(found);
  for (const UnitRecord& u : *found) {
    Result<UnitRecord> by_id = store().FindUnitByBundleId(u.bundle_id);
    ASSERT_OK(by_id);
    EXPECT_EQ(by_id->key, u.key);
    EXPECT_EQ(by_id->status, u.status);
  }
  EXPECT_EQ(store().FindUnitByBundleId("no-such-bundle").status().code(), ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, ABatchMixingAUnitWithAFailingPreconditionStoresNothing) {
  ASSERT_OK(store().Commit(Put(Patient("taken"))));
  WriteBatch b;
  b.ops.push_back(Unit(Key("A"), "v1"));
  b.ops.push_back(PutResource{Patient("taken"), 0});
  EXPECT_EQ(store().Commit(std::move(b)).status().code(), ErrorCode::kPreconditionFailed);
  EXPECT_EQ(store().ReadUnit(Key("A")).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store().ListItems("person-1")->empty());
  EXPECT_TRUE(store().FindUnits(kBundleSystem, "A")->empty());
}

TEST_P(StoreContractTest, ConcurrentSendsOfOneNewUnitEndAsOneUnitWithGapFreeVersions) {
  std::mutex mu;
  std::vector<std::string> failures;
  std::vector<int64_t> versions;
  std::map<UnitOutcome, int> outcomes;
  // Thread t sends tag "t<t>" with t+1 items, so the stored items name their version.
  OnWriters([&](int t) {
    Result<CommitResult> c =
        store().Commit(Batch(Unit(Key("A"), "t" + std::to_string(t), t + 1)));
    std::lock_guard lock(mu);
    if (!c.ok()) {
      failures.push_back(c.status().ToString());
      return;
    }
    versions.push_back(c->written[0].version);
    ++outcomes[c->unit_outcomes.at(0)];
  });
  ASSERT_TRUE(failures.empty()) << failures.front();
  EXPECT_EQ(outcomes[UnitOutcome::kCreated], 1);
  EXPECT_EQ(outcomes[UnitOutcome::kReplaced], kWriters - 1);
  std::sort(versions.begin(), versions.end());
  for (size_t i = 0; i < versions.size(); ++i) {
    ASSERT_EQ(versions[i], static_cast<int64_t>(i + 1)) << "gap or duplicate version";
  }
  Result<std::vector<UnitRecord>> found = store().FindUnits(kBundleSystem, "A");
  ASSERT_OK(found);
  ASSERT_EQ(found->size(), 1u);
  const UnitRecord& unit = (*found)[0];
  EXPECT_EQ(unit.version, kWriters);
  Result<ResourceVersion> bundle = store().Read("Bundle", unit.bundle_id);
  ASSERT_OK(bundle);
  const std::string tag = BundleTag(*bundle);
  EXPECT_EQ(unit.content_hash, "hash-" + tag);
  const int count = std::stoi(tag.substr(1)) + 1;
  EXPECT_EQ(ItemCodes(*store().ListItems("person-1")), CodesOf(tag, count));
}

}  // namespace
}  // namespace clinshub::store
