// Retention contract (Store::Purge, RetentionPolicy in records.h): every period is crossed
// with the injected clock — one second before its boundary the data is kept, at the boundary
// it is gone from every read (Read, ReadVersion, History, ReadUnit, FindUnits,
// FindUnitByBundleId, ListUnits, ListItems, ListReferralRecipients, ListInbox, consents).
// A dry run reports exactly what the real purge then deletes and changes nothing. Part of the
// backend-neutral suite: a backend whose Purge answers "this store does not purge" (kInternal)
// skips these tests until it implements it.
#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "store/store_test_suite.h"

namespace clinshub::store {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

constexpr const char* kSystem = "http://jpfhir.jp/fhir/clins/bundle-identifier";
constexpr const char* kSender = "1311234567";
constexpr const char* kAddressee = "2719876543";
constexpr const char* kRedirected = "2710000001";
constexpr hours kDay{24};

#define ASSERT_OK(expr)                                          \
  do {                                                           \
    const auto& _r = (expr);                                     \
    ASSERT_TRUE(_r.ok()) << _r.status().ToString();              \
  } while (0)

// Distinct periods, so each boundary is crossed on its own.
RetentionPolicy Policy() {
  RetentionPolicy p;
  p.prescriptions = 5 * kDay;
  p.conditions = 10 * kDay;
  p.allergies = 20 * kDay;  // アレルギー and 薬剤禁忌
  p.labs = 30 * kDay;
  p.infections = 40 * kDay;
  p.long_term = 50 * kDay;
  p.checkups = 60 * kDay;
  p.discharge_summaries = 70 * kDay;
  p.referral_after_retrieval = 7 * kDay;
  p.referral_unretrieved = 80 * kDay;
  p.superseded_versions = 3 * kDay;
  p.consents = 15 * kDay;
  return p;
}

struct ItemSpec {
  ItemKind kind;
  uint32_t flags = clins::kFlagNone;
};

PutUnit MakeUnit(const std::string& value, const std::string& kind,
                 const std::vector<ItemSpec>& items, const std::string& tag = "v1",
                 const std::string& person = "person-1") {
  PutUnit u;
  u.key = UnitKey{person, kSystem, value};
  u.institution = kSender;
  u.kind = kind;
  u.addressee = kind == "referral" ? kAddressee : "";
  u.content_hash = "hash-" + value + "-" + tag;
  fhir::Value identifier = fhir::Value::Object();
  identifier.Set("system", fhir::Value::String(kSystem));
  identifier.Set("value", fhir::Value::String(value));
  u.bundle = fhir::Value::Object();
  u.bundle.Set("resourceType", fhir::Value::String("Bundle"));
  u.bundle.Set("identifier", std::move(identifier));
  u.bundle.Set("type", fhir::Value::String(kind == "conditions" ? "collection" : "document"));
  u.bundle.Set("implicitRules", fhir::Value::String("urn:test:" + tag));
  for (size_t i = 0; i < items.size(); ++i) {
    Item item;
    item.kind = items[i].kind;
    item.flags = items[i].flags;
    item.resource_type = "Condition";
    item.code = value + "-" + std::to_string(i);
    item.text = "項目 " + value;
    item.json = "{\"resourceType\":\"Condition\"}";
    u.items.push_back(std::move(item));
  }
  return u;
}

WriteBatch One(WriteOp op) {
  WriteBatch b;
  b.ops.push_back(std::move(op));
  return b;
}

// Registers the unit; its Bundle id.
std::string Put(Store& store, PutUnit u) {
  Result<CommitResult> c = store.Commit(One(std::move(u)));
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? c->written.at(0).id : "";
}

std::vector<std::string> Codes(Store& store, const std::string& person = "person-1") {
  Result<std::vector<StoredItem>> items = store.ListItems(person);
  EXPECT_TRUE(items.ok()) << items.status().ToString();
  std::vector<std::string> codes;
  if (items.ok()) {
    for (const StoredItem& i : *items) codes.push_back(i.item.code);
  }
  std::sort(codes.begin(), codes.end());
  return codes;
}

// True when the unit and its Bundle are gone from every read.
::testing::AssertionResult UnitGone(Store& store, const std::string& value,
                                    const std::string& bundle_id,
                                    const std::string& person = "person-1") {
  UnitKey key{person, kSystem, value};
  if (store.ReadUnit(key).status().code() != ErrorCode::kNotFound) {
    return ::testing::AssertionFailure() << value << ": ReadUnit still finds it";
  }
  if (!store.FindUnits(kSystem, value)->empty()) {
    return ::testing::AssertionFailure() << value << ": FindUnits still finds it";
  }
  if (store.FindUnitByBundleId(bundle_id).status().code() != ErrorCode::kNotFound) {
    return ::testing::AssertionFailure() << value << ": FindUnitByBundleId still finds it";
  }
  Result<std::vector<UnitRecord>> units = store.ListUnits(person);
  if (!units.ok()) return ::testing::AssertionFailure() << units.status().ToString();
  for (const UnitRecord& u : *units) {
    if (u.key.value == value) return ::testing::AssertionFailure() << value << ": in ListUnits";
  }
  if (store.Read("Bundle", bundle_id).status().code() != ErrorCode::kNotFound) {
    return ::testing::AssertionFailure() << value << ": Read still finds Bundle/" << bundle_id;
  }
  if (store.History("Bundle", bundle_id, 100).status().code() != ErrorCode::kNotFound) {
    return ::testing::AssertionFailure() << value << ": History still has versions";
  }
  if (store.ReadVersion("Bundle", bundle_id, 1).status().code() != ErrorCode::kNotFound) {
    return ::testing::AssertionFailure() << value << ": ReadVersion 1 still found";
  }
  Result<std::vector<StoredItem>> items = store.ListItems(person);
  if (!items.ok()) return ::testing::AssertionFailure() << items.status().ToString();
  for (const StoredItem& i : *items) {
    if (i.bundle_id == bundle_id) return ::testing::AssertionFailure() << value << ": items";
  }
  if (!store.ListReferralRecipients(key)->empty()) {
    return ::testing::AssertionFailure() << value << ": referral recipients remain";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult UnitKept(Store& store, const std::string& value,
                                    const std::string& person = "person-1") {
  Result<UnitRecord> u = store.ReadUnit(UnitKey{person, kSystem, value});
  if (!u.ok()) return ::testing::AssertionFailure() << value << ": " << u.status().ToString();
  return ::testing::AssertionSuccess();
}

std::string ReportText(const PurgeReport& r) {
  return "items=" + std::to_string(r.items) + " units=" + std::to_string(r.units) +
         " versions=" + std::to_string(r.bundle_versions) +
         " recipients=" + std::to_string(r.referral_recipients) +
         " consents=" + std::to_string(r.consents) + " persons=" + std::to_string(r.persons);
}

PurgeReport Counts(int64_t items, int64_t units, int64_t versions, int64_t recipients,
                   int64_t consents, int64_t persons) {
  return PurgeReport{items, units, versions, recipients, consents, persons};
}

// Purges at the clock's instant; the report as text (compared whole) or the error.
std::string PurgeNow(Store& store, const Clock& clock, bool dry_run = false) {
  Result<PurgeReport> r = store.Purge(Policy(), clock.Now(), dry_run);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? ReportText(*r) : r.status().ToString();
}

// Moves the clock forward to `at`.
void At(ManualClock& clock, Timestamp at) {
  ASSERT_GE(at, clock.Now());
  clock.Advance(at - clock.Now());
}

// Store::ItemsGeneration moves on with every change to a person's current items, in the
// change's own transaction, and only then — so a cache of what was derived from ListItems is
// never served stale (api/item_cache.h).
TEST_P(StoreContractTest, ItemsGenerationMovesWithEveryChangeToThePersonsItemsAndOnlyThen) {
  auto generation = [&](const std::string& person = "person-1") {
    Result<int64_t> g = store().ItemsGeneration(person);
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? *g : -1;
  };
  const Timestamp t0 = clock_.Now();
  EXPECT_EQ(generation(), 0);
  std::set<int64_t> seen = {0};
  auto moved = [&](const char* what) {
    const int64_t g = generation();
    EXPECT_TRUE(seen.insert(g).second) << what << " did not move the generation (" << g << ")";
  };
  Put(store(), MakeUnit("a", "conditions", {{ItemKind::kCondition}}));
  moved("registering a unit");
  int64_t g = generation();
  Put(store(), MakeUnit("a", "conditions", {{ItemKind::kCondition}}));
  EXPECT_EQ(generation(), g) << "an identical resend moved it";
  Put(store(), MakeUnit("b", "conditions", {{ItemKind::kCondition}}, "v1", "person-2"));
  EXPECT_EQ(generation(), g) << "another person's unit moved it";
  Put(store(), MakeUnit("a", "conditions", {{ItemKind::kCondition}, {ItemKind::kAllergy}}, "v2"));
  moved("replacing the unit");
  Put(store(), MakeUnit("rx", "conditions", {{ItemKind::kPrescription}}));
  moved("a second unit");
  ASSERT_OK(store().Commit(One(WithdrawUnit{UnitKey{"person-1", kSystem, "rx"}, kSender})));
  moved("withdrawing a unit");
  Put(store(), MakeUnit("rx2", "conditions", {{ItemKind::kPrescription}}));
  moved("a third unit");
  g = generation();
  At(clock_, t0 + 5 * kDay - seconds(1));
  PurgeNow(store(), clock_);
  EXPECT_EQ(generation(), g) << "a purge that removed nothing of the person's moved it";
  At(clock_, t0 + 5 * kDay + seconds(1));
  PurgeNow(store(), clock_);
  moved("purging an expired item");
  Reopen();
  EXPECT_TRUE(seen.contains(generation())) << "the generation did not survive reopening";
  EXPECT_EQ(generation(), *seen.rbegin());
}

TEST_P(StoreContractTest, RetentionEachItemKindExpiresAtItsOwnPeriodAndLtsAtTheLongTermOne) {
  const Timestamp t0 = clock_.Now();
  struct Case {
    std::string value;
    ItemSpec spec;
    hours period;
  };
  const std::vector<Case> cases = {
      {"rx", {ItemKind::kPrescription}, 5 * kDay},
      {"cond", {ItemKind::kCondition}, 10 * kDay},
      {"allergy", {ItemKind::kAllergy}, 20 * kDay},
      {"contra", {ItemKind::kDrugContraindication}, 20 * kDay},
      {"lab", {ItemKind::kLabResult}, 30 * kDay},
      {"infection", {ItemKind::kInfection}, 40 * kDay},
      {"cond-lts", {ItemKind::kCondition, clins::kFlagLongTermStorage}, 50 * kDay},
      {"lab-lts", {ItemKind::kLabResult, clins::kFlagLongTermStorage}, 50 * kDay},
  };
  std::map<std::string, std::string> bundle;
  for (const Case& c : cases) bundle[c.value] = Put(store(), MakeUnit(c.value, "conditions", {c.spec}));
  // One unit mixing kinds: its items go one by one, the unit with its last item.
  const std::string mixed = Put(store(), MakeUnit(
      "mixed", "observations", {{ItemKind::kPrescription}, {ItemKind::kLabResult}}));

  std::set<std::string> alive;
  for (const Case& c : cases) alive.insert(c.value);
  std::set<hours> boundaries;
  for (const Case& c : cases) boundaries.insert(c.period);
  for (hours boundary : boundaries) {
    At(clock_, t0 + boundary - seconds(1));
    EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 0, 0, 0, 0, 0)))
        << "one second before " << boundary.count() / 24 << " days nothing expires";
    for (const std::string& v : alive) EXPECT_TRUE(UnitKept(store(), v));
    At(clock_, t0 + boundary);
    int64_t expiring = 0;
    for (const Case& c : cases) expiring += c.period == boundary ? 1 : 0;
    // The mixed unit loses its prescription at 5 days and goes whole at 30 (its lab item).
    int64_t mixed_items = boundary == 5 * kDay || boundary == 30 * kDay ? 1 : 0;
    int64_t mixed_units = boundary == 30 * kDay ? 1 : 0;
    EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(expiring + mixed_items, expiring + mixed_units,
                                            expiring + mixed_units, 0, 0, 1)))
        << "at " << boundary.count() / 24 << " days";
    for (const Case& c : cases) {
      if (c.period != boundary) continue;
      alive.erase(c.value);
      EXPECT_TRUE(UnitGone(store(), c.value, bundle[c.value]));
    }
    for (const std::string& v : alive) EXPECT_TRUE(UnitKept(store(), v)) << v;
    std::vector<std::string> expected;
    for (const Case& c : cases) {
      if (alive.count(c.value)) expected.push_back(c.value + "-0");
    }
    if (boundary < 5 * kDay) expected.push_back("mixed-0");
    if (boundary < 30 * kDay) expected.push_back("mixed-1");
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(Codes(store()), expected) << "at " << boundary.count() / 24 << " days";
  }
  EXPECT_TRUE(UnitGone(store(), "mixed", mixed));
  EXPECT_TRUE(store().ListUnits("person-1")->empty());
}

TEST_P(StoreContractTest, RetentionReplacingAUnitRestartsItsItemsPeriodsFromTheNewRegistration) {
  const Timestamp t0 = clock_.Now();
  const std::string id = Put(store(), MakeUnit("A", "conditions", {{ItemKind::kCondition}}, "v1"));
  At(clock_, t0 + 4 * kDay);
  Put(store(), MakeUnit("A", "conditions", {{ItemKind::kCondition}}, "v2"));
  At(clock_, t0 + 10 * kDay);
  // v1 was superseded at day 4 + 3 days buffer: gone; the condition now counts from day 4.
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 0, 1, 0, 0, 1)));
  EXPECT_EQ(Codes(store()), std::vector<std::string>{"A-0"});
  At(clock_, t0 + 14 * kDay - seconds(1));
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 0, 0, 0, 0, 0)));
  At(clock_, t0 + 14 * kDay);
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(1, 1, 1, 0, 0, 1)));
  EXPECT_TRUE(UnitGone(store(), "A", id));
}

TEST_P(StoreContractTest, RetentionCheckupsAndDischargeSummariesExpireByTheirOwnPeriodFromTheLastChange) {
  const Timestamp t0 = clock_.Now();
  const std::string checkup = Put(store(), MakeUnit("chk", "checkup", {}));
  // A discharge summary carrying a prescription: the item goes at 5 days, the document stays.
  const std::string discharge =
      Put(store(), MakeUnit("dis", "discharge-summary", {{ItemKind::kPrescription}}));
  At(clock_, t0 + 5 * kDay);
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(1, 0, 0, 0, 0, 1)));
  EXPECT_TRUE(Codes(store()).empty());
  EXPECT_TRUE(store().Read("Bundle", discharge).ok());

  At(clock_, t0 + 60 * kDay - seconds(1));
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 0, 0, 0, 0, 0)));
  EXPECT_TRUE(UnitKept(store(), "chk"));
  At(clock_, t0 + 60 * kDay);
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 1, 1, 0, 0, 1)));
  EXPECT_TRUE(UnitGone(store(), "chk", checkup));
  EXPECT_TRUE(UnitKept(store(), "dis"));

  At(clock_, t0 + 70 * kDay - seconds(1));
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 0, 0, 0, 0, 0)));
  At(clock_, t0 + 70 * kDay);
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 1, 1, 0, 0, 1)));
  EXPECT_TRUE(UnitGone(store(), "dis", discharge));
}

SetReferralState Referral(const std::string& value, const std::string& recipient,
                          ReferralState state) {
  SetReferralState op;
  op.unit = UnitKey{"person-1", kSystem, value};
  op.recipient = recipient;
  op.state = state;
  op.allowed_from = {ReferralState::kNone, ReferralState::kPending, ReferralState::kViewable};
  op.set_by = state == ReferralState::kRetrieved ? "retrieval" : "sender";
  return op;
}

TEST_P(StoreContractTest, RetentionRetrievedReferralLettersGoABufferAfterTheLastRetrieval) {
  const Timestamp t0 = clock_.Now();
  const std::string id = Put(store(), MakeUnit("ref", "referral", {}));
  ASSERT_OK(store().Commit(One(Referral("ref", kAddressee, ReferralState::kPending))));
  ASSERT_OK(store().Commit(One(Referral("ref", kRedirected, ReferralState::kPending))));
  At(clock_, t0 + 2 * kDay);
  ASSERT_OK(store().Commit(One(Referral("ref", kAddressee, ReferralState::kRetrieved))));
  // One recipient retrieved, one not: the letter waits for the other.
  At(clock_, t0 + 2 * kDay + 7 * kDay);
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 0, 0, 0, 0, 0)));
  At(clock_, t0 + 4 * kDay + 7 * kDay);
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 0, 0, 0, 0, 0)));
  ASSERT_OK(store().Commit(One(Referral("ref", kRedirected, ReferralState::kRetrieved))));
  const Timestamp last_retrieval = clock_.Now();
  At(clock_, last_retrieval + 7 * kDay - seconds(1));
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 0, 0, 0, 0, 0)));
  EXPECT_EQ(store().ListReferralRecipients(UnitKey{"person-1", kSystem, "ref"})->size(), 2u);
  At(clock_, last_retrieval + 7 * kDay);
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 1, 1, 2, 0, 1)));
  EXPECT_TRUE(UnitGone(store(), "ref", id));
  EXPECT_TRUE(store().ListInbox(kAddressee, 100)->empty());
  EXPECT_TRUE(store().ListReferralsOfPerson("person-1")->empty());
}

TEST_P(StoreContractTest, RetentionReferralLettersNeverRetrievedGoAtTheMaximumAfterRegistration) {
  const Timestamp t0 = clock_.Now();
  const std::string id = Put(store(), MakeUnit("ref", "referral", {}));
  ASSERT_OK(store().Commit(One(Referral("ref", kAddressee, ReferralState::kViewable))));
  // A letter with no recipient row at all follows the same maximum.
  const std::string bare = Put(store(), MakeUnit("bare", "referral", {}));
  At(clock_, t0 + 80 * kDay - seconds(1));
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 0, 0, 0, 0, 0)));
  EXPECT_EQ(store().ListInbox(kAddressee, 100)->size(), 1u);
  At(clock_, t0 + 80 * kDay);
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 2, 2, 1, 0, 1)));
  EXPECT_TRUE(UnitGone(store(), "ref", id));
  EXPECT_TRUE(UnitGone(store(), "bare", bare));
  EXPECT_TRUE(store().ListInbox(kAddressee, 100)->empty());
}

TEST_P(StoreContractTest, RetentionSupersededBundleVersionsGoTheirBufferAfterBeingReplaced) {
  const Timestamp t0 = clock_.Now();
  const std::string id = Put(store(), MakeUnit("A", "conditions", {{ItemKind::kInfection}}, "v1"));
  At(clock_, t0 + 1 * kDay);
  Put(store(), MakeUnit("A", "conditions", {{ItemKind::kInfection}}, "v2"));
  At(clock_, t0 + 2 * kDay);
  Put(store(), MakeUnit("A", "conditions", {{ItemKind::kInfection}}, "v3"));

  At(clock_, t0 + 1 * kDay + 3 * kDay - seconds(1));
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 0, 0, 0, 0, 0)));
  EXPECT_EQ(store().History("Bundle", id, 10)->size(), 3u);
  At(clock_, t0 + 1 * kDay + 3 * kDay);
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 0, 1, 0, 0, 1)));
  EXPECT_EQ(store().ReadVersion("Bundle", id, 1).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store().ReadVersion("Bundle", id, 2).ok());
  At(clock_, t0 + 2 * kDay + 3 * kDay);
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 0, 1, 0, 0, 1)));
  Result<std::vector<ResourceVersion>> history = store().History("Bundle", id, 10);
  ASSERT_OK(history);
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].version, 3);
  ASSERT_OK(store().Read("Bundle", id));
  EXPECT_EQ(Codes(store()), std::vector<std::string>{"A-0"});
  // The unit keeps working: a resend continues its history at version 4.
  Result<CommitResult> next =
      store().Commit(One(MakeUnit("A", "conditions", {{ItemKind::kInfection}}, "v4")));
  ASSERT_OK(next);
  EXPECT_EQ(next->written[0].version, 4);
}

TEST_P(StoreContractTest, RetentionWithdrawnUnitsGoWholeTheBufferAfterTheWithdrawal) {
  const Timestamp t0 = clock_.Now();
  const std::string id = Put(store(), MakeUnit("ref", "referral", {{ItemKind::kPrescription}}));
  ASSERT_OK(store().Commit(One(Referral("ref", kAddressee, ReferralState::kPending))));
  At(clock_, t0 + 1 * kDay);
  ASSERT_OK(store().Commit(One(WithdrawUnit{UnitKey{"person-1", kSystem, "ref"}, kSender})));
  At(clock_, t0 + 4 * kDay - seconds(1));
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 0, 0, 0, 0, 0)));
  EXPECT_EQ(store().Read("Bundle", id).status().code(), ErrorCode::kGone);
  EXPECT_EQ(store().History("Bundle", id, 10)->size(), 2u);
  At(clock_, t0 + 4 * kDay);
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 1, 2, 1, 0, 1)));
  EXPECT_TRUE(UnitGone(store(), "ref", id));
  // The identifier is free again: a new registration starts a new unit.
  Result<CommitResult> again = store().Commit(One(MakeUnit("ref", "referral", {})));
  ASSERT_OK(again);
  EXPECT_EQ(again->unit_outcomes[0], UnitOutcome::kCreated);
}

ConsentRecord Consent(const std::string& id, Timestamp granted, hours valid) {
  return ConsentRecord{id, "person-1", kSender, "card-reader", granted, granted + valid, {}};
}

TEST_P(StoreContractTest, RetentionConsentsGoTheirBufferAfterExpiryOrRevocation) {
  const Timestamp t0 = clock_.Now();
  ASSERT_OK(store().Commit(One(PutConsent{Consent("expiring", t0, kDay)})));
  ASSERT_OK(store().Commit(One(PutConsent{Consent("revoked", t0, kDay)})));
  ASSERT_OK(store().Commit(One(PutConsent{Consent("long", t0, 1000 * kDay)})));
  ASSERT_OK(store().Commit(One(RevokeConsent{"person-1", "revoked", t0 + hours(1)})));
  At(clock_, t0 + hours(1) + 15 * kDay - seconds(1));
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 0, 0, 0, 0, 0)));
  At(clock_, t0 + hours(1) + 15 * kDay);
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 0, 0, 0, 1, 1)));
  EXPECT_EQ(store().ReadConsent("revoked").status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store().ReadConsent("expiring").ok());
  At(clock_, t0 + kDay + 15 * kDay - seconds(1));
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 0, 0, 0, 0, 0)));
  At(clock_, t0 + kDay + 15 * kDay);
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(0, 0, 0, 0, 1, 1)));
  Result<std::vector<ConsentRecord>> left = store().ListConsents("person-1");
  ASSERT_OK(left);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].id, "long");
}

TEST_P(StoreContractTest, RetentionADryRunReportsExactlyWhatThePurgeDeletesAndChangesNothing) {
  const Timestamp t0 = clock_.Now();
  // Several persons, every rule at once.
  for (const std::string person : {"person-1", "person-2", "person-3"}) {
    Put(store(), MakeUnit("cond", "conditions", {{ItemKind::kCondition}, {ItemKind::kPrescription}}, "v1",
                 person));
    Put(store(), MakeUnit("lab", "observations", {{ItemKind::kLabResult}}, "v1", person));
    Put(store(), MakeUnit("chk", "checkup", {}, "v1", person));
  }
  Put(store(), MakeUnit("ref", "referral", {{ItemKind::kPrescription}}));
  ASSERT_OK(store().Commit(One(Referral("ref", kAddressee, ReferralState::kRetrieved))));
  ASSERT_OK(store().Commit(One(PutConsent{Consent("c1", t0, kDay)})));
  At(clock_, t0 + 2 * kDay);
  Put(store(), MakeUnit("lab", "observations", {{ItemKind::kLabResult}}, "v2", "person-2"));
  At(clock_, t0 + 20 * kDay);

  auto snapshot = [&] {
    std::string s;
    for (const std::string person : {"person-1", "person-2", "person-3"}) {
      for (const std::string& c : Codes(store(), person)) s += c + ",";
      Result<std::vector<UnitRecord>> units = store().ListUnits(person);
      EXPECT_TRUE(units.ok());
      for (const UnitRecord& u : units.ok() ? *units : std::vector<UnitRecord>{}) {
        s += u.key.value + ":" + std::to_string(store().History("Bundle", u.bundle_id, 10)->size());
      }
      s += std::to_string(store().ListConsents(person)->size()) + ";";
    }
    return s + std::to_string(store().ListReferralsOfPerson("person-1")->size());
  };
  const std::string before = snapshot();
  const std::string dry = PurgeNow(store(), clock_, /*dry_run=*/true);
  EXPECT_EQ(snapshot(), before) << "a dry run deletes nothing";
  EXPECT_EQ(PurgeNow(store(), clock_, true), dry) << "and can be repeated";
  // cond: 3 conditions (10 d) + 3 prescriptions, units whole; lab v1 of person-2 superseded;
  // the referral letter retrieved 20 days ago (its prescription and the letter); the consent.
  EXPECT_EQ(dry, ReportText(Counts(7, 4, 5, 1, 1, 3)));
  EXPECT_EQ(PurgeNow(store(), clock_), dry);
  EXPECT_NE(snapshot(), before);
  EXPECT_EQ(PurgeNow(store(), clock_, true), ReportText(Counts(0, 0, 0, 0, 0, 0)));
}

TEST_P(StoreContractTest, RetentionPurgeNeverTouchesTheAuditTrail) {
  const Timestamp t0 = clock_.Now();
  for (int i = 0; i < 3; ++i) {
    AuditEvent e;
    e.actor_kind = "institution";
    e.actor = kSender;
    e.purpose = "TREAT";
    e.action = "submit";
    e.person_key = "person-1";
    e.target = "Bundle/x";
    e.outcome = "permit";
    WriteBatch b = One(MakeUnit("u" + std::to_string(i), "conditions", {{ItemKind::kCondition}}));
    b.ops.push_back(AppendAudit{e});
    ASSERT_OK(store().Commit(std::move(b)));
  }
  At(clock_, t0 + 1000 * kDay);
  EXPECT_EQ(PurgeNow(store(), clock_), ReportText(Counts(3, 3, 3, 0, 0, 1)));
  Result<AuditVerification> v = store().VerifyAudit();
  ASSERT_OK(v);
  EXPECT_TRUE(v->intact) << v->problem;
  EXPECT_EQ(v->records, 3);
}

TEST_P(StoreContractTest, RetentionCommitsKeepFlowingWhileALargePurgeRuns) {
  const Timestamp t0 = clock_.Now();
  // More units than one purge window holds, so the purge takes several transactions.
  constexpr int kUnits = 1200;
  for (int b = 0; b < kUnits / 200; ++b) {
    WriteBatch batch;
    for (int i = 0; i < 200; ++i) {
      batch.ops.push_back(MakeUnit("old-" + std::to_string(b * 200 + i), "conditions",
                                   {{ItemKind::kCondition}, {ItemKind::kCondition}}));
    }
    ASSERT_OK(store().Commit(std::move(batch)));
  }
  At(clock_, t0 + 100 * kDay);
  std::atomic<bool> purging{true};
  std::atomic<int> committed{0};
  std::thread writer([&] {
    for (int i = 0; purging.load() || i < 5; ++i) {
      Result<CommitResult> c = store().Commit(
          One(MakeUnit("new-" + std::to_string(i), "conditions", {{ItemKind::kCondition}})));
      EXPECT_TRUE(c.ok()) << c.status().ToString();
      committed.fetch_add(1);
    }
  });
  Result<PurgeReport> r = store().Purge(Policy(), clock_.Now(), false);
  purging.store(false);
  writer.join();
  ASSERT_OK(r);
  EXPECT_EQ(r->units, kUnits);
  EXPECT_EQ(r->items, 2 * kUnits);
  EXPECT_EQ(r->bundle_versions, kUnits);
  Result<std::vector<UnitRecord>> left = store().ListUnits("person-1");
  ASSERT_OK(left);
  EXPECT_EQ(static_cast<int>(left->size()), committed.load()) << "only the new units remain";
  for (const UnitRecord& u : *left) EXPECT_EQ(u.key.value.rfind("new-", 0), 0u);
}

}  // namespace
}  // namespace clinshub::store
