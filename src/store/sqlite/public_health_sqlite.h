// SQLite statements for the public-health records (store/public_health.h): notifications,
// their outbox and the minister's export jobs. Private to store/sqlite; the store owns one
// PublicHealthWriter on its writer connection and one PublicHealthReader per read connection.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "store/public_health.h"
#include "store/sqlite/sqlite_db.h"

namespace clinshub::store::sqlite {

class PublicHealthWriter {
 public:
  static Result<std::unique_ptr<PublicHealthWriter>> Prepare(Connection& db);

  Status Apply(const PutNotification& op, Timestamp now);
  Status Apply(const UpdateDelivery& op, Timestamp now);
  Status Apply(const PutExportJob& op, Timestamp now);

 private:
  std::unique_ptr<Statement> notification_exists_, insert_notification_, insert_outbox_,
      outbox_attempts_, update_outbox_, job_state_, insert_job_, update_job_;
};

class PublicHealthReader {
 public:
  static Result<std::unique_ptr<PublicHealthReader>> Prepare(Connection& db);

  Result<NotificationRecord> ReadNotification(const std::string& id);
  Result<DeliveryRecord> ReadDelivery(const std::string& notification_id);
  Result<std::vector<DeliveryRecord>> ListDueDeliveries(Timestamp now, size_t limit);
  Result<ExportJob> ReadExportJob(const std::string& id);
  Result<std::vector<ExportJob>> ListExportJobs(ExportState state, size_t limit);
  // Built per call (the kinds and codes vary); exports are rare.
  Result<std::vector<std::string>> ScanCohort(const ItemScanQuery& q);

 private:
  explicit PublicHealthReader(Connection& db) : db_(db) {}
  Connection& db_;
  std::unique_ptr<Statement> notification_, delivery_, due_, job_, jobs_;
};

}  // namespace clinshub::store::sqlite
