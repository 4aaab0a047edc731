// PostgreSQL statements for the hub's records (store/records.h): the directory, the roster,
// consents, referral recipients and the audit chain, plus the pipelined write queue the
// store's writer thread runs every write through. Private to store/postgres.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "store/records.h"
#include "store/postgres/pg_conn.h"
#include "store/units.h"

namespace clinshub::store::postgres {

struct StatementSpec {
  const char* name;
  std::string sql;
};

Timestamp FromMicros(int64_t micros);
int64_t ToMicros(Timestamp t);

// Unit columns every unit query selects, in this order (RowToUnit), with a table prefix.
std::string UnitColumns(const std::string& prefix = "");
// The unit whose columns start at `col` of `row`.
UnitRecord RowToUnit(const Rows& r, int row, int col = 0);

// Rows for one multi-row statement, kept column by column as PostgreSQL array literals: the
// statement unnest()s them (INSERT … SELECT * FROM unnest($1::text[], …)), so N rows cost one
// statement on the server instead of N.
class RowBuffer {
 public:
  explicit RowBuffer(int columns) : columns_(static_cast<size_t>(columns)) {}
  // Values of the current row, left to right; the row ends after the last column.
  RowBuffer& Text(std::string_view v);
  RowBuffer& Int64(int64_t v) { return Text(std::to_string(v)); }
  RowBuffer& Null();
  size_t rows() const { return rows_; }
  // One array-literal parameter per column.
  Params ToParams() const;
  // Column `i` as an array literal ("{…}"), for a statement that takes it beside other values.
  std::string ArrayLiteral(size_t i) const { return "{" + columns_[i] + "}"; }
  void Clear();

 private:
  void Next();
  std::vector<std::string> columns_;
  size_t column_ = 0;
  size_t rows_ = 0;
};

// The statements of one group transaction on the writer connection, sent as pipelines: writes
// (and reads whose rows are consumed by a callback) are queued and go out together with the
// next read that the code must wait for, or with Flush(). A batch then costs one round trip per
// decision that depends on the database, not one per statement. Statements run in queue order;
// an error of any of them is returned by the Read()/Flush() that sent it, and the server
// skipped the rest of that pipeline.
class WriteQueue {
 public:
  using OnRows = std::function<void(const Rows&)>;

  void Reset(PgConnection* conn) {
    conn_ = conn;
    calls_.clear();
    handlers_.clear();
  }
  void Queue(const char* name, Params params, OnRows on_rows = nullptr);
  // Sends everything queued, then this read; returns its rows.
  Result<Rows> Read(const char* name, Params params);
  // Sends everything queued (nothing if empty). failed_at: the index (in queue order) of the
  // statement that failed, or the queue's size if it was the connection.
  Status Flush(size_t* failed_at = nullptr);
  size_t size() const { return calls_.size(); }
  // How many pipelines were sent so far (tells whether a queued statement has gone out).
  uint64_t flushes() const { return flushes_; }
  // Forgets the statements queued after the first `n` (they were never sent).
  void Truncate(size_t n);

 private:
  PgConnection* conn_ = nullptr;
  std::vector<Call> calls_;
  std::vector<OnRows> handlers_;
  uint64_t flushes_ = 0;
};

// The writer side of the records: applies record ops through the queue, with caches so that a
// batch's reads go out in one pipeline (Prefetch) and the audit head is read once per group.
class RecordWriter {
 public:
  static void AddStatements(std::vector<StatementSpec>& out);

  explicit RecordWriter(WriteQueue& queue) : q_(queue) {}

  // A new group transaction (the audit head may have moved since the last one).
  void BeginGroup();
  // A new batch (its savepoint was just queued); RollbackBatch() when it is rolled back.
  void BeginBatch();
  void RollbackBatch();

  // Queues the reads `op` will need, so they travel with the batch's first pipeline.
  void Prefetch(const PutConsent& op);
  void Prefetch(const RevokeConsent& op);
  void Prefetch(const SetReferralState& op);
  void Prefetch(const AppendAudit& op);

  Status Apply(const PutInstitution& op, Timestamp now);
  Status Apply(const PutRosterEntry& op);
  Status Apply(const PutConsent& op);
  Status Apply(const RevokeConsent& op);
  Status Apply(const SetReferralState& op, Timestamp now);
  // Assigns seq, prev_hash and hash (and time if unset) and queues the insert. The caller has
  // taken the audit lock in this transaction (kAuditLockSql) before the head was read.
  Status Apply(AppendAudit& op, Timestamp now);

 private:
  using ReferralKey = std::tuple<std::string, std::string, std::string, std::string>;
  using ConsentKey = std::pair<std::string, std::string>;
  struct AuditHead {
    int64_t seq = 0;
    std::string hash;
  };
  static ReferralKey KeyOf(const SetReferralState& op) {
    return {op.unit.person_key, op.unit.system, op.unit.value, op.recipient};
  }

  WriteQueue& q_;
  std::map<ReferralKey, ReferralState> referral_;            // this batch's view
  std::map<ConsentKey, std::optional<bool>> consent_;        // revoked?; nullopt: no consent
  std::optional<AuditHead> head_, head_at_batch_;            // in this transaction
};

// The statement that serialises audit appends across every process sharing the database; its
// lock is held until the transaction ends.
inline constexpr const char* kAuditLockName = "audit_lock";

// Read connections run the records' reads through this (the store's pool).
class RecordReads {
 public:
  virtual ~RecordReads() = default;
  virtual Result<Rows> Prepared(const char* name, const Params& params) = 0;
  virtual Result<Rows> AdHoc(const std::string& sql, const Params& params) = 0;
};

void AddRecordReadStatements(std::vector<StatementSpec>& out);

Result<InstitutionRecord> ReadInstitution(RecordReads& db, const std::string& code);
Result<std::vector<InstitutionRecord>> SearchInstitutions(RecordReads& db,
                                                          const InstitutionQuery& q);
Result<RosterEntry> ResolveIdentifier(RecordReads& db, const std::string& system,
                                      const std::string& value);
Result<std::vector<RosterEntry>> ListRosterEntries(RecordReads& db,
                                                   const std::string& person_key);
Result<ConsentRecord> ReadConsent(RecordReads& db, const std::string& id);
Result<std::vector<ConsentRecord>> ListConsents(RecordReads& db, const std::string& person_key);
Result<bool> HasActiveConsent(RecordReads& db, const std::string& person_key,
                              const std::string& institution, Timestamp at);
Result<std::vector<ReferralRecipient>> ListReferralRecipients(RecordReads& db,
                                                              const UnitKey& unit);
Result<std::vector<ReferralRecipient>> ListReferralsOfPerson(RecordReads& db,
                                                             const std::string& person_key);
Result<std::vector<InboxEntry>> ListInbox(RecordReads& db, const std::string& recipient,
                                          size_t limit);
Result<std::vector<AuditEvent>> ListAudit(RecordReads& db, const AuditQuery& query);
Result<AuditVerification> VerifyAudit(RecordReads& db);

}  // namespace clinshub::store::postgres
