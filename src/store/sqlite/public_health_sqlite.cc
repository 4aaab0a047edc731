#include "store/sqlite/public_health_sqlite.h"

#include "store/sqlite/rows.h"

namespace clinshub::store::sqlite {
namespace {

constexpr const char* kNotificationColumns =
    "person_key, id, institution, identifier, disease_code, content_hash, bundle, submitted";

NotificationRecord RowToNotification(const Statement& s) {
  NotificationRecord n;
  n.person_key = s.ColumnText(0);
  n.id = s.ColumnText(1);
  n.institution = s.ColumnText(2);
  n.identifier = s.ColumnText(3);
  n.disease_code = s.ColumnText(4);
  n.content_hash = s.ColumnText(5);
  n.bundle_json = s.ColumnText(6);
  n.submitted = FromMicros(s.ColumnInt64(7));
  return n;
}

constexpr const char* kDeliveryColumns =
    "notification_id, person_key, institution, state, attempts, next_attempt, last_error,"
    " created, updated, delivered";

DeliveryRecord RowToDelivery(const Statement& s) {
  DeliveryRecord d;
  d.notification_id = s.ColumnText(0);
  d.person_key = s.ColumnText(1);
  d.institution = s.ColumnText(2);
  d.state = static_cast<DeliveryState>(s.ColumnInt64(3));
  d.attempts = static_cast<int>(s.ColumnInt64(4));
  d.next_attempt = FromMicros(s.ColumnInt64(5));
  d.last_error = s.ColumnText(6);
  d.created = FromMicros(s.ColumnInt64(7));
  d.updated = FromMicros(s.ColumnInt64(8));
  if (!s.ColumnIsNull(9)) d.delivered = FromMicros(s.ColumnInt64(9));
  return d;
}

constexpr const char* kJobColumns =
    "id, requester, approver, state, request, progress, manifest, error, created, updated,"
    " expires";

ExportJob RowToJob(const Statement& s) {
  ExportJob j;
  j.id = s.ColumnText(0);
  j.requester = s.ColumnText(1);
  j.approver = s.ColumnText(2);
  j.state = static_cast<ExportState>(s.ColumnInt64(3));
  j.request_json = s.ColumnText(4);
  j.progress = static_cast<int>(s.ColumnInt64(5));
  j.manifest_json = s.ColumnText(6);
  j.error = s.ColumnText(7);
  j.created = FromMicros(s.ColumnInt64(8));
  j.updated = FromMicros(s.ColumnInt64(9));
  if (!s.ColumnIsNull(10)) j.expires = FromMicros(s.ColumnInt64(10));
  return j;
}

void BindOptionalTime(Statement& s, int index, const std::optional<Timestamp>& t) {
  if (t) {
    s.BindInt64(index, ToMicros(*t));
  } else {
    s.BindNull(index);
  }
}

}  // namespace

Result<std::unique_ptr<PublicHealthWriter>> PublicHealthWriter::Prepare(Connection& db) {
  auto w = std::unique_ptr<PublicHealthWriter>(new PublicHealthWriter());
  CLINSHUB_SQLITE_PREPARE(w->notification_exists_, db, "SELECT 1 FROM notification WHERE id = ?1");
  CLINSHUB_SQLITE_PREPARE(w->insert_notification_, db,
                      std::string("INSERT INTO notification (") + kNotificationColumns +
                          ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  CLINSHUB_SQLITE_PREPARE(w->insert_outbox_, db,
                      std::string("INSERT INTO outbox (") + kDeliveryColumns +
                          ") VALUES (?1, ?2, ?3, 1, 0, ?4, '', ?4, ?4, NULL)");
  CLINSHUB_SQLITE_PREPARE(w->outbox_attempts_, db,
                      "SELECT attempts FROM outbox WHERE notification_id = ?1");
  CLINSHUB_SQLITE_PREPARE(w->update_outbox_, db,
                      "UPDATE outbox SET state = ?2, attempts = ?3, next_attempt = ?4,"
                      " last_error = ?5, updated = ?6, delivered = ?7"
                      " WHERE notification_id = ?1");
  CLINSHUB_SQLITE_PREPARE(w->job_state_, db, "SELECT state FROM export_job WHERE id = ?1");
  CLINSHUB_SQLITE_PREPARE(w->insert_job_, db,
                      std::string("INSERT INTO export_job (") + kJobColumns +
                          ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  CLINSHUB_SQLITE_PREPARE(w->update_job_, db,
                      "UPDATE export_job SET requester = ?2, approver = ?3, state = ?4,"
                      " request = ?5, progress = ?6, manifest = ?7, error = ?8, updated = ?10,"
                      " expires = ?11 WHERE id = ?1");
  return w;
}

Status PublicHealthWriter::Apply(const PutNotification& op, Timestamp now) {
  const NotificationRecord& n = op.record;
  if (n.id.empty() || n.person_key.empty()) {
    return InternalError("a notification needs an id and a person");
  }
  {
    Statement& s = *notification_exists_;
    ScopedReset reset(s);
    s.BindText(1, n.id);
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    if (*row) {
      return Status::Error(ErrorCode::kConflict, "duplicate",
                           "Notification " + n.id + " already exists");
    }
  }
  {
    Statement& s = *insert_notification_;
    ScopedReset reset(s);
    s.BindText(1, n.person_key);
    s.BindText(2, n.id);
    s.BindText(3, n.institution);
    s.BindText(4, n.identifier);
    s.BindText(5, n.disease_code);
    s.BindText(6, n.content_hash);
    s.BindText(7, n.bundle_json);
    s.BindInt64(8, ToMicros(now));
    CLINSHUB_RETURN_IF_ERROR(s.Run());
  }
  Statement& s = *insert_outbox_;
  ScopedReset reset(s);
  s.BindText(1, n.id);
  s.BindText(2, n.person_key);
  s.BindText(3, n.institution);
  s.BindInt64(4, ToMicros(now));
  return s.Run();
}

Status PublicHealthWriter::Apply(const UpdateDelivery& op, Timestamp now) {
  {
    Statement& s = *outbox_attempts_;
    ScopedReset reset(s);
    s.BindText(1, op.notification_id);
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    if (!*row) return NotFoundError("No delivery for notification " + op.notification_id);
    if (s.ColumnInt64(0) != op.if_attempts) {
      return Status::Error(ErrorCode::kPreconditionFailed, "conflict",
                           "Delivery of " + op.notification_id + " is at attempt " +
                               std::to_string(s.ColumnInt64(0)) + ", not " +
                               std::to_string(op.if_attempts));
    }
  }
  Statement& s = *update_outbox_;
  ScopedReset reset(s);
  s.BindText(1, op.notification_id);
  s.BindInt64(2, static_cast<int64_t>(op.state));
  s.BindInt64(3, op.attempts);
  s.BindInt64(4, ToMicros(op.next_attempt));
  s.BindText(5, op.last_error);
  s.BindInt64(6, ToMicros(now));
  BindOptionalTime(s, 7, op.delivered);
  return s.Run();
}

Status PublicHealthWriter::Apply(const PutExportJob& op, Timestamp now) {
  const ExportJob& j = op.job;
  std::optional<ExportState> current;
  {
    Statement& s = *job_state_;
    ScopedReset reset(s);
    s.BindText(1, j.id);
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    if (*row) current = static_cast<ExportState>(s.ColumnInt64(0));
  }
  if (!op.if_state && current) {
    return Status::Error(ErrorCode::kConflict, "duplicate", "Export job " + j.id + " exists");
  }
  if (op.if_state && !current) return NotFoundError("No export job " + j.id);
  if (op.if_state && *current != *op.if_state) {
    return Status::Error(ErrorCode::kConflict, "conflict",
                         "Export job " + j.id + " is in state " +
                             std::to_string(static_cast<int>(*current)) + ", not " +
                             std::to_string(static_cast<int>(*op.if_state)));
  }
  Statement& s = current ? *update_job_ : *insert_job_;
  ScopedReset reset(s);
  s.BindText(1, j.id);
  s.BindText(2, j.requester);
  s.BindText(3, j.approver);
  s.BindInt64(4, static_cast<int64_t>(j.state));
  s.BindText(5, j.request_json);
  s.BindInt64(6, j.progress);
  s.BindText(7, j.manifest_json);
  s.BindText(8, j.error);
  s.BindInt64(9, ToMicros(current ? j.created : now));
  s.BindInt64(10, ToMicros(now));
  BindOptionalTime(s, 11, j.expires);
  return s.Run();
}

Result<std::unique_ptr<PublicHealthReader>> PublicHealthReader::Prepare(Connection& db) {
  auto r = std::unique_ptr<PublicHealthReader>(new PublicHealthReader(db));
  CLINSHUB_SQLITE_PREPARE(r->notification_, db,
                      std::string("SELECT ") + kNotificationColumns +
                          " FROM notification WHERE id = ?1");
  CLINSHUB_SQLITE_PREPARE(r->delivery_, db,
                      std::string("SELECT ") + kDeliveryColumns +
                          " FROM outbox WHERE notification_id = ?1");
  CLINSHUB_SQLITE_PREPARE(r->due_, db,
                      std::string("SELECT ") + kDeliveryColumns +
                          " FROM outbox WHERE state = 1 AND next_attempt <= ?1"
                          " ORDER BY next_attempt, notification_id LIMIT ?2");
  CLINSHUB_SQLITE_PREPARE(r->job_, db,
                      std::string("SELECT ") + kJobColumns + " FROM export_job WHERE id = ?1");
  CLINSHUB_SQLITE_PREPARE(r->jobs_, db,
                      std::string("SELECT ") + kJobColumns +
                          " FROM export_job WHERE state = ?1 ORDER BY created, id LIMIT ?2");
  return r;
}

Result<NotificationRecord> PublicHealthReader::ReadNotification(const std::string& id) {
  Statement& s = *notification_;
  ScopedReset reset(s);
  s.BindText(1, id);
  Result<bool> row = s.Step();
  if (!row.ok()) return row.take_status();
  if (!*row) return NotFoundError("No notification " + id);
  return RowToNotification(s);
}

Result<DeliveryRecord> PublicHealthReader::ReadDelivery(const std::string& notification_id) {
  Statement& s = *delivery_;
  ScopedReset reset(s);
  s.BindText(1, notification_id);
  Result<bool> row = s.Step();
  if (!row.ok()) return row.take_status();
  if (!*row) return NotFoundError("No delivery for notification " + notification_id);
  return RowToDelivery(s);
}

Result<std::vector<DeliveryRecord>> PublicHealthReader::ListDueDeliveries(Timestamp now,
                                                                          size_t limit) {
  Statement& s = *due_;
  ScopedReset reset(s);
  s.BindInt64(1, ToMicros(now));
  s.BindInt64(2, static_cast<int64_t>(limit));
  std::vector<DeliveryRecord> out;
  while (true) {
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    if (!*row) break;
    out.push_back(RowToDelivery(s));
  }
  return out;
}

Result<ExportJob> PublicHealthReader::ReadExportJob(const std::string& id) {
  Statement& s = *job_;
  ScopedReset reset(s);
  s.BindText(1, id);
  Result<bool> row = s.Step();
  if (!row.ok()) return row.take_status();
  if (!*row) return NotFoundError("No export job " + id);
  return RowToJob(s);
}

Result<std::vector<ExportJob>> PublicHealthReader::ListExportJobs(ExportState state,
                                                                  size_t limit) {
  Statement& s = *jobs_;
  ScopedReset reset(s);
  s.BindInt64(1, static_cast<int64_t>(state));
  s.BindInt64(2, static_cast<int64_t>(limit));
  std::vector<ExportJob> out;
  while (true) {
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    if (!*row) break;
    out.push_back(RowToJob(s));
  }
  return out;
}

Result<std::vector<std::string>> PublicHealthReader::ScanCohort(const ItemScanQuery& q) {
  // Items of registered units only (withdrawn units have none, as in ListItems).
  std::string sql =
      "SELECT DISTINCT i.person_key FROM item i JOIN unit u"
      " ON u.person_key = i.person_key AND u.bundle_id = i.bundle_id"
      " WHERE u.status = 1 AND i.person_key > ?1";
  int next = 2;
  auto placeholders = [&](size_t n) {
    std::string p = "(";
    for (size_t k = 0; k < n; ++k) p += (k ? ", ?" : "?") + std::to_string(next++);
    return p + ")";
  };
  const int kinds_at = next;
  if (!q.kinds.empty()) sql += " AND i.kind IN " + placeholders(q.kinds.size());
  const int codes_at = next;
  if (!q.codes.empty()) sql += " AND i.code IN " + placeholders(q.codes.size());
  const int from_at = next;
  if (q.from) sql += " AND i.clinical_date >= ?" + std::to_string(next++);
  const int to_at = next;
  if (q.to) sql += " AND i.clinical_date < ?" + std::to_string(next++);
  const int limit_at = next;
  sql += " ORDER BY i.person_key LIMIT ?" + std::to_string(next++);

  Result<std::unique_ptr<Statement>> prepared = db_.Prepare(sql);
  if (!prepared.ok()) return prepared.take_status();
  Statement& s = **prepared;
  ScopedReset reset(s);
  s.BindText(1, q.after_person);
  for (size_t k = 0; k < q.kinds.size(); ++k) {
    s.BindInt64(kinds_at + static_cast<int>(k), static_cast<int64_t>(q.kinds[k]));
  }
  for (size_t k = 0; k < q.codes.size(); ++k) s.BindText(codes_at + static_cast<int>(k), q.codes[k]);
  if (q.from) s.BindInt64(from_at, ToMicros(*q.from));
  if (q.to) s.BindInt64(to_at, ToMicros(*q.to));
  s.BindInt64(limit_at, static_cast<int64_t>(q.limit_persons));
  std::vector<std::string> persons;
  while (true) {
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    if (!*row) break;
    persons.push_back(s.ColumnText(0));
  }
  return persons;
}

}  // namespace clinshub::store::sqlite
