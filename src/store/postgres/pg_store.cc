#include "store/postgres/pg_store.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <map>
#include <set>
#include <tuple>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "fhir/json.h"
#include "store/meta.h"
#include "store/postgres/pg_conn.h"
#include "store/postgres/pg_public_health.h"
#include "store/postgres/pg_purge.h"
#include "store/postgres/pg_records.h"
#include "store/postgres/pg_schema.h"

namespace clinshub::store {

namespace {

using postgres::FromMicros;
using postgres::Params;
using postgres::PgConnection;
using postgres::RecordWriter;
using postgres::Rows;
using postgres::RowToUnit;
using postgres::StatementSpec;
using postgres::ToMicros;
using postgres::WriteQueue;

// Columns every version query selects, in this order (see RowToVersion).
constexpr const char* kVersionColumns = "v.version, v.last_updated, v.deleted, v.content";

std::string Name(const std::string& type, const std::string& id) { return type + "/" + id; }


bool Bool(const Rows& r, int row, int col) { return r.Text(row, col) == "t"; }

ResourceVersion RowToVersion(const Rows& r, int row, const std::string& type,
                             const std::string& id) {
  ResourceVersion v;
  v.type = type;
  v.id = id;
  v.version = r.Int64(row, 0);
  v.last_updated = FromMicros(r.Int64(row, 1));
  v.deleted = Bool(r, row, 2);
  if (!v.deleted) v.json = r.Text(row, 3);
  return v;
}

std::string UnitName(const UnitKey& key) {
  return "reporting unit " + key.system + "|" + key.value;
}

Status PreconditionFailed(std::string message) {
  return Status::Error(ErrorCode::kPreconditionFailed, "conflict", std::move(message));
}

// Errors that belong to one batch: it is rolled back to its savepoint and the rest of the
// group commits. Anything else is the database failing, which aborts the group transaction.
bool IsBatchError(ErrorCode code) {
  return code == ErrorCode::kPreconditionFailed || code == ErrorCode::kNotFound ||
         code == ErrorCode::kMalformed || code == ErrorCode::kForbidden ||
         code == ErrorCode::kGone || code == ErrorCode::kConflict;
}

// Statements of read connections.
const std::vector<StatementSpec>& ReadStatements() {
  static const std::vector<StatementSpec> statements = [] {
    const std::string cols = kVersionColumns;
    const std::string unit_cols = postgres::UnitColumns();
    std::vector<StatementSpec> specs{
        {"current", "SELECT " + cols +
                        " FROM resource_current c JOIN resource_version v"
                        " ON v.type = c.type AND v.id = c.id AND v.version = c.version"
                        " WHERE c.type = $1 AND c.id = $2"},
        {"version", "SELECT " + cols +
                        " FROM resource_version v"
                        " WHERE v.type = $1 AND v.id = $2 AND v.version = $3"},
        {"history", "SELECT " + cols +
                        " FROM resource_version v WHERE v.type = $1 AND v.id = $2"
                        " ORDER BY v.version DESC LIMIT $3"},
        {"ping", "SELECT MAX(version) FROM schema_migrations"},
        {"unit", "SELECT " + unit_cols +
                     " FROM unit WHERE person_key = $1 AND id_system = $2 AND id_value = $3"},
        {"unit_by_bundle", "SELECT " + unit_cols + " FROM unit WHERE bundle_id = $1"},
        {"units_of_person", "SELECT " + unit_cols +
                                " FROM unit WHERE person_key = $1"
                                " ORDER BY last_changed DESC, id_value"},
        {"units_by_identifier", "SELECT " + unit_cols +
                                    " FROM unit WHERE id_system = $1 AND id_value = $2"
                                    " ORDER BY person_key"},
        // Withdrawn units have no items; the status test keeps that true regardless.
        {"items",
         "SELECT i.person_key, i.bundle_id, u.version, i.ordinal, i.kind, i.resource_type,"
         " i.code_system, i.code, i.text, i.clinical_date, i.flags, i.institution,"
         " i.registered, i.json"
         " FROM item i JOIN unit u ON u.person_key = i.person_key AND u.bundle_id = i.bundle_id"
         " WHERE i.person_key = $1 AND u.status = 1"
         " ORDER BY i.kind, i.clinical_date DESC NULLS LAST, i.bundle_id, i.ordinal"},
        {"items_generation", "SELECT generation FROM person_generation WHERE person_key = $1"},
    };
    postgres::AddRecordReadStatements(specs);
    postgres::AddPublicHealthReadStatements(specs);
    return specs;
  }();
  return statements;
}

// Statements of the writer connection. FOR UPDATE: another hub process writing the same
// resource or unit waits for our transaction instead of reading a stale version.
const std::vector<StatementSpec>& WriteStatements() {
  static const std::vector<StatementSpec> statements = [] {
    const std::string unit_cols = postgres::UnitColumns();
    std::vector<StatementSpec> specs{
        {"begin", "BEGIN"},
        {"commit", "COMMIT"},
        {"savepoint", "SAVEPOINT batch"},
        {"release", "RELEASE SAVEPOINT batch"},
        {"rollback_to", "ROLLBACK TO SAVEPOINT batch"},
        {"select_current",
         "SELECT version, deleted, last_updated FROM resource_current"
         " WHERE type = $1 AND id = $2 FOR UPDATE"},
        // Multi-row writes (RowBuffer): a batch's versions, current rows and items.
        {"insert_versions",
         "INSERT INTO resource_version (type, id, version, last_updated, deleted, content)"
         " SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[],"
         " $5::boolean[], $6::text[])"},
        {"upsert_currents",
         "INSERT INTO resource_current (type, id, version, deleted, last_updated)"
         " SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::boolean[],"
         " $5::bigint[])"
         " ON CONFLICT (type, id) DO UPDATE SET version = EXCLUDED.version,"
         " deleted = EXCLUDED.deleted, last_updated = EXCLUDED.last_updated"},
        {"select_unit",
         "SELECT " + unit_cols +
             " FROM unit WHERE person_key = $1 AND id_system = $2 AND id_value = $3 FOR UPDATE"},
        // bundle_id, first_registered and the sender never change once a unit exists.
        {"upsert_unit",
         "INSERT INTO unit (person_key, id_system, id_value, bundle_id, version, status,"
         " institution, kind, addressee, content_hash, first_registered, last_changed)"
         " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
         " ON CONFLICT (person_key, id_system, id_value) DO UPDATE SET"
         " version = EXCLUDED.version, status = EXCLUDED.status, kind = EXCLUDED.kind,"
         " addressee = EXCLUDED.addressee, content_hash = EXCLUDED.content_hash,"
         " last_changed = EXCLUDED.last_changed"},
        {"delete_items", "DELETE FROM item WHERE person_key = $1 AND bundle_id = $2"},
        {"bump_generation",
         "INSERT INTO person_generation (person_key, generation) VALUES ($1, 1)"
         " ON CONFLICT (person_key) DO UPDATE SET generation = person_generation.generation + 1"},
        {"insert_items",
         "INSERT INTO item (person_key, bundle_id, ordinal, kind, resource_type, code_system,"
         " code, text, clinical_date, flags, institution, registered, json)"
         " SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::smallint[],"
         " $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[],"
         " $11::text[], $12::bigint[], $13::text[])"},
    };
    RecordWriter::AddStatements(specs);
    postgres::PublicHealthWriter::AddStatements(specs);
    return specs;
  }();
  return statements;
}

// Where a store's connections point: server and schema.
struct Target {
  std::string conninfo;
  std::string schema;  // validated identifier, or empty
};

// A connection with the store's schema first on its search_path.
Result<std::unique_ptr<PgConnection>> ConnectTo(const Target& target) {
  Result<std::unique_ptr<PgConnection>> conn = PgConnection::Connect(target.conninfo);
  if (!conn.ok()) return conn.take_status();
  if (!target.schema.empty()) {
    CLINSHUB_RETURN_IF_ERROR((*conn)->Exec("SET search_path TO \"" + target.schema + "\""));
  }
  return conn;
}

// A fresh connection with `statements` prepared on it.
Result<std::unique_ptr<PgConnection>> ConnectPrepared(const Target& target,
                                                      const std::vector<StatementSpec>& specs) {
  Result<std::unique_ptr<PgConnection>> conn = ConnectTo(target);
  if (!conn.ok()) return conn.take_status();
  for (const StatementSpec& s : specs) CLINSHUB_RETURN_IF_ERROR((*conn)->Prepare(s.name, s.sql));
  return conn;
}

Status Done(Result<Rows> r) { return r.ok() ? Status::Ok() : r.take_status(); }

class PostgresStore final : public Store, private postgres::RecordReads {
 public:
  PostgresStore(const PostgresOptions& options, const Clock& clock,
                std::unique_ptr<PgConnection> writer,
                std::vector<std::unique_ptr<PgConnection>> readers)
      : target_{options.conninfo, options.schema},
        clock_(clock),
        owned_ids_(options.ids == nullptr ? std::make_unique<RandomIdGenerator>() : nullptr),
        ids_(options.ids != nullptr ? *options.ids : *owned_ids_),
        max_group_batches_(static_cast<size_t>(options.max_group_batches)),
        writer_(std::move(writer)),
        idle_readers_(std::move(readers)),
        writer_thread_([this] { WriterLoop(); }) {}

  ~PostgresStore() override {
    {
      std::lock_guard lock(queue_mu_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    writer_thread_.join();
  }

  Result<ResourceVersion> Read(const std::string& type, const std::string& id) override {
    Result<Rows> r = ReadQuery("current", Params().Text(type).Text(id));
    if (!r.ok()) return r.take_status();
    if (r->size() == 0) return NotFoundError(Name(type, id) + " not found");
    ResourceVersion v = RowToVersion(*r, 0, type, id);
    if (v.deleted) {
      return Status::Error(ErrorCode::kGone, "deleted",
                           Name(type, id) + " was deleted (version " +
                               std::to_string(v.version) + ")");
    }
    return v;
  }

  Result<ResourceVersion> ReadVersion(const std::string& type, const std::string& id,
                                      int64_t version) override {
    Result<Rows> r = ReadQuery("version", Params().Text(type).Text(id).Int64(version));
    if (!r.ok()) return r.take_status();
    if (r->size() == 0) {
      return NotFoundError(Name(type, id) + " has no version " + std::to_string(version));
    }
    return RowToVersion(*r, 0, type, id);
  }

  Result<std::vector<ResourceVersion>> History(const std::string& type, const std::string& id,
                                               size_t limit) override {
    // At least one row, so that limit 0 still tells "never existed" from "exists".
    const int64_t fetch = static_cast<int64_t>(std::clamp<size_t>(limit, 1, INT64_MAX));
    Result<Rows> r = ReadQuery("history", Params().Text(type).Text(id).Int64(fetch));
    if (!r.ok()) return r.take_status();
    if (r->size() == 0) return NotFoundError(Name(type, id) + " not found");
    std::vector<ResourceVersion> versions;
    for (int i = 0; i < r->size() && versions.size() < limit; ++i) {
      versions.push_back(RowToVersion(*r, i, type, id));
    }
    return versions;
  }

  Result<CommitResult> Commit(WriteBatch batch) override {
    if (batch.ops.empty()) return CommitResult{};
    auto pending = std::make_unique<PendingCommit>();
    pending->batch = std::move(batch);
    std::future<Result<CommitResult>> done = pending->done.get_future();
    {
      std::lock_guard lock(queue_mu_);
      if (stopping_) return UnavailableError("store is shutting down");
      queue_.push_back(std::move(pending));
    }
    queue_cv_.notify_one();
    return done.get();
  }

  Result<UnitRecord> ReadUnit(const UnitKey& key) override {
    Result<Rows> r =
        ReadQuery("unit", Params().Text(key.person_key).Text(key.system).Text(key.value));
    if (!r.ok()) return r.take_status();
    if (r->size() == 0) return NotFoundError(UnitName(key) + " is not registered");
    return RowToUnit(*r, 0);
  }

  Result<std::vector<UnitRecord>> FindUnits(const std::string& system,
                                            const std::string& value) override {
    Result<Rows> r = ReadQuery("units_by_identifier", Params().Text(system).Text(value));
    if (!r.ok()) return r.take_status();
    std::vector<UnitRecord> units;
    for (int i = 0; i < r->size(); ++i) units.push_back(RowToUnit(*r, i));
    return units;
  }

  Result<std::vector<UnitRecord>> ListUnits(const std::string& person_key) override {
    Result<Rows> r = ReadQuery("units_of_person", Params().Text(person_key));
    if (!r.ok()) return r.take_status();
    std::vector<UnitRecord> units;
    for (int i = 0; i < r->size(); ++i) units.push_back(RowToUnit(*r, i));
    return units;
  }

  Result<UnitRecord> FindUnitByBundleId(const std::string& bundle_id) override {
    Result<Rows> r = ReadQuery("unit_by_bundle", Params().Text(bundle_id));
    if (!r.ok()) return r.take_status();
    if (r->size() == 0) return NotFoundError("No reporting unit has Bundle/" + bundle_id);
    return RowToUnit(*r, 0);
  }

  Result<std::vector<StoredItem>> ListItems(const std::string& person_key) override {
    Result<Rows> r = ReadQuery("items", Params().Text(person_key));
    if (!r.ok()) return r.take_status();
    std::vector<StoredItem> items;
    items.reserve(static_cast<size_t>(r->size()));
    for (int i = 0; i < r->size(); ++i) {
      StoredItem it;
      it.person_key = r->Text(i, 0);
      it.bundle_id = r->Text(i, 1);
      it.bundle_version = r->Int64(i, 2);
      it.ordinal = static_cast<int>(r->Int64(i, 3));
      it.item.kind = static_cast<ItemKind>(r->Int64(i, 4));
      it.item.resource_type = r->Text(i, 5);
      it.item.code_system = r->Text(i, 6);
      it.item.code = r->Text(i, 7);
      it.item.text = r->Text(i, 8);
      if (!r->IsNull(i, 9)) it.item.clinical_date = FromMicros(r->Int64(i, 9));
      it.item.flags = static_cast<uint32_t>(r->Int64(i, 10));
      it.institution = r->Text(i, 11);
      it.registered = FromMicros(r->Int64(i, 12));
      it.item.json = r->Text(i, 13);
      items.push_back(std::move(it));
    }
    return items;
  }

  Result<int64_t> ItemsGeneration(const std::string& person_key) override {
    Result<Rows> r = ReadQuery("items_generation", Params().Text(person_key));
    if (!r.ok()) return r.take_status();
    return r->size() == 0 ? 0 : r->Int64(0, 0);
  }

  Result<InstitutionRecord> ReadInstitution(const std::string& code) override {
    return postgres::ReadInstitution(*this, code);
  }
  Result<std::vector<InstitutionRecord>> SearchInstitutions(const InstitutionQuery& q) override {
    return postgres::SearchInstitutions(*this, q);
  }
  Result<RosterEntry> ResolveIdentifier(const std::string& system,
                                        const std::string& value) override {
    return postgres::ResolveIdentifier(*this, system, value);
  }
  Result<std::vector<RosterEntry>> ListRosterEntries(const std::string& person_key) override {
    return postgres::ListRosterEntries(*this, person_key);
  }
  Result<ConsentRecord> ReadConsent(const std::string& id) override {
    return postgres::ReadConsent(*this, id);
  }
  Result<std::vector<ConsentRecord>> ListConsents(const std::string& person_key) override {
    return postgres::ListConsents(*this, person_key);
  }
  Result<bool> HasActiveConsent(const std::string& person_key, const std::string& institution,
                                Timestamp at) override {
    return postgres::HasActiveConsent(*this, person_key, institution, at);
  }
  Result<std::vector<ReferralRecipient>> ListReferralRecipients(const UnitKey& unit) override {
    return postgres::ListReferralRecipients(*this, unit);
  }
  Result<std::vector<ReferralRecipient>> ListReferralsOfPerson(
      const std::string& person_key) override {
    return postgres::ListReferralsOfPerson(*this, person_key);
  }
  Result<std::vector<InboxEntry>> ListInbox(const std::string& recipient,
                                            size_t limit) override {
    return postgres::ListInbox(*this, recipient, limit);
  }
  Result<std::vector<AuditEvent>> ListAudit(const AuditQuery& query) override {
    return postgres::ListAudit(*this, query);
  }
  Result<AuditVerification> VerifyAudit() override { return postgres::VerifyAudit(*this); }

  Result<NotificationRecord> ReadNotification(const std::string& id) override {
    return postgres::ReadNotification(*this, id);
  }
  Result<DeliveryRecord> ReadDelivery(const std::string& notification_id) override {
    return postgres::ReadDelivery(*this, notification_id);
  }
  Result<std::vector<DeliveryRecord>> ListDueDeliveries(Timestamp now, size_t limit) override {
    return postgres::ListDueDeliveries(*this, now, limit);
  }
  Result<ExportJob> ReadExportJob(const std::string& id) override {
    return postgres::ReadExportJob(*this, id);
  }
  Result<std::vector<ExportJob>> ListExportJobs(ExportState state, size_t limit) override {
    return postgres::ListExportJobs(*this, state, limit);
  }
  Result<std::vector<std::string>> ScanCohort(const ItemScanQuery& q) override {
    return postgres::ScanCohort(*this, q);
  }

  // Each purge step runs on the writer thread as a job of its own, queued behind the commits
  // already waiting, so commits keep flowing between steps and a step never runs beside this
  // process's group transaction (postgres/pg_purge.h).
  Result<PurgeReport> Purge(const RetentionPolicy& policy, Timestamp now, bool dry_run) override {
    return postgres::PurgeExpired(policy, now, dry_run, [this](postgres::PurgeStep step) {
      auto pending = std::make_unique<PendingCommit>();
      pending->job = std::move(step);
      std::future<Result<CommitResult>> done = pending->done.get_future();
      {
        std::lock_guard lock(queue_mu_);
        if (stopping_) return UnavailableError("store is shutting down");
        queue_.push_back(std::move(pending));
      }
      queue_cv_.notify_one();
      Result<CommitResult> r = done.get();
      return r.ok() ? Status::Ok() : r.status();
    });
  }

  Status Ping() override { return Done(ReadQuery("ping", Params())); }

  // PostgreSQL checksums its own pages; what can go wrong above it is the store's invariants.
  // Each query returns the rows that break one of them.
  Status CheckIntegrity() override {
    static constexpr std::pair<const char*, const char*> kChecks[] = {
        {"resource_current names a version that is not the latest",
         "SELECT c.type || '/' || c.id FROM resource_current c"
         " WHERE c.version <> (SELECT MAX(v.version) FROM resource_version v"
         " WHERE v.type = c.type AND v.id = c.id) LIMIT 10"},
        {"resource versions without a current row",
         "SELECT v.type || '/' || v.id FROM resource_version v LEFT JOIN resource_current c"
         " ON c.type = v.type AND c.id = v.id WHERE c.id IS NULL LIMIT 10"},
        {"unit disagrees with its Bundle's current version",
         "SELECT u.bundle_id FROM unit u LEFT JOIN resource_current c"
         " ON c.type = 'Bundle' AND c.id = u.bundle_id"
         " WHERE c.version IS DISTINCT FROM u.version"
         " OR c.deleted IS DISTINCT FROM (u.status = 2) LIMIT 10"},
        {"items without a registered unit",
         "SELECT i.person_key || ' ' || i.bundle_id FROM item i LEFT JOIN unit u"
         " ON u.person_key = i.person_key AND u.bundle_id = i.bundle_id"
         " WHERE u.status IS DISTINCT FROM 1 LIMIT 10"},
    };
    ReadLease lease(*this);
    CLINSHUB_RETURN_IF_ERROR(lease.Ensure());
    std::vector<Issue> issues;
    for (const auto& [what, sql] : kChecks) {
      Result<Rows> r = lease->Query(sql);
      if (!r.ok()) return r.take_status();
      for (int i = 0; i < r->size(); ++i) {
        issues.push_back(Issue{Severity::kFatal, "exception", {}, {},
                               std::string("postgres integrity: ") + what + ": " +
                                   r->Text(i, 0)});
      }
    }
    if (issues.empty()) return Status::Ok();
    return Status(ErrorCode::kInternal, std::move(issues));
  }

  StoreStats Stats() const override {
    StoreStats s;
    s.batches_committed = batches_committed_.load();
    s.batches_failed = batches_failed_.load();
    s.transactions = transactions_.load();
    return s;
  }

 private:
  struct PendingCommit {
    WriteBatch batch;
    std::promise<Result<CommitResult>> done;
    // Set instead of a batch: maintenance work (a purge step) run alone, in its own
    // transaction, on the writer connection.
    postgres::PurgeStep job;
  };
  using Group = std::vector<std::unique_ptr<PendingCommit>>;

  struct CurrentRow {
    int64_t version = 0;
    bool deleted = false;
    Timestamp last_updated;
  };

  // Borrows a read connection for one call; waits while all are busy. A lost connection is
  // replaced by a new one on the next borrow (Ensure).
  class ReadLease {
   public:
    explicit ReadLease(PostgresStore& store) : store_(store) {
      std::unique_lock lock(store_.read_mu_);
      store_.read_cv_.wait(lock, [&] { return !store_.idle_readers_.empty(); });
      conn_ = std::move(store_.idle_readers_.back());
      store_.idle_readers_.pop_back();
    }
    ~ReadLease() {
      if (conn_ != nullptr && !conn_->Healthy()) conn_.reset();
      {
        std::lock_guard lock(store_.read_mu_);
        store_.idle_readers_.push_back(std::move(conn_));
      }
      store_.read_cv_.notify_one();
    }
    ReadLease(const ReadLease&) = delete;
    ReadLease& operator=(const ReadLease&) = delete;

    // Connects if this slot has no live connection. kUnavailable while the server is away.
    Status Ensure() {
      if (conn_ != nullptr && conn_->Healthy()) return Status::Ok();
      conn_.reset();
      Result<std::unique_ptr<PgConnection>> c = ConnectPrepared(store_.target_, ReadStatements());
      if (!c.ok()) return c.take_status();
      conn_ = std::move(*c);
      return Status::Ok();
    }
    PgConnection* operator->() { return conn_.get(); }

   private:
    PostgresStore& store_;
    std::unique_ptr<PgConnection> conn_;
  };

  // Runs a read statement. A pooled connection the server dropped while it sat idle (a
  // restart) is only noticed on use: reads are idempotent, so that call is retried once on a
  // fresh connection instead of failing a request after the database is back.
  Result<Rows> ReadQuery(const char* name, const Params& params) {
    ReadLease lease(*this);
    CLINSHUB_RETURN_IF_ERROR(lease.Ensure());
    Result<Rows> r = lease->Run(name, params);
    if (r.ok() || lease->Healthy()) return r;
    CLINSHUB_RETURN_IF_ERROR(lease.Ensure());
    return lease->Run(name, params);
  }

  // postgres::RecordReads, for the records' reads (pg_records.cc).
  Result<Rows> Prepared(const char* name, const Params& params) override {
    return ReadQuery(name, params);
  }
  Result<Rows> AdHoc(const std::string& sql, const Params& params) override {
    ReadLease lease(*this);
    CLINSHUB_RETURN_IF_ERROR(lease.Ensure());
    Result<Rows> r = lease->Query(sql, params);
    if (r.ok() || lease->Healthy()) return r;
    CLINSHUB_RETURN_IF_ERROR(lease.Ensure());
    return lease->Query(sql, params);
  }

  void WriterLoop() {
    while (true) {
      Group group;
      {
        std::unique_lock lock(queue_mu_);
        queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and every queued commit is done
        while (!queue_.empty() && group.size() < max_group_batches_) {
          if (queue_.front()->job && !group.empty()) break;  // a job runs alone
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
          if (group.back()->job) break;
        }
      }
      if (group.back()->job) {
        RunJob(*group.back());
        continue;
      }
      CommitGroup(group);
    }
  }

  // A job owns its transaction; whatever it leaves open on failure is rolled back here, and a
  // connection it lost is replaced by the next group or job.
  void RunJob(PendingCommit& pending) {
    Status st = EnsureWriter();
    if (st.ok() && std::chrono::steady_clock::now() - last_used_ > kIdleCheck) {
      // As in CommitGroup: an idle connection may have been dropped by a server restart.
      if (!writer_->Exec("SELECT 1").ok() && !writer_->Healthy()) st = EnsureWriter();
    }
    if (st.ok()) st = pending.job(*writer_);
    if (!st.ok() && writer_ != nullptr) {
      if (!writer_->Healthy()) {
        writer_.reset();
      } else if (!writer_->Idle()) {
        (void)writer_->Exec("ROLLBACK");
      }
    }
    if (st.ok()) last_used_ = std::chrono::steady_clock::now();
    pending.done.set_value(st.ok() ? Result<CommitResult>(CommitResult{})
                                   : Result<CommitResult>(st));
  }

  // Queues a write on the group's pipeline (WriteQueue): it goes out with the next read.
  Status Run(const char* name, Params params = {}) {
    q_.Queue(name, std::move(params));
    return Status::Ok();
  }

  // Queues a statement without parameters (transaction control).
  void Send(const char* name) { q_.Queue(name, Params()); }

  // Connects the writer if it has no live connection.
  Status EnsureWriter() {
    if (writer_ != nullptr && writer_->Healthy()) return Status::Ok();
    writer_.reset();
    Result<std::unique_ptr<PgConnection>> c = ConnectPrepared(target_, WriteStatements());
    if (!c.ok()) return c.take_status();
    writer_ = std::move(*c);
    return Status::Ok();
  }

  static bool HasAudit(const WriteBatch& batch) {
    return std::any_of(batch.ops.begin(), batch.ops.end(), [](const WriteOp& op) {
      return std::holds_alternative<AppendAudit>(op);
    });
  }

  // One transaction, one WAL flush, for every batch in the group. Statements travel in
  // pipelines (WriteQueue): BEGIN, the audit lock and the first batch's SAVEPOINT and reads go
  // in one round trip; each batch's writes, its RELEASE (and, for the last, COMMIT) in
  // another; a batch needs more only for reads that depend on its own earlier ops.
  void CommitGroup(Group& group) {
    Status ready = EnsureWriter();
    if (!ready.ok()) return AbortGroup(group, group.size(), ready);
    q_.Reset(writer_.get());
    records_.BeginGroup();
    if (std::chrono::steady_clock::now() - last_used_ > kIdleCheck) {
      // The connection sat idle: the server may have dropped it (a restart). BEGIN alone
      // first, and on a fresh connection if that fails, before any batch is applied.
      Send("begin");
      Status begun = q_.Flush();
      if (!begun.ok() && !writer_->Healthy()) {
        begun = EnsureWriter();
        if (begun.ok()) {
          q_.Reset(writer_.get());
          Send("begin");
          begun = q_.Flush();
        }
      }
      if (!begun.ok()) return AbortGroup(group, group.size(), begun);
    } else {
      Send("begin");
    }
    // Audit appends of every process sharing the database are serialised here, before any row
    // lock of the group is taken, so the two kinds of lock are always taken in one order.
    if (std::any_of(group.begin(), group.end(),
                    [](const auto& pending) { return HasAudit(pending->batch); })) {
      Send(postgres::kAuditLockName);
    }
    std::vector<Result<CommitResult>> results;
    results.reserve(group.size());
    for (size_t i = 0; i < group.size(); ++i) {
      const bool last = i + 1 == group.size();
      const size_t before_savepoint = q_.size();
      const uint64_t flushes = q_.flushes();
      Send("savepoint");
      ForgetBatch();
      records_.BeginBatch();
      Result<CommitResult> applied = ApplyBatch(group[i]->batch);
      size_t commit_at = SIZE_MAX;
      if (applied.ok()) {
        EmitBuffered();
        Send("release");
        if (last) {
          commit_at = q_.size();
          Send("commit");
        }
        size_t failed_at = 0;
        Status sent = q_.Flush(&failed_at);
        if (!sent.ok()) {
          if (failed_at >= commit_at) return AbortGroup(group, group.size(), sent);
          applied = sent;  // one of the batch's own writes failed
        }
      }
      if (!applied.ok()) {
        if (!IsBatchError(applied.status().code())) {
          return AbortGroup(group, i, applied.status());
        }
        records_.RollbackBatch();
        ForgetBatch();
        if (q_.flushes() == flushes) {
          // Nothing of this batch reached the server, not even its SAVEPOINT: drop it.
          q_.Truncate(before_savepoint);
        } else {
          q_.Truncate(0);
          Send("rollback_to");
          Send("release");
        }
        if (last) {
          commit_at = q_.size();
          Send("commit");
        }
        size_t failed_at = 0;
        Status undone = q_.Flush(&failed_at);
        if (!undone.ok()) {
          return AbortGroup(group, failed_at >= commit_at ? group.size() : i, undone);
        }
      }
      results.push_back(std::move(applied));
    }
    last_used_ = std::chrono::steady_clock::now();
    transactions_.fetch_add(1);
    for (size_t i = 0; i < group.size(); ++i) {
      (results[i].ok() ? batches_committed_ : batches_failed_).fetch_add(1);
      group[i]->done.set_value(std::move(results[i]));
    }
  }

  // The database failed under the group: roll back and tell every caller. The batch at
  // `culprit` (if any) gets the cause itself; the others learn that nothing of theirs was
  // written (as far as we know: a lost COMMIT may have landed) and may retry.
  void AbortGroup(Group& group, size_t culprit, const Status& cause) {
    q_.Reset(nullptr);
    if (writer_ != nullptr && writer_->Healthy()) {
      if (!writer_->Idle()) (void)writer_->Exec("ROLLBACK");
    } else {
      writer_.reset();  // the next group connects anew
    }
    for (size_t i = 0; i < group.size(); ++i) {
      batches_failed_.fetch_add(1);
      if (i == culprit || culprit == group.size()) {
        group[i]->done.set_value(cause);
      } else {
        group[i]->done.set_value(UnavailableError(
            "nothing was written: the shared transaction failed: " + cause.message()));
      }
    }
  }

  // Queues the reads the batch's ops will need (current versions, units, record states) so
  // that they travel in one pipeline, and sends them.
  Status Prefetch(const WriteBatch& batch) {
    const size_t queued = q_.size();
    std::set<std::pair<std::string, std::string>> resources;
    std::set<std::tuple<std::string, std::string, std::string>> units;
    for (const WriteOp& op : batch.ops) {
      std::visit(
          [&](const auto& o) {
            using Op = std::decay_t<decltype(o)>;
            if constexpr (std::is_same_v<Op, PutResource>) {
              Result<ResourceName> name = NameOf(o.resource);
              if (name.ok()) resources.emplace(name->type, name->id);
            } else if constexpr (std::is_same_v<Op, DeleteResource>) {
              resources.emplace(o.type, o.id);
            } else if constexpr (std::is_same_v<Op, PutUnit> || std::is_same_v<Op, WithdrawUnit>) {
              units.emplace(o.key.person_key, o.key.system, o.key.value);
            } else if constexpr (std::is_same_v<Op, PutConsent> ||
                                 std::is_same_v<Op, RevokeConsent> ||
                                 std::is_same_v<Op, SetReferralState> ||
                                 std::is_same_v<Op, AppendAudit>) {
              records_.Prefetch(o);
            } else if constexpr (kIsPublicHealthOp<Op>) {
              public_health_.Prefetch(o);
            }  // the rest are blind writes
          },
          op);
    }
    // One statement per key, all in the same pipeline (sorted: processes lock in one order).
    // An array query (… IN (SELECT * FROM unnest(…))) measured slower: its generic plan scans.
    for (const auto& [type, id] : resources) {
      q_.Queue("select_current", Params().Text(type).Text(id), [this, type, id](const Rows& r) {
        current_.emplace(std::make_pair(type, id), ToCurrent(r));
      });
    }
    for (const auto& [person, system, value] : units) {
      q_.Queue("select_unit", Params().Text(person).Text(system).Text(value),
               [this, key = UnitKey{person, system, value}](const Rows& r) {
                 units_.emplace(CacheKey(key), ToUnit(r));
               });
    }
    if (q_.size() == queued) return Status::Ok();
    return q_.Flush();
  }

  Result<CommitResult> ApplyBatch(WriteBatch& batch) {
    // One instant per batch, read inside the transaction, so all its versions share it.
    const Timestamp now = clock_.Now();
    CLINSHUB_RETURN_IF_ERROR(Prefetch(batch));
    CommitResult result;
    result.written.reserve(batch.ops.size());
    for (WriteOp& op : batch.ops) {
      Result<ResourceVersion> written = std::visit(
          [&](auto& o) -> Result<ResourceVersion> {
            using Op = std::decay_t<decltype(o)>;
            if constexpr (std::is_same_v<Op, PutResource>) {
              return ApplyPut(o, now);
            } else if constexpr (std::is_same_v<Op, DeleteResource>) {
              return ApplyDelete(o, now);
            } else if constexpr (std::is_same_v<Op, PutUnit>) {
              return ApplyPutUnit(o, now, result);
            } else if constexpr (std::is_same_v<Op, WithdrawUnit>) {
              return ApplyWithdrawUnit(o, now, result);
            } else if constexpr (std::is_same_v<Op, PutInstitution> ||
                                 std::is_same_v<Op, SetReferralState> ||
                                 std::is_same_v<Op, AppendAudit>) {
              return RecordOp(records_.Apply(o, now));
            } else if constexpr (std::is_same_v<Op, PutRosterEntry> ||
                                 std::is_same_v<Op, PutConsent> ||
                                 std::is_same_v<Op, RevokeConsent>) {
              return RecordOp(records_.Apply(o));
            } else {
              static_assert(kIsPublicHealthOp<Op>, "every WriteOp is applied here");
              return RecordOp(public_health_.Apply(o, now));
            }
          },
          op);
      if (!written.ok()) return written.take_status();
      result.written.push_back(std::move(*written));
    }
    return result;
  }

  // Ops on the hub's records report an empty entry (store.h, CommitResult).
  static Result<ResourceVersion> RecordOp(Status applied) {
    if (!applied.ok()) return applied;
    return ResourceVersion{};
  }

  static std::tuple<std::string, std::string, std::string> CacheKey(const UnitKey& key) {
    return {key.person_key, key.system, key.value};
  }
  static std::optional<CurrentRow> ToCurrent(const Rows& r) {
    if (r.size() == 0) return std::nullopt;
    return CurrentRow{r.Int64(0, 0), Bool(r, 0, 1), FromMicros(r.Int64(0, 2))};
  }
  static std::optional<UnitRecord> ToUnit(const Rows& r) {
    if (r.size() == 0) return std::nullopt;
    return RowToUnit(r, 0);
  }

  // Register, replace or idempotently accept a unit, inside the caller's savepoint.
  Result<ResourceVersion> ApplyPutUnit(PutUnit& put, Timestamp now, CommitResult& result) {
    CLINSHUB_RETURN_IF_ERROR(CheckUnitKey(put.key));
    if (put.bundle.StringAt("resourceType") != "Bundle") {
      return MalformedError("a reporting unit must be a Bundle", "Bundle");
    }
    Result<std::optional<UnitRecord>> loaded = LoadUnit(put.key);
    if (!loaded.ok()) return loaded.take_status();
    const std::optional<UnitRecord>& existing = *loaded;
    if (existing.has_value()) {
      CLINSHUB_RETURN_IF_ERROR(CheckSender(*existing, put.institution, "replace"));
      if (existing->status == UnitStatus::kRegistered &&
          existing->content_hash == put.content_hash) {
        result.unit_outcomes.push_back(UnitOutcome::kUnchanged);
        return ResourceVersion{"Bundle", existing->bundle_id, existing->version,
                               existing->last_changed, false, {}};
      }
    }
    const std::string bundle_id = existing.has_value() ? existing->bundle_id : ids_.NewId();
    // A freshly allocated id has no versions: no need to ask (were it ever to collide, the
    // version insert would fail with kConflict).
    if (!existing.has_value()) current_.emplace(std::make_pair("Bundle", bundle_id), std::nullopt);
    SetId(put.bundle, bundle_id);
    PutResource bundle_put{std::move(put.bundle),
                           existing.has_value() ? std::nullopt : std::optional<int64_t>(0)};
    Result<ResourceVersion> written = ApplyPut(bundle_put, now);
    if (!written.ok()) return written.take_status();
    if (existing.has_value()) {
      CLINSHUB_RETURN_IF_ERROR(DeleteItems(put.key.person_key, bundle_id));
    }
    for (size_t i = 0; i < put.items.size(); ++i) {
      CLINSHUB_RETURN_IF_ERROR(InsertItem(put.key.person_key, bundle_id, static_cast<int>(i),
                                          put.items[i], put.institution,
                                          written->last_updated));
    }
    UnitRecord unit;
    unit.key = put.key;
    unit.bundle_id = bundle_id;
    unit.version = written->version;
    unit.status = UnitStatus::kRegistered;
    unit.institution = put.institution;
    unit.kind = put.kind;
    unit.addressee = put.addressee;
    unit.content_hash = put.content_hash;
    unit.first_registered =
        existing.has_value() ? existing->first_registered : written->last_updated;
    unit.last_changed = written->last_updated;
    CLINSHUB_RETURN_IF_ERROR(UpsertUnit(unit));
    CLINSHUB_RETURN_IF_ERROR(Run("bump_generation", Params().Text(put.key.person_key)));
    result.unit_outcomes.push_back(existing.has_value() ? UnitOutcome::kReplaced
                                                        : UnitOutcome::kCreated);
    return written;
  }

  Result<ResourceVersion> ApplyWithdrawUnit(const WithdrawUnit& withdraw, Timestamp now,
                                            CommitResult& result) {
    CLINSHUB_RETURN_IF_ERROR(CheckUnitKey(withdraw.key));
    Result<std::optional<UnitRecord>> loaded = LoadUnit(withdraw.key);
    if (!loaded.ok()) return loaded.take_status();
    if (!loaded->has_value()) {
      return NotFoundError(UnitName(withdraw.key) + " is not registered");
    }
    UnitRecord unit = std::move(**loaded);
    CLINSHUB_RETURN_IF_ERROR(CheckSender(unit, withdraw.institution, "withdraw"));
    if (unit.status == UnitStatus::kWithdrawn) {
      return Status::Error(ErrorCode::kGone, "deleted",
                           UnitName(withdraw.key) + " is already withdrawn");
    }
    Result<ResourceVersion> written =
        ApplyDelete(DeleteResource{"Bundle", unit.bundle_id, {}}, now);
    if (!written.ok()) return written.take_status();
    CLINSHUB_RETURN_IF_ERROR(DeleteItems(unit.key.person_key, unit.bundle_id));
    unit.version = written->version;
    unit.status = UnitStatus::kWithdrawn;
    unit.last_changed = written->last_updated;
    CLINSHUB_RETURN_IF_ERROR(UpsertUnit(unit));
    CLINSHUB_RETURN_IF_ERROR(Run("bump_generation", Params().Text(unit.key.person_key)));
    result.unit_outcomes.push_back(UnitOutcome::kWithdrawn);
    return written;
  }

  static Status CheckUnitKey(const UnitKey& key) {
    if (key.person_key.empty() || key.system.empty() || key.value.empty()) {
      return MalformedError("a reporting unit needs a person and Bundle.identifier system|value",
                            "Bundle.identifier");
    }
    return Status::Ok();
  }

  static Status CheckSender(const UnitRecord& unit, const std::string& institution,
                            const char* action) {
    if (unit.institution == institution) return Status::Ok();
    return Status::Error(ErrorCode::kForbidden, "forbidden",
                         "only the sending institution may " + std::string(action) + " " +
                             UnitName(unit.key));
  }

  Result<std::optional<UnitRecord>> LoadUnit(const UnitKey& key) {
    auto cached = units_.find(CacheKey(key));
    if (cached != units_.end()) return cached->second;
    Result<Rows> r =
        q_.Read("select_unit", Params().Text(key.person_key).Text(key.system).Text(key.value));
    if (!r.ok()) return r.take_status();
    return units_.emplace(CacheKey(key), ToUnit(*r)).first->second;
  }

  Status UpsertUnit(const UnitRecord& u) {
    units_[CacheKey(u.key)] = u;
    return Run("upsert_unit", Params()
                                  .Text(u.key.person_key)
                                  .Text(u.key.system)
                                  .Text(u.key.value)
                                  .Text(u.bundle_id)
                                  .Int64(u.version)
                                  .Int64(static_cast<int64_t>(u.status))
                                  .Text(u.institution)
                                  .Text(u.kind)
                                  .Text(u.addressee)
                                  .Text(u.content_hash)
                                  .Int64(ToMicros(u.first_registered))
                                  .Int64(ToMicros(u.last_changed)));
  }

  Status DeleteItems(const std::string& person_key, const std::string& bundle_id) {
    EmitBuffered();  // items buffered earlier in the batch must exist before the DELETE
    return Run("delete_items", Params().Text(person_key).Text(bundle_id));
  }

  Status InsertItem(const std::string& person_key, const std::string& bundle_id, int ordinal,
                    const Item& item, const std::string& institution, Timestamp registered) {
    postgres::RowBuffer& p = items_;
    p.Text(person_key)
        .Text(bundle_id)
        .Int64(ordinal)
        .Int64(static_cast<int64_t>(item.kind))
        .Text(item.resource_type)
        .Text(item.code_system)
        .Text(item.code)
        .Text(item.text);
    if (item.clinical_date.has_value()) {
      p.Int64(ToMicros(*item.clinical_date));
    } else {
      p.Null();
    }
    p.Int64(static_cast<int64_t>(item.flags))
        .Text(institution)
        .Int64(ToMicros(registered))
        .Text(item.json);
    return Status::Ok();
  }

  Result<ResourceVersion> ApplyPut(PutResource& put, Timestamp now) {
    Result<ResourceName> name = NameOf(put.resource);
    if (!name.ok()) return name.take_status();
    Result<std::optional<CurrentRow>> current = LoadCurrent(name->type, name->id);
    if (!current.ok()) return current.take_status();
    const std::optional<CurrentRow>& cur = *current;
    if (put.if_version.has_value()) {
      const int64_t expected = *put.if_version;
      if (expected == 0 && cur.has_value()) {
        return PreconditionFailed(Name(name->type, name->id) + " already exists (version " +
                                  std::to_string(cur->version) + ")");
      }
      if (expected != 0 && (!cur.has_value() || cur->deleted || cur->version != expected)) {
        return PreconditionFailed(VersionMismatch(name->type, name->id, expected, cur));
      }
    }
    ResourceVersion v;
    v.type = std::move(name->type);
    v.id = std::move(name->id);
    v.version = cur.has_value() ? cur->version + 1 : 1;
    v.last_updated = NextLastUpdated(
        now, cur.has_value() ? std::optional(cur->last_updated) : std::nullopt);
    CLINSHUB_RETURN_IF_ERROR(StampMeta(put.resource, v.version, v.last_updated));
    CLINSHUB_RETURN_IF_ERROR(Insert(v, fhir::WriteJson(put.resource)));
    return v;
  }

  Result<ResourceVersion> ApplyDelete(const DeleteResource& del, Timestamp now) {
    Result<std::optional<CurrentRow>> current = LoadCurrent(del.type, del.id);
    if (!current.ok()) return current.take_status();
    const std::optional<CurrentRow>& cur = *current;
    if (!cur.has_value()) return NotFoundError(Name(del.type, del.id) + " not found");
    if (del.if_version.has_value() && (cur->deleted || cur->version != *del.if_version)) {
      return PreconditionFailed(VersionMismatch(del.type, del.id, *del.if_version, cur));
    }
    ResourceVersion v;
    v.type = del.type;
    v.id = del.id;
    v.deleted = true;
    if (cur->deleted) {
      v.version = cur->version;
      v.last_updated = cur->last_updated;
      return v;
    }
    v.version = cur->version + 1;
    v.last_updated = NextLastUpdated(now, cur->last_updated);
    CLINSHUB_RETURN_IF_ERROR(Insert(v, std::nullopt));
    return v;
  }

  static std::string VersionMismatch(const std::string& type, const std::string& id,
                                     int64_t expected, const std::optional<CurrentRow>& cur) {
    std::string found = !cur.has_value() ? "it does not exist"
                        : cur->deleted   ? "it was deleted at version " +
                                             std::to_string(cur->version)
                                         : "the current version is " +
                                             std::to_string(cur->version);
    return Name(type, id) + ": expected version " + std::to_string(expected) + " but " + found;
  }

  Result<std::optional<CurrentRow>> LoadCurrent(const std::string& type, const std::string& id) {
    auto cached = current_.find(std::make_pair(type, id));
    if (cached != current_.end()) return cached->second;
    Result<Rows> r = q_.Read("select_current", Params().Text(type).Text(id));
    if (!r.ok()) return r.take_status();
    return current_.emplace(std::make_pair(type, id), ToCurrent(*r)).first->second;
  }

  // Writes the version and points resource_current at it (same transaction).
  // Buffered (RowBuffer) until EmitBuffered(): a batch's versions go in one statement.
  Status Insert(const ResourceVersion& v, const std::optional<std::string>& json) {
    versions_.Text(v.type)
        .Text(v.id)
        .Int64(v.version)
        .Int64(ToMicros(v.last_updated))
        .Text(v.deleted ? "t" : "f");
    if (json.has_value()) {
      versions_.Text(*json);
    } else {
      versions_.Null();
    }
    const auto key = std::make_pair(v.type, v.id);
    const CurrentRow row{v.version, v.deleted, v.last_updated};
    current_[key] = row;
    dirty_current_[key] = row;
    return Status::Ok();
  }

  // Queues the buffered multi-row writes: versions before the current rows naming them.
  void EmitBuffered() {
    if (versions_.rows() > 0) {
      q_.Queue("insert_versions", versions_.ToParams());
      versions_.Clear();
    }
    if (!dirty_current_.empty()) {
      postgres::RowBuffer currents(5);
      for (const auto& [key, row] : dirty_current_) {
        currents.Text(key.first)
            .Text(key.second)
            .Int64(row.version)
            .Text(row.deleted ? "t" : "f")
            .Int64(ToMicros(row.last_updated));
      }
      q_.Queue("upsert_currents", currents.ToParams());
      dirty_current_.clear();
    }
    if (items_.rows() > 0) {
      q_.Queue("insert_items", items_.ToParams());
      items_.Clear();
    }
  }

  // Forgets what the batch read and buffered (a new batch, or this one rolled back).
  void ForgetBatch() {
    public_health_.ForgetBatch();
    current_.clear();
    units_.clear();
    dirty_current_.clear();
    versions_.Clear();
    items_.Clear();
  }

  const Target target_;
  const Clock& clock_;
  const std::unique_ptr<IdGenerator> owned_ids_;  // set only when options.ids was null
  IdGenerator& ids_;
  const size_t max_group_batches_;
  std::unique_ptr<PgConnection> writer_;  // touched only by writer_thread_; null when lost
  // The writer thread's state (touched only by it): the group's pipeline, the record ops, and
  // what this batch has read or written (resource_current rows, unit rows).
  WriteQueue q_;
  RecordWriter records_{q_};
  postgres::PublicHealthWriter public_health_{q_};
  std::map<std::pair<std::string, std::string>, std::optional<CurrentRow>> current_;
  std::map<std::tuple<std::string, std::string, std::string>, std::optional<UnitRecord>> units_;
  // Written by this batch, not yet queued (EmitBuffered).
  postgres::RowBuffer versions_{6};
  std::map<std::pair<std::string, std::string>, CurrentRow> dirty_current_;
  postgres::RowBuffer items_{13};
  // A writer connection idle longer than this gets a lone BEGIN first (CommitGroup).
  static constexpr std::chrono::milliseconds kIdleCheck{200};
  std::chrono::steady_clock::time_point last_used_{};

  std::mutex read_mu_;
  std::condition_variable read_cv_;
  // Null entries are slots whose connection was lost (or never made); Ensure() fills them.
  std::vector<std::unique_ptr<PgConnection>> idle_readers_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<PendingCommit>> queue_;
  bool stopping_ = false;

  std::atomic<uint64_t> batches_committed_{0};
  std::atomic<uint64_t> batches_failed_{0};
  std::atomic<uint64_t> transactions_{0};

  // Declared last: it starts in the constructor and uses every member above.
  std::thread writer_thread_;
};

}  // namespace

namespace {

Status CheckSchemaName(const std::string& schema) {
  const bool valid = schema.size() <= 63 &&
                     std::all_of(schema.begin(), schema.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                     });
  if (valid) return Status::Ok();
  return MalformedError("PostgreSQL schema name must match [A-Za-z0-9_]{1,63}: " + schema,
                        "schema");
}

// Connects, creates the schema if asked for, and migrates.
Result<std::unique_ptr<PgConnection>> ConnectAndMigrate(const Target& target,
                                                        const Clock& clock) {
  CLINSHUB_RETURN_IF_ERROR(CheckSchemaName(target.schema));
  if (!target.schema.empty()) {
    Result<std::unique_ptr<PgConnection>> admin = PgConnection::Connect(target.conninfo);
    if (!admin.ok()) return admin.take_status();
    // Concurrent starts may race to create it; the advisory lock of Migrate does not cover it.
    Status made = (*admin)->Exec("CREATE SCHEMA IF NOT EXISTS \"" + target.schema + "\"");
    if (!made.ok() && made.code() != ErrorCode::kConflict) return made;
  }
  Result<std::unique_ptr<PgConnection>> conn = ConnectTo(target);
  if (!conn.ok()) return conn.take_status();
  CLINSHUB_RETURN_IF_ERROR(postgres::Migrate(**conn, clock));
  return conn;
}

}  // namespace

Status MigratePostgres(const PostgresOptions& options, const Clock& clock) {
  Result<std::unique_ptr<PgConnection>> conn =
      ConnectAndMigrate(Target{options.conninfo, options.schema}, clock);
  return conn.ok() ? Status::Ok() : conn.take_status();
}

Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options,
                                                 const Clock& clock) {
  if (options.conninfo.empty()) return MalformedError("PostgresOptions.conninfo is empty");
  if (options.connections < 1 || options.max_group_batches < 1) {
    return MalformedError("PostgresOptions: connections and max_group_batches must be >= 1");
  }
  const Target target{options.conninfo, options.schema};
  // The writer connects first and migrates: the read statements need the tables.
  Result<std::unique_ptr<PgConnection>> writer = ConnectAndMigrate(target, clock);
  if (!writer.ok()) return writer.take_status();
  for (const StatementSpec& s : WriteStatements()) {
    CLINSHUB_RETURN_IF_ERROR((*writer)->Prepare(s.name, s.sql));
  }
  std::vector<std::unique_ptr<PgConnection>> readers;
  for (int i = 0; i < options.connections; ++i) {
    Result<std::unique_ptr<PgConnection>> reader = ConnectPrepared(target, ReadStatements());
    if (!reader.ok()) return reader.take_status();
    readers.push_back(std::move(*reader));
  }
  return std::unique_ptr<Store>(
      new PostgresStore(options, clock, std::move(*writer), std::move(readers)));
}

}  // namespace clinshub::store
