// PostgreSQL statements for the public-health records (store/public_health.h): notifications,
// their outbox and the minister's export jobs (tables: pg_schema.cc, version 4). Private to
// store/postgres; mirrors src/store/sqlite/public_health_sqlite.cc.
//
// Writes run on the store's writer thread through its WriteQueue, inside the batch's SAVEPOINT
// like every other op, so a notification, its outbox row and the audit event beside it commit
// together or not at all. The rows a batch's ops depend on (does the notification exist, the
// outbox row's attempts, the job's state) are prefetched with the batch's first pipeline and
// locked (FOR UPDATE) so that two hub processes cannot both claim one delivery attempt or move
// one job from the same state.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "store/postgres/pg_records.h"
#include "store/public_health.h"

namespace clinshub::store::postgres {

class PublicHealthWriter {
 public:
  static void AddStatements(std::vector<StatementSpec>& out);

  explicit PublicHealthWriter(WriteQueue& queue) : q_(queue) {}

  // Forgets what the batch read (a new batch, or this one rolled back to its savepoint).
  void ForgetBatch();

  // Queues the reads (and row locks) `op` will need, to travel with the batch's first pipeline.
  void Prefetch(const PutNotification& op);
  void Prefetch(const UpdateDelivery& op);
  void Prefetch(const PutExportJob& op);

  // kConflict if the id exists (also when another process inserts it concurrently: the unique
  // violation is kConflict and fails this batch only).
  Status Apply(const PutNotification& op, Timestamp now);
  // kNotFound without an outbox row, kPreconditionFailed if attempts moved on.
  Status Apply(const UpdateDelivery& op, Timestamp now);
  // kConflict / kNotFound as documented on PutExportJob.
  Status Apply(const PutExportJob& op, Timestamp now);

 private:
  Result<bool> NotificationExists(const std::string& id);
  Result<std::optional<int>> Attempts(const std::string& notification_id);
  Result<std::optional<ExportState>> JobState(const std::string& id);

  WriteQueue& q_;
  // This batch's view, filled by the prefetch and kept up to date by its own ops.
  std::map<std::string, bool> notification_;               // id → exists
  std::map<std::string, std::optional<int>> attempts_;     // id → outbox attempts (none: no row)
  std::map<std::string, std::optional<ExportState>> job_;  // id → state (none: no job)
};

void AddPublicHealthReadStatements(std::vector<StatementSpec>& out);

Result<NotificationRecord> ReadNotification(RecordReads& db, const std::string& id);
Result<DeliveryRecord> ReadDelivery(RecordReads& db, const std::string& notification_id);
Result<std::vector<DeliveryRecord>> ListDueDeliveries(RecordReads& db, Timestamp now,
                                                      size_t limit);
Result<ExportJob> ReadExportJob(RecordReads& db, const std::string& id);
Result<std::vector<ExportJob>> ListExportJobs(RecordReads& db, ExportState state, size_t limit);
// Built per call (the kinds and codes vary); exports are rare.
Result<std::vector<std::string>> ScanCohort(RecordReads& db, const ItemScanQuery& q);

}  // namespace clinshub::store::postgres
