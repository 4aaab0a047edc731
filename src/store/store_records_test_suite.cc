// The Store contract for the hub's records (records.h): directory, roster, consent, referral
// recipients, audit chain. Part of StoreContractTest, so every backend runs it.
#include <thread>

#include <gtest/gtest.h>

#include "common/japanese_text.h"
#include "store/audit.h"
#include "store/store_test_suite.h"

namespace clinshub::store {
namespace {

#define ASSERT_OK_R(r) ASSERT_TRUE((r).ok()) << (r).status().ToString()

constexpr const char* kBundleSystem = "http://jpfhir.jp/fhir/clins/bundle-identifier";
constexpr const char* kMemberSystem = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";

Status CommitOps(Store& store, std::vector<WriteOp> ops) {
  WriteBatch b;
  b.ops = std::move(ops);
  Result<CommitResult> r = store.Commit(std::move(b));
  return r.ok() ? Status::Ok() : r.status();
}

InstitutionRecord Institution(std::string code, std::string name, std::string kana,
                              std::string phone = "03-1234-5678") {
  InstitutionRecord r;
  r.code = std::move(code);
  r.name = std::move(name);
  r.kana = std::move(kana);
  r.address = "東京都千代田区丸の内1-1";
  r.postcode = "100-0005";
  r.phone = std::move(phone);
  r.kind = "hospital";
  return r;
}

std::vector<std::string> Codes(const std::vector<InstitutionRecord>& rs) {
  std::vector<std::string> out;
  for (const InstitutionRecord& r : rs) out.push_back(r.code);
  return out;
}

PutUnit Letter(const std::string& person, const std::string& value, const std::string& to) {
  PutUnit u;
  u.key = UnitKey{person, kBundleSystem, value};
  u.institution = "1311234567";
  u.kind = "eReferral";
  u.addressee = to;
  u.content_hash = "hash-" + value;
  fhir::Value identifier = fhir::Value::Object();
  identifier.Set("system", fhir::Value::String(kBundleSystem));
  identifier.Set("value", fhir::Value::String(value));
  u.bundle = fhir::Value::Object();
  u.bundle.Set("resourceType", fhir::Value::String("Bundle"));
  u.bundle.Set("identifier", std::move(identifier));
  u.bundle.Set("type", fhir::Value::String("document"));
  return u;
}

AuditEvent Event(const std::string& person, const std::string& action) {
  AuditEvent e;
  e.actor_kind = "institution";
  e.actor = "1311234567";
  e.purpose = "TREAT";
  e.action = action;
  e.person_key = person;
  e.target = "Patient/$summary";
  e.items = {"b1/0", "b1/1"};
  e.outcome = "permit";
  e.http_status = 200;
  e.rule = "consent";
  return e;
}

TEST_P(StoreContractTest, DirectoryFindsInstitutionsByNormalisedNameKanaPostcodeAndPhone) {
  ASSERT_TRUE(CommitOps(store(), {PutInstitution{Institution("1311111111", "山田医院", "ヤマダイイン")},
                                  PutInstitution{Institution("1312222222", "山本病院", "ヤマモトビョウイン",
                                                             "0312345679")},
                                  PutInstitution{Institution("2713333333", "田中クリニック",
                                                             "タナカクリニック")}})
                  .ok());
  InstitutionQuery by_kana;
  by_kana.name_or_kana = NormaliseForSearch("ﾔﾏﾀﾞ");  // half-width katakana finds やまだ
  Result<std::vector<InstitutionRecord>> found = store().SearchInstitutions(by_kana);
  ASSERT_OK_R(found);
  EXPECT_EQ(Codes(*found), std::vector<std::string>{"1311111111"});

  InstitutionQuery by_name;
  by_name.name_or_kana = NormaliseForSearch("山");
  found = store().SearchInstitutions(by_name);
  ASSERT_OK_R(found);
  EXPECT_EQ(Codes(*found), (std::vector<std::string>{"1311111111", "1312222222"}));

  InstitutionQuery contains;
  contains.name_or_kana = NormaliseForSearch("クリニック");
  contains.name_contains = true;
  found = store().SearchInstitutions(contains);
  ASSERT_OK_R(found);
  EXPECT_EQ(Codes(*found), std::vector<std::string>{"2713333333"});

  InstitutionQuery by_phone;
  by_phone.phone = "0312345679";
  found = store().SearchInstitutions(by_phone);
  ASSERT_OK_R(found);
  EXPECT_EQ(Codes(*found), std::vector<std::string>{"1312222222"});

  InstitutionQuery by_postcode;
  by_postcode.postcode = "100";
  by_postcode.limit = 2;
  by_postcode.offset = 1;
  found = store().SearchInstitutions(by_postcode);
  ASSERT_OK_R(found);
  EXPECT_EQ(Codes(*found), (std::vector<std::string>{"1312222222", "2713333333"}));

  InstitutionQuery wildcard;  // LIKE metacharacters are literals
  wildcard.name_or_kana = "%";
  found = store().SearchInstitutions(wildcard);
  ASSERT_OK_R(found);
  EXPECT_TRUE(found->empty());
}

TEST_P(StoreContractTest, DirectoryEntriesAreReplacedAndReadByCode) {
  InstitutionRecord r = Institution("1311111111", "山田医院", "ヤマダイイン");
  ASSERT_TRUE(CommitOps(store(), {PutInstitution{r}}).ok());
  r.active = false;
  r.emergency_permitted = true;
  ASSERT_TRUE(CommitOps(store(), {PutInstitution{r}}).ok());
  Result<InstitutionRecord> read = store().ReadInstitution("1311111111");
  ASSERT_OK_R(read);
  EXPECT_FALSE(read->active);
  EXPECT_TRUE(read->emergency_permitted);
  EXPECT_EQ(read->name, "山田医院");
  EXPECT_EQ(store().ReadInstitution("9999999999").status().code(), ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, RosterResolvesEveryIdentifierAPersonHeld) {
  ASSERT_TRUE(CommitOps(store(), {PutRosterEntry{{kMemberSystem, "00012345:あ:1:01", "p1",
                                                  "2019-01-01", "2021-03-31"}},
                                  PutRosterEntry{{kMemberSystem, "06123456:い:2:00", "p1",
                                                  "2021-04-01", ""}}})
                  .ok());
  Result<RosterEntry> old = store().ResolveIdentifier(kMemberSystem, "00012345:あ:1:01");
  ASSERT_OK_R(old);
  EXPECT_EQ(old->person_key, "p1");
  EXPECT_EQ(old->valid_to, "2021-03-31");
  Result<std::vector<RosterEntry>> all = store().ListRosterEntries("p1");
  ASSERT_OK_R(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].value_normalised, "06123456:い:2:00");
  EXPECT_EQ(store().ResolveIdentifier(kMemberSystem, "nobody").status().code(),
            ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, ConsentsAreListedReadAndRevokedOnce) {
  ConsentRecord c;
  c.id = "c1";
  c.person_key = "p1";
  c.institution = "1311111111";
  c.method = "card-reader";
  c.granted = clock_.Now();
  c.expires = clock_.Now() + std::chrono::hours(24);
  ASSERT_TRUE(CommitOps(store(), {PutConsent{c}}).ok());
  Timestamp first = clock_.Now() + std::chrono::hours(1);
  ASSERT_TRUE(CommitOps(store(), {RevokeConsent{"p1", "c1", first}}).ok());
  ASSERT_TRUE(CommitOps(store(), {RevokeConsent{"p1", "c1", first + std::chrono::hours(1)}}).ok());
  Result<ConsentRecord> read = store().ReadConsent("c1");
  ASSERT_OK_R(read);
  ASSERT_TRUE(read->revoked.has_value());
  EXPECT_EQ(*read->revoked, first);
  Result<std::vector<ConsentRecord>> listed = store().ListConsents("p1");
  ASSERT_OK_R(listed);
  EXPECT_EQ(listed->size(), 1u);
  EXPECT_EQ(CommitOps(store(), {RevokeConsent{"p1", "missing", first}}).code(),
            ErrorCode::kNotFound);
  // A consent id is written once. A second write of it is the caller's conflict (409), which
  // fails only its own batch: it is not the database failing (which would abort every batch
  // sharing its group transaction).
  EXPECT_EQ(CommitOps(store(), {PutConsent{c}}).code(), ErrorCode::kConflict);
  ConsentRecord other_person = c;
  other_person.person_key = "p2";
  EXPECT_EQ(CommitOps(store(), {PutConsent{other_person}}).code(), ErrorCode::kConflict)
      << "consent ids are unique across persons";
}

TEST_P(StoreContractTest, HasActiveConsentAnswersWhatTheConsentListSays) {
  const Timestamp now = clock_.Now();
  const auto hours = [](int h) { return std::chrono::hours(h); };
  auto consent = [&](std::string id, std::string person, std::string institution,
                     Timestamp granted, Timestamp expires) {
    ConsentRecord c;
    c.id = std::move(id);
    c.person_key = std::move(person);
    c.institution = std::move(institution);
    c.method = "card-reader";
    c.granted = granted;
    c.expires = expires;
    return c;
  };
  ASSERT_TRUE(CommitOps(store(), {PutConsent{consent("a", "p1", "A", now - hours(1), now + hours(1))},
                                  PutConsent{consent("b", "p1", "B", now - hours(1), now + hours(1))},
                                  PutConsent{consent("c", "p1", "C", now - hours(3), now - hours(2))},
                                  PutConsent{consent("d", "p1", "D", now + hours(1), now + hours(2))},
                                  PutConsent{consent("e", "p2", "E", now - hours(1), now + hours(1))}})
                  .ok());
  ASSERT_TRUE(CommitOps(store(), {RevokeConsent{"p1", "b", now}}).ok());
  struct Case {
    const char* person;
    const char* institution;
    Timestamp at;
    bool active;
    const char* why;
  };
  const Case cases[] = {
      {"p1", "A", now, true, "granted before, expires after"},
      {"p1", "A", now - hours(1), true, "the instant of the grant counts"},
      {"p1", "A", now + hours(1), false, "the instant of expiry does not"},
      {"p1", "B", now - hours(1), false, "revoked (at any time) is never active"},
      {"p1", "C", now, false, "expired"},
      {"p1", "D", now, false, "granted later"},
      {"p1", "D", now + hours(1), true, "once granted"},
      {"p1", "E", now, false, "another person's consent"},
      {"p2", "E", now, true, "that person's"},
      {"p2", "A", now, false, "another institution's"},
      {"p3", "A", now, false, "a person with no consent"},
  };
  for (const Case& c : cases) {
    Result<bool> active = store().HasActiveConsent(c.person, c.institution, c.at);
    ASSERT_OK_R(active);
    EXPECT_EQ(*active, c.active) << c.person << " " << c.institution << ": " << c.why;
    // The backend's answer is the one the consent list gives (the base definition).
    Result<bool> listed = store().Store::HasActiveConsent(c.person, c.institution, c.at);
    ASSERT_OK_R(listed);
    EXPECT_EQ(*listed, c.active) << c.person << " " << c.institution << ": " << c.why;
  }
}

TEST_P(StoreContractTest, ReferralStatesMoveOnlyAlongAllowedTransitions) {
  PutUnit letter = Letter("p1", "1311234567^2026^L1", "2711111111");
  UnitKey key = letter.key;
  ASSERT_TRUE(CommitOps(store(), {std::move(letter),
                                  SetReferralState{key, "2711111111", ReferralState::kPending,
                                                   {ReferralState::kNone}, "sender"}})
                  .ok());
  // Retrieval needs 閲覧可 first.
  Status early = CommitOps(store(), {SetReferralState{key, "2711111111", ReferralState::kRetrieved,
                                                      {ReferralState::kViewable}, "retrieval"}});
  EXPECT_EQ(early.code(), ErrorCode::kConflict);
  ASSERT_TRUE(CommitOps(store(), {SetReferralState{key, "2711111111", ReferralState::kViewable,
                                                   {ReferralState::kPending}, "patient"}})
                  .ok());
  ASSERT_TRUE(CommitOps(store(), {SetReferralState{key, "2711111111", ReferralState::kRetrieved,
                                                   {ReferralState::kViewable}, "retrieval"}})
                  .ok());
  Result<std::vector<ReferralRecipient>> rs = store().ListReferralRecipients(key);
  ASSERT_OK_R(rs);
  ASSERT_EQ(rs->size(), 1u);
  EXPECT_EQ((*rs)[0].state, ReferralState::kRetrieved);
  EXPECT_EQ((*rs)[0].set_by, "retrieval");
  EXPECT_TRUE((*rs)[0].retrieved.has_value());

  Result<std::vector<ReferralRecipient>> of_person = store().ListReferralsOfPerson("p1");
  ASSERT_OK_R(of_person);
  ASSERT_EQ(of_person->size(), 1u);
  EXPECT_EQ((*of_person)[0].recipient, "2711111111");
  of_person = store().ListReferralsOfPerson("p2");
  ASSERT_OK_R(of_person);
  EXPECT_TRUE(of_person->empty());

  Result<std::vector<InboxEntry>> inbox = store().ListInbox("2711111111", 10);
  ASSERT_OK_R(inbox);
  ASSERT_EQ(inbox->size(), 1u);
  EXPECT_EQ((*inbox)[0].unit.key, key);
  EXPECT_EQ((*inbox)[0].unit.addressee, "2711111111");
  inbox = store().ListInbox("1399999999", 10);
  ASSERT_OK_R(inbox);
  EXPECT_TRUE(inbox->empty());
}

TEST_P(StoreContractTest, AuditItemListsComeBackInTheirOrderWhateverTheirShape) {
  AuditEvent e = Event("p1", "summary");
  e.items = {"b1/0", "b2/3", "b1/1", "b1/2", "odd-reference"};
  e.patient_hidden_items = {"b2/3"};
  AuditEvent grouped = Event("p1", "summary");
  grouped.items = {"b1/0", "b2/3", "b1/1", "b1/2"};
  ASSERT_TRUE(CommitOps(store(), {AppendAudit{e}, AppendAudit{grouped}}).ok());
  AuditQuery q;
  q.person_key = "p1";
  Result<std::vector<AuditEvent>> listed = store().ListAudit(q);
  ASSERT_OK_R(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].items, e.items);
  EXPECT_EQ((*listed)[0].patient_hidden_items, e.patient_hidden_items);
  EXPECT_EQ((*listed)[1].items, grouped.items);
  EXPECT_TRUE((*listed)[1].patient_hidden_items.empty());
  Result<AuditVerification> v = store().VerifyAudit();
  ASSERT_OK_R(v);
  EXPECT_TRUE(v->intact) << v->problem;
}

TEST_P(StoreContractTest, AuditEventsChainAndVerify) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(CommitOps(store(), {AppendAudit{Event("p" + std::to_string(i % 2), "read")}}).ok());
  }
  Result<AuditVerification> v = store().VerifyAudit();
  ASSERT_OK_R(v);
  EXPECT_TRUE(v->intact) << v->problem;
  EXPECT_EQ(v->records, 5);

  AuditQuery q;
  q.person_key = "p1";
  Result<std::vector<AuditEvent>> p1 = store().ListAudit(q);
  ASSERT_OK_R(p1);
  ASSERT_EQ(p1->size(), 2u);
  EXPECT_EQ((*p1)[0].seq, 2);
  EXPECT_EQ((*p1)[0].items, (std::vector<std::string>{"b1/0", "b1/1"}));
  EXPECT_EQ((*p1)[0].hash, AuditHash((*p1)[0]));

  AuditQuery all;
  Result<std::vector<AuditEvent>> events = store().ListAudit(all);
  ASSERT_OK_R(events);
  ASSERT_EQ(events->size(), 5u);
  for (size_t i = 1; i < events->size(); ++i) {
    EXPECT_EQ((*events)[i].prev_hash, (*events)[i - 1].hash);
  }
  EXPECT_EQ((*events)[0].prev_hash, kAuditGenesisHash);
}

TEST_P(StoreContractTest, AnAuditEventInAFailedBatchIsNotWritten) {
  ASSERT_TRUE(CommitOps(store(), {AppendAudit{Event("p1", "read")}}).ok());
  Status failed = CommitOps(store(), {AppendAudit{Event("p1", "withdraw")},
                                      RevokeConsent{"p1", "missing", clock_.Now()}});
  EXPECT_EQ(failed.code(), ErrorCode::kNotFound);
  ASSERT_TRUE(CommitOps(store(), {AppendAudit{Event("p1", "read")}}).ok());
  Result<AuditVerification> v = store().VerifyAudit();
  ASSERT_OK_R(v);
  EXPECT_TRUE(v->intact) << v->problem;
  EXPECT_EQ(v->records, 2);
}

TEST_P(StoreContractTest, ConcurrentAuditAppendsFormOneUnbrokenChain) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        EXPECT_TRUE(CommitOps(store(), {AppendAudit{Event("p" + std::to_string(t), "read")}}).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  Result<AuditVerification> v = store().VerifyAudit();
  ASSERT_OK_R(v);
  EXPECT_TRUE(v->intact) << v->problem;
  EXPECT_EQ(v->records, 160);
}

}  // namespace
}  // namespace clinshub::store
