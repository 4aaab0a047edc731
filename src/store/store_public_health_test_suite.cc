// The Store contract for public health (public_health.h): notifications and their outbox,
// export jobs and the cohort scan. Part of StoreContractTest, so every backend runs it.
#include <gtest/gtest.h>

#include "store/store_test_suite.h"

namespace clinshub::store {
namespace {

#define ASSERT_OK_R(r) ASSERT_TRUE((r).ok()) << (r).status().ToString()

constexpr const char* kBundleSystem = "http://jpfhir.jp/fhir/clins/bundle-identifier";

Result<CommitResult> CommitOps(Store& store, std::vector<WriteOp> ops) {
  WriteBatch b;
  b.ops = std::move(ops);
  return store.Commit(std::move(b));
}

NotificationRecord Notification(const std::string& person, const std::string& id) {
  NotificationRecord n;
  n.person_key = person;
  n.id = id;
  n.institution = "1311234567";
  n.identifier = "1311234567^2026^" + id;
  n.disease_code = "measles";
  n.content_hash = "hash-" + id;
  n.bundle_json = R"({"resourceType":"Bundle"})";
  return n;
}

PutUnit UnitWith(const std::string& person, const std::string& value,
                 std::vector<std::pair<ItemKind, std::string>> items, int day) {
  PutUnit u;
  u.key = UnitKey{person, kBundleSystem, value};
  u.institution = "1311234567";
  u.kind = "Observation";
  u.content_hash = "hash-" + person + value;
  fhir::Value identifier = fhir::Value::Object();
  identifier.Set("system", fhir::Value::String(kBundleSystem));
  identifier.Set("value", fhir::Value::String(value));
  u.bundle = fhir::Value::Object();
  u.bundle.Set("resourceType", fhir::Value::String("Bundle"));
  u.bundle.Set("identifier", std::move(identifier));
  u.bundle.Set("type", fhir::Value::String("collection"));
  for (const auto& [kind, code] : items) {
    Item item;
    item.kind = kind;
    item.resource_type = "Observation";
    item.code = code;
    item.clinical_date = Timestamp(std::chrono::hours(24 * day));
    item.json = R"({"resourceType":"Observation"})";
    u.items.push_back(std::move(item));
  }
  return u;
}

TEST_P(StoreContractTest, ANotificationIsStoredAndQueuedInOneTransaction) {
  ASSERT_OK_R(CommitOps(store(), {PutNotification{Notification("person-1", "n1")}}));
  Result<NotificationRecord> n = store().ReadNotification("n1");
  ASSERT_OK_R(n);
  EXPECT_EQ(n->person_key, "person-1");
  EXPECT_EQ(n->disease_code, "measles");
  EXPECT_EQ(n->submitted, clock_.Now());
  Result<DeliveryRecord> d = store().ReadDelivery("n1");
  ASSERT_OK_R(d);
  EXPECT_EQ(d->state, DeliveryState::kQueued);
  EXPECT_EQ(d->attempts, 0);
  EXPECT_EQ(d->next_attempt, clock_.Now());
  EXPECT_EQ(store().ReadNotification("nope").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store().ReadDelivery("nope").status().code(), ErrorCode::kNotFound);

  // The same id again fails the whole batch: the audit event beside it is not written.
  AuditEvent e;
  e.actor_kind = "institution";
  e.action = "notify";
  Result<CommitResult> again =
      CommitOps(store(), {AppendAudit{e}, PutNotification{Notification("person-1", "n1")}});
  EXPECT_EQ(again.status().code(), ErrorCode::kConflict);
  EXPECT_TRUE(store().ListAudit(AuditQuery{})->empty());
}

TEST_P(StoreContractTest, DeliveriesAreDueByTimeAndClaimedOptimistically) {
  ASSERT_OK_R(CommitOps(store(), {PutNotification{Notification("person-1", "n1")},
                                  PutNotification{Notification("person-2", "n2")}}));
  const Timestamp t0 = clock_.Now();
  ASSERT_EQ(store().ListDueDeliveries(t0, 10)->size(), 2u);
  EXPECT_TRUE(store().ListDueDeliveries(t0 - std::chrono::seconds(1), 10)->empty());
  EXPECT_EQ(store().ListDueDeliveries(t0, 1)->size(), 1u);

  UpdateDelivery claim{"n1", 0, DeliveryState::kQueued, 1, t0 + std::chrono::seconds(30), ""};
  ASSERT_OK_R(CommitOps(store(), {claim}));
  // A second claim of the same attempt loses.
  EXPECT_EQ(CommitOps(store(), {claim}).status().code(), ErrorCode::kPreconditionFailed);
  Result<std::vector<DeliveryRecord>> due = store().ListDueDeliveries(t0, 10);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].notification_id, "n2");

  UpdateDelivery done{"n1", 1, DeliveryState::kDelivered, 1, t0, "", t0};
  ASSERT_OK_R(CommitOps(store(), {done}));
  UpdateDelivery dead{"n2", 0, DeliveryState::kFailed, 1, t0, "HTTP 400"};
  ASSERT_OK_R(CommitOps(store(), {dead}));
  EXPECT_TRUE(store().ListDueDeliveries(t0 + std::chrono::hours(1), 10)->empty());
  Reopen();
  EXPECT_EQ(store().ReadDelivery("n1")->state, DeliveryState::kDelivered);
  EXPECT_EQ(store().ReadDelivery("n1")->delivered, t0);
  EXPECT_EQ(store().ReadDelivery("n2")->state, DeliveryState::kFailed);
  EXPECT_EQ(store().ReadDelivery("n2")->last_error, "HTTP 400");
  EXPECT_EQ(CommitOps(store(), {UpdateDelivery{"n9", 0}}).status().code(),
            ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, ExportJobsMoveOnlyFromTheExpectedState) {
  ExportJob job;
  job.id = "job-1";
  job.requester = "alice";
  job.request_json = R"({"purpose":"x"})";
  ASSERT_OK_R(CommitOps(store(), {PutExportJob{job}}));
  EXPECT_EQ(CommitOps(store(), {PutExportJob{job}}).status().code(), ErrorCode::kConflict);
  Result<ExportJob> read = store().ReadExportJob("job-1");
  ASSERT_OK_R(read);
  EXPECT_EQ(read->state, ExportState::kRequested);
  EXPECT_EQ(read->created, clock_.Now());

  ExportJob approved = *read;
  approved.state = ExportState::kApproved;
  approved.approver = "bob";
  // Approving twice: the second finds the job already approved.
  ASSERT_OK_R(CommitOps(store(), {PutExportJob{approved, ExportState::kRequested}}));
  EXPECT_EQ(CommitOps(store(), {PutExportJob{approved, ExportState::kRequested}}).status().code(),
            ErrorCode::kConflict);
  ASSERT_EQ(store().ListExportJobs(ExportState::kApproved, 10)->size(), 1u);
  EXPECT_TRUE(store().ListExportJobs(ExportState::kRequested, 10)->empty());
  ExportJob missing = approved;
  missing.id = "job-2";
  EXPECT_EQ(CommitOps(store(), {PutExportJob{missing, ExportState::kApproved}}).status().code(),
            ErrorCode::kNotFound);

  ExportJob done = approved;
  done.state = ExportState::kCompleted;
  done.manifest_json = "[]";
  done.expires = clock_.Now() + std::chrono::hours(24);
  ASSERT_OK_R(CommitOps(store(), {PutExportJob{done, ExportState::kApproved}}));
  Reopen();
  read = store().ReadExportJob("job-1");
  ASSERT_OK_R(read);
  EXPECT_EQ(read->state, ExportState::kCompleted);
  EXPECT_EQ(read->approver, "bob");
  EXPECT_EQ(read->expires, clock_.Now() + std::chrono::hours(24));
  EXPECT_EQ(read->manifest_json, "[]");
}

TEST_P(StoreContractTest, CohortScanFiltersByKindCodeAndPeriodAndPagesByPerson) {
  ASSERT_OK_R(CommitOps(
      store(), {UnitWith("p1", "1311234567^2026^a", {{ItemKind::kInfection, "hbs"}}, 100),
                UnitWith("p2", "1311234567^2026^b", {{ItemKind::kInfection, "hcv"}}, 100),
                UnitWith("p3", "1311234567^2026^c",
                         {{ItemKind::kInfection, "hbs"}, {ItemKind::kLabResult, "alt"}}, 200),
                UnitWith("p4", "1311234567^2026^d", {{ItemKind::kLabResult, "hbs"}}, 100),
                UnitWith("p5", "1311234567^2026^e", {{ItemKind::kInfection, "hbs"}}, 100)}));
  ASSERT_OK_R(CommitOps(store(), {WithdrawUnit{UnitKey{"p5", kBundleSystem, "1311234567^2026^e"},
                                               "1311234567"}}));
  ItemScanQuery q;
  q.kinds = {ItemKind::kInfection};
  q.codes = {"hbs"};
  using V = std::vector<std::string>;
  EXPECT_EQ(*store().ScanCohort(q), (V{"p1", "p3"})) << "withdrawn units never match";
  q.to = Timestamp(std::chrono::hours(24 * 150));
  EXPECT_EQ(*store().ScanCohort(q), (V{"p1"}));
  q.to.reset();
  q.from = Timestamp(std::chrono::hours(24 * 150));
  EXPECT_EQ(*store().ScanCohort(q), (V{"p3"}));
  ItemScanQuery all;
  all.limit_persons = 2;
  EXPECT_EQ(*store().ScanCohort(all), (V{"p1", "p2"}));
  all.after_person = "p2";
  EXPECT_EQ(*store().ScanCohort(all), (V{"p3", "p4"}));
  all.after_person = "p4";
  EXPECT_TRUE(store().ScanCohort(all)->empty());
}

}  // namespace
}  // namespace clinshub::store
