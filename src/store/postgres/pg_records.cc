#include "store/postgres/pg_records.h"

#include <algorithm>
#include <cstdint>

#include "common/japanese_text.h"
#include "store/search_text.h"
#include "store/audit.h"
#include "store/audit_refs.h"

namespace clinshub::store::postgres {

Timestamp FromMicros(int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }
int64_t ToMicros(Timestamp t) { return t.time_since_epoch().count(); }

std::string UnitColumns(const std::string& p) {
  return p + "person_key, " + p + "id_system, " + p + "id_value, " + p + "bundle_id, " + p +
         "version, " + p + "status, " + p + "institution, " + p + "kind, " + p + "addressee, " +
         p + "content_hash, " + p + "first_registered, " + p + "last_changed";
}

UnitRecord RowToUnit(const Rows& r, int row, int c) {
  UnitRecord u;
  u.key = UnitKey{r.Text(row, c + 0), r.Text(row, c + 1), r.Text(row, c + 2)};
  u.bundle_id = r.Text(row, c + 3);
  u.version = r.Int64(row, c + 4);
  u.status = static_cast<UnitStatus>(r.Int64(row, c + 5));
  u.institution = r.Text(row, c + 6);
  u.kind = r.Text(row, c + 7);
  u.addressee = r.Text(row, c + 8);
  u.content_hash = r.Text(row, c + 9);
  u.first_registered = FromMicros(r.Int64(row, c + 10));
  u.last_changed = FromMicros(r.Int64(row, c + 11));
  return u;
}

// ---- RowBuffer -------------------------------------------------------------------------

RowBuffer& RowBuffer::Text(std::string_view v) {
  std::string& col = columns_[column_];
  if (rows_ > 0) col += ',';
  col += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') col += '\\';
    col += c;
  }
  col += '"';
  Next();
  return *this;
}

RowBuffer& RowBuffer::Null() {
  std::string& col = columns_[column_];
  if (rows_ > 0) col += ',';
  col += "NULL";
  Next();
  return *this;
}

void RowBuffer::Next() {
  if (++column_ == columns_.size()) {
    column_ = 0;
    ++rows_;
  }
}

Params RowBuffer::ToParams() const {
  Params p;
  for (size_t i = 0; i < columns_.size(); ++i) p.Text(ArrayLiteral(i));
  return p;
}

void RowBuffer::Clear() {
  for (std::string& col : columns_) col.clear();
  column_ = 0;
  rows_ = 0;
}

// ---- WriteQueue ------------------------------------------------------------------------

void WriteQueue::Queue(const char* name, Params params, OnRows on_rows) {
  calls_.push_back(Call{name, std::move(params)});
  handlers_.push_back(std::move(on_rows));
}

Result<Rows> WriteQueue::Read(const char* name, Params params) {
  std::optional<Rows> out;
  calls_.push_back(Call{name, std::move(params)});
  handlers_.push_back(nullptr);
  const size_t mine = calls_.size() - 1;
  std::vector<Rows> rows;
  size_t failed_at = 0;
  std::vector<Call> calls = std::move(calls_);
  std::vector<OnRows> handlers = std::move(handlers_);
  calls_.clear();
  handlers_.clear();
  ++flushes_;
  Status st = conn_->Pipeline(calls, rows, failed_at);
  if (!st.ok()) return st;
  for (size_t i = 0; i < mine; ++i) {
    if (handlers[i]) handlers[i](rows[i]);
  }
  return std::move(rows[mine]);
}

Status WriteQueue::Flush(size_t* failed_at) {
  size_t failed = 0;
  if (failed_at != nullptr) *failed_at = calls_.size();
  if (calls_.empty()) return Status::Ok();
  std::vector<Rows> rows;
  std::vector<Call> calls = std::move(calls_);
  std::vector<OnRows> handlers = std::move(handlers_);
  calls_.clear();
  handlers_.clear();
  ++flushes_;
  Status st = conn_->Pipeline(calls, rows, failed);
  if (failed_at != nullptr) *failed_at = failed;
  if (!st.ok()) return st;
  for (size_t i = 0; i < calls.size(); ++i) {
    if (handlers[i]) handlers[i](rows[i]);
  }
  return Status::Ok();
}

void WriteQueue::Truncate(size_t n) {
  if (n >= calls_.size()) return;
  calls_.resize(n);
  handlers_.resize(n);
}

namespace {

bool Bool(const Rows& r, int row, int col) { return r.Text(row, col) == "t"; }

constexpr const char* kInstitutionColumns =
    "code, name, kana, address, postcode, phone, kind, emergency, active, updated";

InstitutionRecord RowToInstitution(const Rows& r, int i) {
  InstitutionRecord x;
  x.code = r.Text(i, 0);
  x.name = r.Text(i, 1);
  x.kana = r.Text(i, 2);
  x.address = r.Text(i, 3);
  x.postcode = r.Text(i, 4);
  x.phone = r.Text(i, 5);
  x.kind = r.Text(i, 6);
  x.emergency_permitted = Bool(r, i, 7);
  x.active = Bool(r, i, 8);
  x.updated = FromMicros(r.Int64(i, 9));
  return x;
}

constexpr const char* kRosterColumns = "id_system, id_value, person_key, valid_from, valid_to";

RosterEntry RowToRoster(const Rows& r, int i) {
  return RosterEntry{r.Text(i, 0), r.Text(i, 1), r.Text(i, 2), r.Text(i, 3), r.Text(i, 4)};
}

constexpr const char* kConsentColumns =
    "consent_id, person_key, institution, method, granted, expires, revoked";

ConsentRecord RowToConsent(const Rows& r, int i) {
  ConsentRecord c;
  c.id = r.Text(i, 0);
  c.person_key = r.Text(i, 1);
  c.institution = r.Text(i, 2);
  c.method = r.Text(i, 3);
  c.granted = FromMicros(r.Int64(i, 4));
  c.expires = FromMicros(r.Int64(i, 5));
  if (!r.IsNull(i, 6)) c.revoked = FromMicros(r.Int64(i, 6));
  return c;
}

std::string ReferralColumns(const std::string& p) {
  return p + "person_key, " + p + "id_system, " + p + "id_value, " + p + "recipient, " + p +
         "state, " + p + "set_by, " + p + "updated, " + p + "retrieved";
}

ReferralRecipient RowToReferral(const Rows& r, int i) {
  ReferralRecipient x;
  x.unit = UnitKey{r.Text(i, 0), r.Text(i, 1), r.Text(i, 2)};
  x.recipient = r.Text(i, 3);
  x.state = static_cast<ReferralState>(r.Int64(i, 4));
  x.set_by = r.Text(i, 5);
  x.updated = FromMicros(r.Int64(i, 6));
  if (!r.IsNull(i, 7)) x.retrieved = FromMicros(r.Int64(i, 7));
  return x;
}

constexpr const char* kAuditColumns =
    "seq, time, actor_kind, actor, purpose, action, person_key, target, items, hidden_items,"
    " outcome, http_status, rule, reason, prev_hash, hash";

AuditEvent RowToAudit(const Rows& r, int i) {
  AuditEvent e;
  e.seq = r.Int64(i, 0);
  e.time = FromMicros(r.Int64(i, 1));
  e.actor_kind = r.Text(i, 2);
  e.actor = r.Text(i, 3);
  e.purpose = r.Text(i, 4);
  e.action = r.Text(i, 5);
  e.person_key = r.Text(i, 6);
  e.target = r.Text(i, 7);
  e.items = DecodeAuditRefs(r.Text(i, 8));
  e.patient_hidden_items = DecodeAuditRefs(r.Text(i, 9));
  e.outcome = r.Text(i, 10);
  e.http_status = static_cast<int>(r.Int64(i, 11));
  e.rule = r.Text(i, 12);
  e.reason = r.Text(i, 13);
  e.prev_hash = r.Text(i, 14);
  e.hash = r.Text(i, 15);
  return e;
}

template <typename T, typename Convert>
Result<std::vector<T>> Collect(Result<Rows> r, Convert convert) {
  if (!r.ok()) return r.take_status();
  std::vector<T> out;
  out.reserve(static_cast<size_t>(r->size()));
  for (int i = 0; i < r->size(); ++i) out.push_back(convert(*r, i));
  return out;
}

const char* StateName(ReferralState state) {
  switch (state) {
    case ReferralState::kNone: return "not a recipient";
    case ReferralState::kPending: return "閲覧保留 (pending)";
    case ReferralState::kViewable: return "閲覧可 (viewable)";
    case ReferralState::kRetrieved: return "取得済 (retrieved)";
  }
  return "unknown";
}

int64_t Limit(size_t n) { return static_cast<int64_t>(std::min<size_t>(n, INT64_MAX)); }

}  // namespace

// ---- Writer ----------------------------------------------------------------------------

void RecordWriter::AddStatements(std::vector<StatementSpec>& out) {
  out.push_back({"put_institution",
                 "INSERT INTO institution (code, name, kana, address, postcode, phone, kind,"
                 " emergency, active, updated, name_norm, kana_norm, address_norm,"
                 " postcode_digits, phone_digits)"
                 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
                 " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name,"
                 " kana = EXCLUDED.kana, address = EXCLUDED.address,"
                 " postcode = EXCLUDED.postcode, phone = EXCLUDED.phone, kind = EXCLUDED.kind,"
                 " emergency = EXCLUDED.emergency, active = EXCLUDED.active,"
                 " updated = EXCLUDED.updated, name_norm = EXCLUDED.name_norm,"
                 " kana_norm = EXCLUDED.kana_norm, address_norm = EXCLUDED.address_norm,"
                 " postcode_digits = EXCLUDED.postcode_digits,"
                 " phone_digits = EXCLUDED.phone_digits"});
  out.push_back({"put_roster",
                 "INSERT INTO roster (id_system, id_value, person_key, valid_from, valid_to)"
                 " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id_system, id_value) DO UPDATE SET"
                 " person_key = EXCLUDED.person_key, valid_from = EXCLUDED.valid_from,"
                 " valid_to = EXCLUDED.valid_to"});
  out.push_back({"put_consent",
                 "INSERT INTO consent (person_key, consent_id, institution, method, granted,"
                 " expires, revoked) VALUES ($1, $2, $3, $4, $5, $6, $7)"});
  out.push_back({"select_consent",
                 "SELECT revoked FROM consent WHERE person_key = $1 AND consent_id = $2"
                 " FOR UPDATE"});
  out.push_back({"revoke_consent",
                 "UPDATE consent SET revoked = $3 WHERE person_key = $1 AND consent_id = $2"
                 " AND revoked IS NULL"});
  out.push_back({"select_referral",
                 "SELECT state FROM referral_consent WHERE person_key = $1 AND id_system = $2"
                 " AND id_value = $3 AND recipient = $4 FOR UPDATE"});
  out.push_back({"upsert_referral",
                 "INSERT INTO referral_consent (person_key, id_system, id_value, recipient,"
                 " state, set_by, updated, retrieved) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                 " ON CONFLICT (person_key, id_system, id_value, recipient) DO UPDATE SET"
                 " state = EXCLUDED.state, set_by = EXCLUDED.set_by,"
                 " updated = EXCLUDED.updated,"
                 " retrieved = COALESCE(EXCLUDED.retrieved, referral_consent.retrieved)"});
  // One chain per schema: the lock key is the schema's, so stores in different schemas of one
  // database (tests, tenants) do not wait for each other.
  out.push_back({kAuditLockName,
                 "SELECT pg_advisory_xact_lock(72471503, hashtext(current_schema()))"});
  out.push_back({"audit_head", "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"});
  out.push_back({"insert_audit",
                 std::string("INSERT INTO audit (") + kAuditColumns +
                     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
                     " $15, $16)"});
}

void RecordWriter::BeginGroup() {
  head_.reset();
  head_at_batch_.reset();
}

void RecordWriter::BeginBatch() {
  referral_.clear();
  consent_.clear();
  head_at_batch_ = head_;
}

void RecordWriter::RollbackBatch() {
  referral_.clear();
  consent_.clear();
  head_ = head_at_batch_;
}

void RecordWriter::Prefetch(const PutConsent&) {}

void RecordWriter::Prefetch(const RevokeConsent& op) {
  ConsentKey key{op.person_key, op.id};
  q_.Queue("select_consent", Params().Text(op.person_key).Text(op.id),
           [this, key](const Rows& r) {
             if (consent_.count(key) != 0) return;
             consent_[key] = r.size() == 0 ? std::nullopt : std::optional<bool>(!r.IsNull(0, 0));
           });
}

void RecordWriter::Prefetch(const SetReferralState& op) {
  ReferralKey key = KeyOf(op);
  q_.Queue("select_referral",
           Params().Text(op.unit.person_key).Text(op.unit.system).Text(op.unit.value).Text(
               op.recipient),
           [this, key](const Rows& r) {
             if (referral_.count(key) != 0) return;
             referral_[key] = r.size() == 0 ? ReferralState::kNone
                                            : static_cast<ReferralState>(r.Int64(0, 0));
           });
}

void RecordWriter::Prefetch(const AppendAudit&) {
  if (head_.has_value()) return;
  q_.Queue("audit_head", Params(), [this](const Rows& r) {
    if (head_.has_value()) return;
    head_ = r.size() == 0 ? AuditHead{0, kAuditGenesisHash} : AuditHead{r.Int64(0, 0), r.Text(0, 1)};
  });
}

Status RecordWriter::Apply(const PutInstitution& op, Timestamp now) {
  const InstitutionRecord& r = op.record;
  q_.Queue("put_institution", Params()
                                  .Text(r.code)
                                  .Text(r.name)
                                  .Text(r.kana)
                                  .Text(r.address)
                                  .Text(r.postcode)
                                  .Text(r.phone)
                                  .Text(r.kind)
                                  .Text(r.emergency_permitted ? "t" : "f")
                                  .Text(r.active ? "t" : "f")
                                  .Int64(ToMicros(now))
                                  .Text(NormaliseForSearch(r.name))
                                  .Text(NormaliseForSearch(r.kana))
                                  .Text(NormaliseForSearch(r.address))
                                  .Text(DigitsOf(r.postcode))
                                  .Text(DigitsOf(r.phone)));
  return Status::Ok();
}

Status RecordWriter::Apply(const PutRosterEntry& op) {
  const RosterEntry& e = op.entry;
  q_.Queue("put_roster", Params()
                             .Text(e.system)
                             .Text(e.value_normalised)
                             .Text(e.person_key)
                             .Text(e.valid_from)
                             .Text(e.valid_to));
  return Status::Ok();
}

Status RecordWriter::Apply(const PutConsent& op) {
  const ConsentRecord& c = op.record;
  Params p;
  p.Text(c.person_key)
      .Text(c.id)
      .Text(c.institution)
      .Text(c.method)
      .Int64(ToMicros(c.granted))
      .Int64(ToMicros(c.expires));
  if (c.revoked) {
    p.Int64(ToMicros(*c.revoked));
  } else {
    p.Null();
  }
  q_.Queue("put_consent", std::move(p));
  // A duplicate id fails at the insert (kConflict), which fails the batch: the cache is moot.
  consent_[ConsentKey{c.person_key, c.id}] = c.revoked.has_value();
  return Status::Ok();
}

Status RecordWriter::Apply(const RevokeConsent& op) {
  const ConsentKey key{op.person_key, op.id};
  auto cached = consent_.find(key);
  if (cached == consent_.end()) {
    Result<Rows> r = q_.Read("select_consent", Params().Text(op.person_key).Text(op.id));
    if (!r.ok()) return r.take_status();
    cached = consent_
                 .emplace(key, r->size() == 0 ? std::nullopt
                                              : std::optional<bool>(!r->IsNull(0, 0)))
                 .first;
  }
  if (!cached->second.has_value()) return NotFoundError("Consent/" + op.id + " not found");
  if (*cached->second) return Status::Ok();  // already revoked: keep the first time
  q_.Queue("revoke_consent", Params().Text(op.person_key).Text(op.id).Int64(ToMicros(op.at)));
  cached->second = true;
  return Status::Ok();
}

Status RecordWriter::Apply(const SetReferralState& op, Timestamp now) {
  const ReferralKey key = KeyOf(op);
  auto cached = referral_.find(key);
  if (cached == referral_.end()) {
    Result<Rows> r = q_.Read("select_referral", Params()
                                                    .Text(op.unit.person_key)
                                                    .Text(op.unit.system)
                                                    .Text(op.unit.value)
                                                    .Text(op.recipient));
    if (!r.ok()) return r.take_status();
    cached = referral_
                 .emplace(key, r->size() == 0 ? ReferralState::kNone
                                              : static_cast<ReferralState>(r->Int64(0, 0)))
                 .first;
  }
  const ReferralState current = cached->second;
  if (current == op.state) return Status::Ok();
  if (std::find(op.allowed_from.begin(), op.allowed_from.end(), current) ==
      op.allowed_from.end()) {
    if (!op.strict) return Status::Ok();
    return Status::Error(ErrorCode::kConflict, "conflict",
                         std::string("The referral letter's consent state for ") +
                             op.recipient + " is " + StateName(current) + "; it cannot become " +
                             StateName(op.state));
  }
  Params p;
  p.Text(op.unit.person_key)
      .Text(op.unit.system)
      .Text(op.unit.value)
      .Text(op.recipient)
      .Int64(static_cast<int64_t>(op.state))
      .Text(op.set_by)
      .Int64(ToMicros(now));
  if (op.state == ReferralState::kRetrieved) {
    p.Int64(ToMicros(now));
  } else {
    p.Null();
  }
  q_.Queue("upsert_referral", std::move(p));
  cached->second = op.state;
  return Status::Ok();
}

Status RecordWriter::Apply(AppendAudit& op, Timestamp now) {
  if (!head_.has_value()) {
    Result<Rows> r = q_.Read("audit_head", Params());
    if (!r.ok()) return r.take_status();
    head_ = r->size() == 0 ? AuditHead{0, kAuditGenesisHash}
                           : AuditHead{r->Int64(0, 0), r->Text(0, 1)};
  }
  AuditEvent& e = op.event;
  e.seq = head_->seq + 1;
  e.prev_hash = head_->hash;
  if (e.time == Timestamp{}) e.time = now;
  e.hash = AuditHash(e);
  q_.Queue("insert_audit", Params()
                               .Int64(e.seq)
                               .Int64(ToMicros(e.time))
                               .Text(e.actor_kind)
                               .Text(e.actor)
                               .Text(e.purpose)
                               .Text(e.action)
                               .Text(e.person_key)
                               .Text(e.target)
                               .Text(EncodeAuditRefs(e.items))
                               .Text(EncodeAuditRefs(e.patient_hidden_items))
                               .Text(e.outcome)
                               .Int64(e.http_status)
                               .Text(e.rule)
                               .Text(e.reason)
                               .Text(e.prev_hash)
                               .Text(e.hash));
  head_ = AuditHead{e.seq, e.hash};
  return Status::Ok();
}

// ---- Reader ----------------------------------------------------------------------------

void AddRecordReadStatements(std::vector<StatementSpec>& out) {
  out.push_back({"institution", std::string("SELECT ") + kInstitutionColumns +
                                    " FROM institution WHERE code = $1"});
  out.push_back({"roster", std::string("SELECT ") + kRosterColumns +
                               " FROM roster WHERE id_system = $1 AND id_value = $2"});
  out.push_back({"roster_person", std::string("SELECT ") + kRosterColumns +
                                      " FROM roster WHERE person_key = $1"
                                      " ORDER BY valid_from, id_value"});
  out.push_back({"consent", std::string("SELECT ") + kConsentColumns +
                                " FROM consent WHERE consent_id = $1"});
  out.push_back({"consents", std::string("SELECT ") + kConsentColumns +
                                 " FROM consent WHERE person_key = $1"
                                 " ORDER BY granted DESC, consent_id"});
  out.push_back({"active_consent",
                 "SELECT 1 FROM consent WHERE person_key = $1 AND institution = $2"
                 " AND revoked IS NULL AND granted <= $3 AND expires > $3 LIMIT 1"});
  out.push_back({"referral", "SELECT " + ReferralColumns("") +
                                 " FROM referral_consent WHERE person_key = $1"
                                 " AND id_system = $2 AND id_value = $3 ORDER BY recipient"});
  out.push_back({"person_referrals", "SELECT " + ReferralColumns("") +
                                         " FROM referral_consent WHERE person_key = $1"
                                         " ORDER BY id_system, id_value, recipient"});
  out.push_back({"inbox", "SELECT " + ReferralColumns("r.") + ", " + UnitColumns("u.") +
                              " FROM referral_consent r JOIN unit u"
                              " ON u.person_key = r.person_key AND u.id_system = r.id_system"
                              " AND u.id_value = r.id_value"
                              " WHERE r.recipient = $1 AND u.status = 1"
                              " ORDER BY r.updated DESC, r.person_key, r.id_system, r.id_value"
                              " LIMIT $2"});
  out.push_back({"audit_page", std::string("SELECT ") + kAuditColumns +
                                   " FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2"});
}

Result<InstitutionRecord> ReadInstitution(RecordReads& db, const std::string& code) {
  Result<Rows> r = db.Prepared("institution", Params().Text(code));
  if (!r.ok()) return r.take_status();
  if (r->size() == 0) return NotFoundError("Institution " + code + " is not in the directory");
  return RowToInstitution(*r, 0);
}

Result<std::vector<InstitutionRecord>> SearchInstitutions(RecordReads& db,
                                                          const InstitutionQuery& q) {
  // Built per query, as in SQLite: the criteria vary.
  std::string sql = std::string("SELECT ") + kInstitutionColumns + " FROM institution WHERE TRUE";
  Params params;
  int n = 0;
  auto add = [&](const std::string& before, const std::string& after, std::string value) {
    params.Text(value);
    sql += " AND " + before + std::to_string(++n) + after;
  };
  if (!q.code.empty()) add("code = $", "", q.code);
  if (!q.name_or_kana.empty()) {
    params.Text(LikePattern(q.name_or_kana, q.name_contains));
    const std::string p = "$" + std::to_string(++n);
    sql += " AND (name_norm LIKE " + p + " ESCAPE '\\' OR kana_norm LIKE " + p + " ESCAPE '\\')";
  }
  if (!q.kana.empty()) add("kana_norm LIKE $", " ESCAPE '\\'", LikePattern(q.kana, false));
  if (!q.address.empty()) {
    add("address_norm LIKE $", " ESCAPE '\\'", LikePattern(q.address, true));
  }
  if (!q.postcode.empty()) {
    add("postcode_digits LIKE $", " ESCAPE '\\'", LikePattern(q.postcode, false));
  }
  if (!q.phone.empty()) add("phone_digits = $", "", q.phone);
  if (q.active.has_value()) add("active = $", "::boolean", *q.active ? "t" : "f");
  sql += " ORDER BY code LIMIT " + std::to_string(Limit(q.limit)) + " OFFSET " +
         std::to_string(Limit(q.offset));
  return Collect<InstitutionRecord>(db.AdHoc(sql, params), RowToInstitution);
}

Result<RosterEntry> ResolveIdentifier(RecordReads& db, const std::string& system,
                                      const std::string& value) {
  Result<Rows> r = db.Prepared("roster", Params().Text(system).Text(value));
  if (!r.ok()) return r.take_status();
  if (r->size() == 0) return NotFoundError("The identifier is not in the eligibility roster");
  return RowToRoster(*r, 0);
}

Result<std::vector<RosterEntry>> ListRosterEntries(RecordReads& db,
                                                   const std::string& person_key) {
  return Collect<RosterEntry>(db.Prepared("roster_person", Params().Text(person_key)),
                              RowToRoster);
}

Result<ConsentRecord> ReadConsent(RecordReads& db, const std::string& id) {
  Result<Rows> r = db.Prepared("consent", Params().Text(id));
  if (!r.ok()) return r.take_status();
  if (r->size() == 0) return NotFoundError("Consent/" + id + " not found");
  return RowToConsent(*r, 0);
}

Result<std::vector<ConsentRecord>> ListConsents(RecordReads& db, const std::string& person_key) {
  return Collect<ConsentRecord>(db.Prepared("consents", Params().Text(person_key)),
                                RowToConsent);
}

Result<bool> HasActiveConsent(RecordReads& db, const std::string& person_key,
                              const std::string& institution, Timestamp at) {
  Result<Rows> r = db.Prepared(
      "active_consent", Params().Text(person_key).Text(institution).Int64(ToMicros(at)));
  if (!r.ok()) return r.take_status();
  return r->size() > 0;
}

Result<std::vector<ReferralRecipient>> ListReferralRecipients(RecordReads& db,
                                                              const UnitKey& unit) {
  return Collect<ReferralRecipient>(
      db.Prepared("referral", Params().Text(unit.person_key).Text(unit.system).Text(unit.value)),
      RowToReferral);
}

Result<std::vector<ReferralRecipient>> ListReferralsOfPerson(RecordReads& db,
                                                             const std::string& person_key) {
  return Collect<ReferralRecipient>(db.Prepared("person_referrals", Params().Text(person_key)),
                                    RowToReferral);
}

Result<std::vector<InboxEntry>> ListInbox(RecordReads& db, const std::string& recipient,
                                          size_t limit) {
  return Collect<InboxEntry>(db.Prepared("inbox", Params().Text(recipient).Int64(Limit(limit))),
                             [](const Rows& r, int i) {
                               return InboxEntry{RowToReferral(r, i), RowToUnit(r, i, 8)};
                             });
}

Result<std::vector<AuditEvent>> ListAudit(RecordReads& db, const AuditQuery& q) {
  std::string sql = std::string("SELECT ") + kAuditColumns + " FROM audit WHERE seq > $1";
  Params params;
  params.Int64(q.after_seq);
  int n = 1;
  auto add = [&](const std::string& clause) {
    sql += " AND " + clause + std::to_string(++n);
  };
  if (!q.person_key.empty()) {
    add("person_key = $");
    params.Text(q.person_key);
  }
  if (!q.actor.empty()) {
    add("actor = $");
    params.Text(q.actor);
  }
  if (q.from) {
    add("time >= $");
    params.Int64(ToMicros(*q.from));
  }
  if (q.to) {
    add("time < $");
    params.Int64(ToMicros(*q.to));
  }
  sql += " ORDER BY seq LIMIT " + std::to_string(Limit(q.limit));
  return Collect<AuditEvent>(db.AdHoc(sql, params), RowToAudit);
}

Result<AuditVerification> VerifyAudit(RecordReads& db) {
  AuditVerification v;
  std::string prev = kAuditGenesisHash;
  int64_t expected = 1;
  int64_t after = 0;
  constexpr int64_t kPage = 4096;
  while (v.intact) {
    Result<std::vector<AuditEvent>> page =
        Collect<AuditEvent>(db.Prepared("audit_page", Params().Int64(after).Int64(kPage)),
                            RowToAudit);
    if (!page.ok()) return page.take_status();
    if (page->empty()) break;
    after = page->back().seq;
    VerifyAuditRun(*page, prev, expected, v);
  }
  return v;
}

}  // namespace clinshub::store::postgres
