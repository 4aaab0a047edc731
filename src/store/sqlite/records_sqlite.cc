#include "store/sqlite/records_sqlite.h"

#include <algorithm>

#include "common/japanese_text.h"
#include "store/search_text.h"
#include "store/audit.h"
#include "store/audit_refs.h"
#include "store/sqlite/rows.h"

namespace clinshub::store::sqlite {
namespace {

constexpr const char* kInstitutionColumns =
    "code, name, kana, address, postcode, phone, kind, emergency, active, updated";

InstitutionRecord RowToInstitution(const Statement& s) {
  InstitutionRecord r;
  r.code = s.ColumnText(0);
  r.name = s.ColumnText(1);
  r.kana = s.ColumnText(2);
  r.address = s.ColumnText(3);
  r.postcode = s.ColumnText(4);
  r.phone = s.ColumnText(5);
  r.kind = s.ColumnText(6);
  r.emergency_permitted = s.ColumnInt64(7) != 0;
  r.active = s.ColumnInt64(8) != 0;
  r.updated = FromMicros(s.ColumnInt64(9));
  return r;
}

constexpr const char* kRosterColumns = "id_system, id_value, person_key, valid_from, valid_to";

RosterEntry RowToRoster(const Statement& s) {
  return RosterEntry{s.ColumnText(0), s.ColumnText(1), s.ColumnText(2), s.ColumnText(3),
                     s.ColumnText(4)};
}

constexpr const char* kConsentColumns =
    "consent_id, person_key, institution, method, granted, expires, revoked";

ConsentRecord RowToConsent(const Statement& s) {
  ConsentRecord c;
  c.id = s.ColumnText(0);
  c.person_key = s.ColumnText(1);
  c.institution = s.ColumnText(2);
  c.method = s.ColumnText(3);
  c.granted = FromMicros(s.ColumnInt64(4));
  c.expires = FromMicros(s.ColumnInt64(5));
  if (!s.ColumnIsNull(6)) c.revoked = FromMicros(s.ColumnInt64(6));
  return c;
}

#define CLINSHUB_REFERRAL_COLUMNS(prefix)                                                   \
  prefix "person_key, " prefix "id_system, " prefix "id_value, " prefix "recipient, " prefix \
         "state, " prefix "set_by, " prefix "updated, " prefix "retrieved"

ReferralRecipient RowToReferral(const Statement& s) {
  ReferralRecipient r;
  r.unit = UnitKey{s.ColumnText(0), s.ColumnText(1), s.ColumnText(2)};
  r.recipient = s.ColumnText(3);
  r.state = static_cast<ReferralState>(s.ColumnInt64(4));
  r.set_by = s.ColumnText(5);
  r.updated = FromMicros(s.ColumnInt64(6));
  if (!s.ColumnIsNull(7)) r.retrieved = FromMicros(s.ColumnInt64(7));
  return r;
}

constexpr const char* kAuditColumns =
    "seq, time, actor_kind, actor, purpose, action, person_key, target, items, hidden_items,"
    " outcome, http_status, rule, reason, prev_hash, hash";

AuditEvent RowToAudit(const Statement& s) {
  AuditEvent e;
  e.seq = s.ColumnInt64(0);
  e.time = FromMicros(s.ColumnInt64(1));
  e.actor_kind = s.ColumnText(2);
  e.actor = s.ColumnText(3);
  e.purpose = s.ColumnText(4);
  e.action = s.ColumnText(5);
  e.person_key = s.ColumnText(6);
  e.target = s.ColumnText(7);
  e.items = DecodeAuditRefs(s.ColumnText(8));
  e.patient_hidden_items = DecodeAuditRefs(s.ColumnText(9));
  e.outcome = s.ColumnText(10);
  e.http_status = static_cast<int>(s.ColumnInt64(11));
  e.rule = s.ColumnText(12);
  e.reason = s.ColumnText(13);
  e.prev_hash = s.ColumnText(14);
  e.hash = s.ColumnText(15);
  return e;
}

// Runs `s` (already bound) and collects every row through `convert`.
template <typename T, typename Convert>
Result<std::vector<T>> Collect(Statement& s, Convert convert) {
  std::vector<T> out;
  while (true) {
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    if (!*row) break;
    out.push_back(convert(s));
  }
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

}  // namespace

// ---- Writer ----------------------------------------------------------------------------

Result<std::unique_ptr<RecordWriter>> RecordWriter::Prepare(Connection& db) {
  auto w = std::make_unique<RecordWriter>();
  CLINSHUB_SQLITE_PREPARE(w->put_institution_, db,
                   "INSERT OR REPLACE INTO institution (code, name, kana, address, postcode,"
                   " phone, kind, emergency, active, updated, name_norm, kana_norm,"
                   " address_norm, postcode_digits, phone_digits)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
  CLINSHUB_SQLITE_PREPARE(w->put_roster_, db,
                   "INSERT OR REPLACE INTO roster (id_system, id_value, person_key, valid_from,"
                   " valid_to) VALUES (?1, ?2, ?3, ?4, ?5)");
  CLINSHUB_SQLITE_PREPARE(w->put_consent_, db,
                   "INSERT INTO consent (person_key, consent_id, institution, method, granted,"
                   " expires, revoked) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  CLINSHUB_SQLITE_PREPARE(w->consent_id_taken_, db,
                   "SELECT 1 FROM consent WHERE consent_id = ?1");
  CLINSHUB_SQLITE_PREPARE(w->select_consent_, db,
                   "SELECT revoked FROM consent WHERE person_key = ?1 AND consent_id = ?2");
  CLINSHUB_SQLITE_PREPARE(w->revoke_consent_, db,
                   "UPDATE consent SET revoked = ?3 WHERE person_key = ?1 AND consent_id = ?2");
  CLINSHUB_SQLITE_PREPARE(w->select_referral_, db,
                   "SELECT state FROM referral_consent WHERE person_key = ?1 AND id_system = ?2"
                   " AND id_value = ?3 AND recipient = ?4");
  CLINSHUB_SQLITE_PREPARE(w->upsert_referral_, db,
                   "INSERT INTO referral_consent (person_key, id_system, id_value, recipient,"
                   " state, set_by, updated, retrieved) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                   " ON CONFLICT (person_key, id_system, id_value, recipient) DO UPDATE SET"
                   " state = excluded.state, set_by = excluded.set_by,"
                   " updated = excluded.updated,"
                   " retrieved = COALESCE(excluded.retrieved, referral_consent.retrieved)");
  CLINSHUB_SQLITE_PREPARE(w->audit_head_, db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
  CLINSHUB_SQLITE_PREPARE(w->insert_audit_, db,
                   std::string("INSERT INTO audit (") + kAuditColumns +
                       ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                       " ?15, ?16)");
  return w;
}

Status RecordWriter::Apply(const PutInstitution& op, Timestamp now) {
  const InstitutionRecord& r = op.record;
  Statement& s = *put_institution_;
  ScopedReset reset(s);
  s.BindText(1, r.code);
  s.BindText(2, r.name);
  s.BindText(3, r.kana);
  s.BindText(4, r.address);
  s.BindText(5, r.postcode);
  s.BindText(6, r.phone);
  s.BindText(7, r.kind);
  s.BindInt64(8, r.emergency_permitted ? 1 : 0);
  s.BindInt64(9, r.active ? 1 : 0);
  s.BindInt64(10, ToMicros(now));
  s.BindText(11, NormaliseForSearch(r.name));
  s.BindText(12, NormaliseForSearch(r.kana));
  s.BindText(13, NormaliseForSearch(r.address));
  s.BindText(14, DigitsOf(r.postcode));
  s.BindText(15, DigitsOf(r.phone));
  return s.Run();
}

Status RecordWriter::Apply(const PutRosterEntry& op) {
  const RosterEntry& e = op.entry;
  Statement& s = *put_roster_;
  ScopedReset reset(s);
  s.BindText(1, e.system);
  s.BindText(2, e.value_normalised);
  s.BindText(3, e.person_key);
  s.BindText(4, e.valid_from);
  s.BindText(5, e.valid_to);
  return s.Run();
}

Status RecordWriter::Apply(const PutConsent& op) {
  const ConsentRecord& c = op.record;
  {
    // A consent id is written once. A second write is this batch's conflict (the rest of the
    // group commits), not the database failing, which a unique-index violation would report.
    Statement& s = *consent_id_taken_;
    ScopedReset reset(s);
    s.BindText(1, c.id);
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    if (*row) {
      return Status::Error(ErrorCode::kConflict, "duplicate", "Consent " + c.id + " already exists");
    }
  }
  Statement& s = *put_consent_;
  ScopedReset reset(s);
  s.BindText(1, c.person_key);
  s.BindText(2, c.id);
  s.BindText(3, c.institution);
  s.BindText(4, c.method);
  s.BindInt64(5, ToMicros(c.granted));
  s.BindInt64(6, ToMicros(c.expires));
  if (c.revoked) {
    s.BindInt64(7, ToMicros(*c.revoked));
  } else {
    s.BindNull(7);
  }
  return s.Run();
}

Status RecordWriter::Apply(const RevokeConsent& op) {
  {
    Statement& s = *select_consent_;
    ScopedReset reset(s);
    s.BindText(1, op.person_key);
    s.BindText(2, op.id);
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    if (!*row) return NotFoundError("Consent/" + op.id + " not found");
    if (!s.ColumnIsNull(0)) return Status::Ok();  // already revoked: keep the first time
  }
  Statement& s = *revoke_consent_;
  ScopedReset reset(s);
  s.BindText(1, op.person_key);
  s.BindText(2, op.id);
  s.BindInt64(3, ToMicros(op.at));
  return s.Run();
}

Status RecordWriter::Apply(const SetReferralState& op, Timestamp now) {
  ReferralState current = ReferralState::kNone;
  {
    Statement& s = *select_referral_;
    ScopedReset reset(s);
    s.BindText(1, op.unit.person_key);
    s.BindText(2, op.unit.system);
    s.BindText(3, op.unit.value);
    s.BindText(4, op.recipient);
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    if (*row) current = static_cast<ReferralState>(s.ColumnInt64(0));
  }
  if (current == op.state) return Status::Ok();
  if (std::find(op.allowed_from.begin(), op.allowed_from.end(), current) ==
      op.allowed_from.end()) {
    if (!op.strict) return Status::Ok();
    return Status::Error(ErrorCode::kConflict, "conflict",
                         std::string("The referral letter's consent state for ") +
                             op.recipient + " is " + StateName(current) + "; it cannot become " +
                             StateName(op.state));
  }
  Statement& s = *upsert_referral_;
  ScopedReset reset(s);
  s.BindText(1, op.unit.person_key);
  s.BindText(2, op.unit.system);
  s.BindText(3, op.unit.value);
  s.BindText(4, op.recipient);
  s.BindInt64(5, static_cast<int64_t>(op.state));
  s.BindText(6, op.set_by);
  s.BindInt64(7, ToMicros(now));
  if (op.state == ReferralState::kRetrieved) {
    s.BindInt64(8, ToMicros(now));
  } else {
    s.BindNull(8);
  }
  return s.Run();
}

Status RecordWriter::Apply(AppendAudit& op, Timestamp now) {
  AuditEvent& e = op.event;
  e.seq = 1;
  e.prev_hash = kAuditGenesisHash;
  {
    Statement& s = *audit_head_;
    ScopedReset reset(s);
    Result<bool> row = s.Step();
    if (!row.ok()) return row.take_status();
    if (*row) {
      e.seq = s.ColumnInt64(0) + 1;
      e.prev_hash = s.ColumnText(1);
    }
  }
  if (e.time == Timestamp{}) e.time = now;
  e.hash = AuditHash(e);
  Statement& s = *insert_audit_;
  ScopedReset reset(s);
  s.BindInt64(1, e.seq);
  s.BindInt64(2, ToMicros(e.time));
  s.BindText(3, e.actor_kind);
  s.BindText(4, e.actor);
  s.BindText(5, e.purpose);
  s.BindText(6, e.action);
  s.BindText(7, e.person_key);
  s.BindText(8, e.target);
  s.BindText(9, EncodeAuditRefs(e.items));
  s.BindText(10, EncodeAuditRefs(e.patient_hidden_items));
  s.BindText(11, e.outcome);
  s.BindInt64(12, e.http_status);
  s.BindText(13, e.rule);
  s.BindText(14, e.reason);
  s.BindText(15, e.prev_hash);
  s.BindText(16, e.hash);
  return s.Run();
}

// ---- Reader ----------------------------------------------------------------------------

Result<std::unique_ptr<RecordReader>> RecordReader::Prepare(Connection& db) {
  std::unique_ptr<RecordReader> r(new RecordReader(db));
  CLINSHUB_SQLITE_PREPARE(r->institution_, db,
                   std::string("SELECT ") + kInstitutionColumns +
                       " FROM institution WHERE code = ?1");
  CLINSHUB_SQLITE_PREPARE(r->roster_, db,
                   std::string("SELECT ") + kRosterColumns +
                       " FROM roster WHERE id_system = ?1 AND id_value = ?2");
  CLINSHUB_SQLITE_PREPARE(r->roster_person_, db,
                   std::string("SELECT ") + kRosterColumns +
                       " FROM roster WHERE person_key = ?1 ORDER BY valid_from, id_value");
  CLINSHUB_SQLITE_PREPARE(r->consent_, db,
                   std::string("SELECT ") + kConsentColumns +
                       " FROM consent WHERE consent_id = ?1");
  CLINSHUB_SQLITE_PREPARE(r->consents_, db,
                   std::string("SELECT ") + kConsentColumns +
                       " FROM consent WHERE person_key = ?1 ORDER BY granted DESC, consent_id");
  CLINSHUB_SQLITE_PREPARE(r->active_consent_, db,
                   "SELECT 1 FROM consent WHERE person_key = ?1 AND institution = ?2"
                   " AND revoked IS NULL AND granted <= ?3 AND expires > ?3 LIMIT 1");
  CLINSHUB_SQLITE_PREPARE(r->referral_, db,
                   std::string("SELECT ") + CLINSHUB_REFERRAL_COLUMNS("") +
                       " FROM referral_consent WHERE person_key = ?1 AND id_system = ?2"
                       " AND id_value = ?3 ORDER BY recipient");
  CLINSHUB_SQLITE_PREPARE(r->person_referrals_, db,
                   std::string("SELECT ") + CLINSHUB_REFERRAL_COLUMNS("") +
                       " FROM referral_consent WHERE person_key = ?1"
                       " ORDER BY id_system, id_value, recipient");
  CLINSHUB_SQLITE_PREPARE(r->inbox_, db,
                   std::string("SELECT ") + CLINSHUB_REFERRAL_COLUMNS("r.") + ", " +
                       CLINSHUB_UNIT_COLUMNS("u.") +
                       " FROM referral_consent r JOIN unit u ON u.person_key = r.person_key"
                       " AND u.id_system = r.id_system AND u.id_value = r.id_value"
                       " WHERE r.recipient = ?1 AND u.status = 1"
                       " ORDER BY r.updated DESC LIMIT ?2");
  CLINSHUB_SQLITE_PREPARE(r->audit_page_, db,
                   std::string("SELECT ") + kAuditColumns +
                       " FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2");
  return r;
}

Result<InstitutionRecord> RecordReader::ReadInstitution(const std::string& code) {
  Statement& s = *institution_;
  ScopedReset reset(s);
  s.BindText(1, code);
  Result<bool> row = s.Step();
  if (!row.ok()) return row.take_status();
  if (!*row) return NotFoundError("Institution " + code + " is not in the directory");
  return RowToInstitution(s);
}

Result<std::vector<InstitutionRecord>> RecordReader::SearchInstitutions(
    const InstitutionQuery& q) {
  // Built per query: the criteria vary, and the directory is small (~110k rows), so an ad-hoc
  // statement costs less than the scan it may do.
  std::string sql = std::string("SELECT ") + kInstitutionColumns + " FROM institution WHERE 1";
  std::vector<std::string> binds;
  auto add = [&](const std::string& clause, std::string value) {
    binds.push_back(std::move(value));
    std::string numbered = clause;
    const std::string marker = "?";
    size_t at = 0;
    while ((at = numbered.find(marker, at)) != std::string::npos) {
      std::string n = std::to_string(binds.size());
      numbered.replace(at, 1, "?" + n);
      at += 1 + n.size();
    }
    sql += " AND " + numbered;
  };
  if (!q.code.empty()) add("code = ?", q.code);
  if (!q.name_or_kana.empty()) {
    add("(name_norm LIKE ? ESCAPE '\\' OR kana_norm LIKE ? ESCAPE '\\')",
        LikePattern(q.name_or_kana, q.name_contains));
  }
  if (!q.kana.empty()) add("kana_norm LIKE ? ESCAPE '\\'", LikePattern(q.kana, false));
  if (!q.address.empty()) add("address_norm LIKE ? ESCAPE '\\'", LikePattern(q.address, true));
  if (!q.postcode.empty()) add("postcode_digits LIKE ?", LikePattern(q.postcode, false));
  if (!q.phone.empty()) add("phone_digits = ?", q.phone);
  if (q.active.has_value()) add("active = (? = 'yes')", *q.active ? "yes" : "no");
  sql += " ORDER BY code LIMIT " + std::to_string(q.limit) + " OFFSET " +
         std::to_string(q.offset);
  Result<std::unique_ptr<Statement>> stmt = db_.Prepare(sql);
  if (!stmt.ok()) return stmt.take_status();
  Statement& s = **stmt;
  for (size_t i = 0; i < binds.size(); ++i) s.BindText(static_cast<int>(i + 1), binds[i]);
  return Collect<InstitutionRecord>(s, RowToInstitution);
}

Result<RosterEntry> RecordReader::ResolveIdentifier(const std::string& system,
                                                    const std::string& value) {
  Statement& s = *roster_;
  ScopedReset reset(s);
  s.BindText(1, system);
  s.BindText(2, value);
  Result<bool> row = s.Step();
  if (!row.ok()) return row.take_status();
  if (!*row) return NotFoundError("The identifier is not in the eligibility roster");
  return RowToRoster(s);
}

Result<std::vector<RosterEntry>> RecordReader::ListRosterEntries(const std::string& person_key) {
  Statement& s = *roster_person_;
  ScopedReset reset(s);
  s.BindText(1, person_key);
  return Collect<RosterEntry>(s, RowToRoster);
}

Result<ConsentRecord> RecordReader::ReadConsent(const std::string& id) {
  Statement& s = *consent_;
  ScopedReset reset(s);
  s.BindText(1, id);
  Result<bool> row = s.Step();
  if (!row.ok()) return row.take_status();
  if (!*row) return NotFoundError("Consent/" + id + " not found");
  return RowToConsent(s);
}

Result<std::vector<ConsentRecord>> RecordReader::ListConsents(const std::string& person_key) {
  Statement& s = *consents_;
  ScopedReset reset(s);
  s.BindText(1, person_key);
  return Collect<ConsentRecord>(s, RowToConsent);
}

Result<bool> RecordReader::HasActiveConsent(const std::string& person_key,
                                            const std::string& institution, Timestamp at) {
  Statement& s = *active_consent_;
  ScopedReset reset(s);
  s.BindText(1, person_key);
  s.BindText(2, institution);
  s.BindInt64(3, ToMicros(at));
  return s.Step();
}

Result<std::vector<ReferralRecipient>> RecordReader::ListReferralRecipients(const UnitKey& unit) {
  Statement& s = *referral_;
  ScopedReset reset(s);
  s.BindText(1, unit.person_key);
  s.BindText(2, unit.system);
  s.BindText(3, unit.value);
  return Collect<ReferralRecipient>(s, RowToReferral);
}

Result<std::vector<ReferralRecipient>> RecordReader::ListReferralsOfPerson(
    const std::string& person_key) {
  Statement& s = *person_referrals_;
  ScopedReset reset(s);
  s.BindText(1, person_key);
  return Collect<ReferralRecipient>(s, RowToReferral);
}

Result<std::vector<InboxEntry>> RecordReader::ListInbox(const std::string& recipient,
                                                        size_t limit) {
  Statement& s = *inbox_;
  ScopedReset reset(s);
  s.BindText(1, recipient);
  s.BindInt64(2, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  return Collect<InboxEntry>(s, [](const Statement& row) {
    return InboxEntry{RowToReferral(row), RowToUnit(row, 8)};
  });
}

Result<std::vector<AuditEvent>> RecordReader::ListAudit(const AuditQuery& q) {
  std::string sql = std::string("SELECT ") + kAuditColumns + " FROM audit WHERE seq > ?1";
  if (!q.person_key.empty()) sql += " AND person_key = ?2";
  if (!q.actor.empty()) sql += " AND actor = ?3";
  if (q.from) sql += " AND time >= ?4";
  if (q.to) sql += " AND time < ?5";
  sql += " ORDER BY seq LIMIT ?6";
  Result<std::unique_ptr<Statement>> stmt = db_.Prepare(sql);
  if (!stmt.ok()) return stmt.take_status();
  Statement& s = **stmt;
  s.BindInt64(1, q.after_seq);
  if (!q.person_key.empty()) s.BindText(2, q.person_key);
  if (!q.actor.empty()) s.BindText(3, q.actor);
  if (q.from) s.BindInt64(4, ToMicros(*q.from));
  if (q.to) s.BindInt64(5, ToMicros(*q.to));
  s.BindInt64(6, static_cast<int64_t>(std::min<size_t>(q.limit, INT64_MAX)));
  return Collect<AuditEvent>(s, RowToAudit);
}

Result<AuditVerification> RecordReader::VerifyAudit() {
  AuditVerification v;
  std::string prev = kAuditGenesisHash;
  int64_t expected = 1;
  int64_t after = 0;
  constexpr int64_t kPage = 4096;
  while (v.intact) {
    Statement& s = *audit_page_;
    ScopedReset reset(s);
    s.BindInt64(1, after);
    s.BindInt64(2, kPage);
    Result<std::vector<AuditEvent>> page = Collect<AuditEvent>(s, RowToAudit);
    if (!page.ok()) return page.take_status();
    if (page->empty()) break;
    after = page->back().seq;
    VerifyAuditRun(*page, prev, expected, v);
  }
  return v;
}

}  // namespace clinshub::store::sqlite
