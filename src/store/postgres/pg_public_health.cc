#include "store/postgres/pg_public_health.h"

#include <algorithm>
#include <cstdint>

namespace clinshub::store::postgres {
namespace {

constexpr const char* kNotificationColumns =
    "person_key, id, institution, identifier, disease_code, content_hash, bundle, submitted";

NotificationRecord RowToNotification(const Rows& r, int i) {
  NotificationRecord n;
  n.person_key = r.Text(i, 0);
  n.id = r.Text(i, 1);
  n.institution = r.Text(i, 2);
  n.identifier = r.Text(i, 3);
  n.disease_code = r.Text(i, 4);
  n.content_hash = r.Text(i, 5);
  n.bundle_json = r.Text(i, 6);
  n.submitted = FromMicros(r.Int64(i, 7));
  return n;
}

constexpr const char* kDeliveryColumns =
    "notification_id, person_key, institution, state, attempts, next_attempt, last_error,"
    " created, updated, delivered";

DeliveryRecord RowToDelivery(const Rows& r, int i) {
  DeliveryRecord d;
  d.notification_id = r.Text(i, 0);
  d.person_key = r.Text(i, 1);
  d.institution = r.Text(i, 2);
  d.state = static_cast<DeliveryState>(r.Int64(i, 3));
  d.attempts = static_cast<int>(r.Int64(i, 4));
  d.next_attempt = FromMicros(r.Int64(i, 5));
  d.last_error = r.Text(i, 6);
  d.created = FromMicros(r.Int64(i, 7));
  d.updated = FromMicros(r.Int64(i, 8));
  if (!r.IsNull(i, 9)) d.delivered = FromMicros(r.Int64(i, 9));
  return d;
}

constexpr const char* kJobColumns =
    "id, requester, approver, state, request, progress, manifest, error, created, updated,"
    " expires";

ExportJob RowToJob(const Rows& r, int i) {
  ExportJob j;
  j.id = r.Text(i, 0);
  j.requester = r.Text(i, 1);
  j.approver = r.Text(i, 2);
  j.state = static_cast<ExportState>(r.Int64(i, 3));
  j.request_json = r.Text(i, 4);
  j.progress = static_cast<int>(r.Int64(i, 5));
  j.manifest_json = r.Text(i, 6);
  j.error = r.Text(i, 7);
  j.created = FromMicros(r.Int64(i, 8));
  j.updated = FromMicros(r.Int64(i, 9));
  if (!r.IsNull(i, 10)) j.expires = FromMicros(r.Int64(i, 10));
  return j;
}

Params& OptionalTime(Params& p, const std::optional<Timestamp>& t) {
  return t ? p.Int64(ToMicros(*t)) : p.Null();
}

template <typename T, typename Convert>
Result<std::vector<T>> Collect(Result<Rows> r, Convert convert) {
  if (!r.ok()) return r.take_status();
  std::vector<T> out;
  out.reserve(static_cast<size_t>(r->size()));
  for (int i = 0; i < r->size(); ++i) out.push_back(convert(*r, i));
  return out;
}

int64_t Limit(size_t n) { return static_cast<int64_t>(std::min<size_t>(n, INT64_MAX)); }

std::optional<int> ToAttempts(const Rows& r) {
  if (r.size() == 0) return std::nullopt;
  return static_cast<int>(r.Int64(0, 0));
}

std::optional<ExportState> ToJobState(const Rows& r) {
  if (r.size() == 0) return std::nullopt;
  return static_cast<ExportState>(r.Int64(0, 0));
}

}  // namespace

// ---- Writer ----------------------------------------------------------------------------

void PublicHealthWriter::AddStatements(std::vector<StatementSpec>& out) {
  // No lock: a missing row cannot be locked. A concurrent insert of the same id by another
  // process is caught by the unique index instead (kConflict).
  out.push_back({"ph_notification_exists", "SELECT 1 FROM notification WHERE id = $1"});
  out.push_back({"ph_insert_notification",
                 std::string("INSERT INTO notification (") + kNotificationColumns +
                     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"});
  out.push_back({"ph_insert_outbox",
                 std::string("INSERT INTO outbox (") + kDeliveryColumns +
                     ") VALUES ($1, $2, $3, 1, 0, $4, '', $4, $4, NULL)"});
  // FOR UPDATE: the optimistic claim (if_attempts) must hold until our COMMIT, also against
  // the delivery workers of other hub processes.
  out.push_back({"ph_outbox_attempts",
                 "SELECT attempts FROM outbox WHERE notification_id = $1 FOR UPDATE"});
  out.push_back({"ph_update_outbox",
                 "UPDATE outbox SET state = $2, attempts = $3, next_attempt = $4,"
                 " last_error = $5, updated = $6, delivered = $7 WHERE notification_id = $1"});
  out.push_back({"ph_job_state", "SELECT state FROM export_job WHERE id = $1 FOR UPDATE"});
  out.push_back({"ph_insert_job", std::string("INSERT INTO export_job (") + kJobColumns +
                                      ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"});
  // created never changes once the job exists.
  out.push_back({"ph_update_job",
                 "UPDATE export_job SET requester = $2, approver = $3, state = $4, request = $5,"
                 " progress = $6, manifest = $7, error = $8, updated = $9, expires = $10"
                 " WHERE id = $1"});
}

void PublicHealthWriter::ForgetBatch() {
  notification_.clear();
  attempts_.clear();
  job_.clear();
}

void PublicHealthWriter::Prefetch(const PutNotification& op) {
  const std::string id = op.record.id;
  q_.Queue("ph_notification_exists", Params().Text(id), [this, id](const Rows& r) {
    notification_.emplace(id, r.size() != 0);  // keeps what the batch's own ops set
  });
}

void PublicHealthWriter::Prefetch(const UpdateDelivery& op) {
  const std::string id = op.notification_id;
  q_.Queue("ph_outbox_attempts", Params().Text(id),
           [this, id](const Rows& r) { attempts_.emplace(id, ToAttempts(r)); });
}

void PublicHealthWriter::Prefetch(const PutExportJob& op) {
  const std::string id = op.job.id;
  q_.Queue("ph_job_state", Params().Text(id),
           [this, id](const Rows& r) { job_.emplace(id, ToJobState(r)); });
}

// The cache lookups below fall back to a read (sent with everything queued before it, so it
// sees the batch's earlier writes) when the prefetch did not cover the id.
Result<bool> PublicHealthWriter::NotificationExists(const std::string& id) {
  auto cached = notification_.find(id);
  if (cached != notification_.end()) return cached->second;
  Result<Rows> r = q_.Read("ph_notification_exists", Params().Text(id));
  if (!r.ok()) return r.take_status();
  return notification_.emplace(id, r->size() != 0).first->second;
}

Result<std::optional<int>> PublicHealthWriter::Attempts(const std::string& notification_id) {
  auto cached = attempts_.find(notification_id);
  if (cached != attempts_.end()) return cached->second;
  Result<Rows> r = q_.Read("ph_outbox_attempts", Params().Text(notification_id));
  if (!r.ok()) return r.take_status();
  return attempts_.emplace(notification_id, ToAttempts(*r)).first->second;
}

Result<std::optional<ExportState>> PublicHealthWriter::JobState(const std::string& id) {
  auto cached = job_.find(id);
  if (cached != job_.end()) return cached->second;
  Result<Rows> r = q_.Read("ph_job_state", Params().Text(id));
  if (!r.ok()) return r.take_status();
  return job_.emplace(id, ToJobState(*r)).first->second;
}

Status PublicHealthWriter::Apply(const PutNotification& op, Timestamp now) {
  const NotificationRecord& n = op.record;
  if (n.id.empty() || n.person_key.empty()) {
    return InternalError("a notification needs an id and a person");
  }
  Result<bool> exists = NotificationExists(n.id);
  if (!exists.ok()) return exists.take_status();
  if (*exists) {
    return Status::Error(ErrorCode::kConflict, "duplicate",
                         "Notification " + n.id + " already exists");
  }
  q_.Queue("ph_insert_notification", Params()
                                         .Text(n.person_key)
                                         .Text(n.id)
                                         .Text(n.institution)
                                         .Text(n.identifier)
                                         .Text(n.disease_code)
                                         .Text(n.content_hash)
                                         .Text(n.bundle_json)
                                         .Int64(ToMicros(now)));
  q_.Queue("ph_insert_outbox",
           Params().Text(n.id).Text(n.person_key).Text(n.institution).Int64(ToMicros(now)));
  notification_[n.id] = true;
  attempts_[n.id] = 0;
  return Status::Ok();
}

Status PublicHealthWriter::Apply(const UpdateDelivery& op, Timestamp now) {
  Result<std::optional<int>> attempts = Attempts(op.notification_id);
  if (!attempts.ok()) return attempts.take_status();
  if (!attempts->has_value()) {
    return NotFoundError("No delivery for notification " + op.notification_id);
  }
  if (**attempts != op.if_attempts) {
    return Status::Error(ErrorCode::kPreconditionFailed, "conflict",
                         "Delivery of " + op.notification_id + " is at attempt " +
                             std::to_string(**attempts) + ", not " +
                             std::to_string(op.if_attempts));
  }
  Params p;
  p.Text(op.notification_id)
      .Int64(static_cast<int64_t>(op.state))
      .Int64(op.attempts)
      .Int64(ToMicros(op.next_attempt))
      .Text(op.last_error)
      .Int64(ToMicros(now));
  OptionalTime(p, op.delivered);
  q_.Queue("ph_update_outbox", std::move(p));
  attempts_[op.notification_id] = op.attempts;
  return Status::Ok();
}

Status PublicHealthWriter::Apply(const PutExportJob& op, Timestamp now) {
  const ExportJob& j = op.job;
  Result<std::optional<ExportState>> loaded = JobState(j.id);
  if (!loaded.ok()) return loaded.take_status();
  const std::optional<ExportState> current = *loaded;
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
  Params p;
  p.Text(j.id)
      .Text(j.requester)
      .Text(j.approver)
      .Int64(static_cast<int64_t>(j.state))
      .Text(j.request_json)
      .Int64(j.progress)
      .Text(j.manifest_json)
      .Text(j.error);
  if (!current) p.Int64(ToMicros(now));  // created
  p.Int64(ToMicros(now));                // updated
  OptionalTime(p, j.expires);
  q_.Queue(current ? "ph_update_job" : "ph_insert_job", std::move(p));
  job_[j.id] = j.state;
  return Status::Ok();
}

// ---- Reader ----------------------------------------------------------------------------

void AddPublicHealthReadStatements(std::vector<StatementSpec>& out) {
  out.push_back({"ph_notification", std::string("SELECT ") + kNotificationColumns +
                                        " FROM notification WHERE id = $1"});
  out.push_back({"ph_delivery", std::string("SELECT ") + kDeliveryColumns +
                                    " FROM outbox WHERE notification_id = $1"});
  // state = 1 matches the partial index outbox_due, whose order is the ORDER BY.
  out.push_back({"ph_due", std::string("SELECT ") + kDeliveryColumns +
                               " FROM outbox WHERE state = 1 AND next_attempt <= $1"
                               " ORDER BY next_attempt, notification_id LIMIT $2"});
  out.push_back({"ph_job", std::string("SELECT ") + kJobColumns +
                               " FROM export_job WHERE id = $1"});
  out.push_back({"ph_jobs", std::string("SELECT ") + kJobColumns +
                                " FROM export_job WHERE state = $1 ORDER BY created, id LIMIT $2"});
}

Result<NotificationRecord> ReadNotification(RecordReads& db, const std::string& id) {
  Result<Rows> r = db.Prepared("ph_notification", Params().Text(id));
  if (!r.ok()) return r.take_status();
  if (r->size() == 0) return NotFoundError("No notification " + id);
  return RowToNotification(*r, 0);
}

Result<DeliveryRecord> ReadDelivery(RecordReads& db, const std::string& notification_id) {
  Result<Rows> r = db.Prepared("ph_delivery", Params().Text(notification_id));
  if (!r.ok()) return r.take_status();
  if (r->size() == 0) return NotFoundError("No delivery for notification " + notification_id);
  return RowToDelivery(*r, 0);
}

Result<std::vector<DeliveryRecord>> ListDueDeliveries(RecordReads& db, Timestamp now,
                                                      size_t limit) {
  return Collect<DeliveryRecord>(
      db.Prepared("ph_due", Params().Int64(ToMicros(now)).Int64(Limit(limit))), RowToDelivery);
}

Result<ExportJob> ReadExportJob(RecordReads& db, const std::string& id) {
  Result<Rows> r = db.Prepared("ph_job", Params().Text(id));
  if (!r.ok()) return r.take_status();
  if (r->size() == 0) return NotFoundError("No export job " + id);
  return RowToJob(*r, 0);
}

Result<std::vector<ExportJob>> ListExportJobs(RecordReads& db, ExportState state,
                                              size_t limit) {
  return Collect<ExportJob>(
      db.Prepared("ph_jobs", Params().Int64(static_cast<int64_t>(state)).Int64(Limit(limit))),
      RowToJob);
}

Result<std::vector<std::string>> ScanCohort(RecordReads& db, const ItemScanQuery& q) {
  // Items of registered units only (withdrawn units have none, as in ListItems). Kinds and
  // codes travel as one array parameter each (= ANY), so the text stays small whatever their
  // number; the statement is planned for the values given (AdHoc: an unnamed statement).
  std::string sql =
      "SELECT DISTINCT i.person_key FROM item i JOIN unit u"
      " ON u.person_key = i.person_key AND u.bundle_id = i.bundle_id"
      " WHERE u.status = 1 AND i.person_key > $1";
  Params params;
  params.Text(q.after_person);
  int n = 1;
  auto next = [&] {
    std::string p(1, '$');  // not "$" + …: GCC 12 warns falsely on that (-Wrestrict, PR 105651)
    return p.append(std::to_string(++n));
  };
  if (!q.kinds.empty()) {
    RowBuffer kinds(1);
    for (ItemKind k : q.kinds) kinds.Int64(static_cast<int64_t>(k));
    params.Text(kinds.ArrayLiteral(0));
    sql += " AND i.kind = ANY(" + next() + "::smallint[])";
  }
  if (!q.codes.empty()) {
    RowBuffer codes(1);
    for (const std::string& c : q.codes) codes.Text(c);
    params.Text(codes.ArrayLiteral(0));
    sql += " AND i.code = ANY(" + next() + "::text[])";
  }
  if (q.from) {
    params.Int64(ToMicros(*q.from));
    sql += " AND i.clinical_date >= " + next();
  }
  if (q.to) {
    params.Int64(ToMicros(*q.to));
    sql += " AND i.clinical_date < " + next();
  }
  params.Int64(Limit(q.limit_persons));
  sql += " ORDER BY i.person_key LIMIT " + next();
  return Collect<std::string>(db.AdHoc(sql, params),
                              [](const Rows& r, int i) { return r.Text(i, 0); });
}

}  // namespace clinshub::store::postgres
