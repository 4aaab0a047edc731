// The hub's own records beside the clinical data: the institution directory, the eligibility
// roster, consents, referral-letter consent states and the audit trail. Plain values; the
// rules that use them live in src/access, the tables in each backend.
//
// Sharding (docs/scaling.md): consent, referral_consent and audit rows carry person_key first
// and are distributed with the person's clinical rows. The directory and the roster are the
// cross-person lookup tables by design (an institution code; an insurance identifier → person).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "store/units.h"

namespace clinshub::store {

// ---- Institution directory -------------------------------------------------------------

struct InstitutionRecord {
  std::string code;  // 10-digit 保険医療機関番号
  std::string name;
  std::string kana;
  std::string address;
  std::string postcode;  // "123-4567"
  std::string phone;
  std::string kind;  // "hospital" | "clinic" | "checkup"
  bool emergency_permitted = false;
  bool active = true;
  Timestamp updated;  // set by the store on write
};

// Insert or replace the directory entry for record.code.
struct PutInstitution {
  InstitutionRecord record;
};

// Directory search. Text criteria are compared in NormaliseForSearch form (NFKC, katakana →
// hiragana, width and case folded) by the caller; empty criteria do not filter. All given
// criteria must match (AND).
struct InstitutionQuery {
  std::string code;            // exact
  std::string name_or_kana;    // normalised; prefix of the normalised name or kana
  bool name_contains = false;  // substring instead of prefix
  std::string kana;            // normalised; prefix of the normalised kana
  std::string address;         // normalised; substring of the normalised address
  std::string postcode;        // digits only; prefix
  std::string phone;           // digits only; exact
  std::optional<bool> active;
  size_t limit = 50;
  size_t offset = 0;
};

// ---- Eligibility roster ----------------------------------------------------------------

// One insurance (or public-payer) identifier a person has held. Identifiers are stored in
// normalised form (NormaliseIdentifier); valid_to is empty while the identifier is current.
struct RosterEntry {
  std::string system;
  std::string value_normalised;
  std::string person_key;
  std::string valid_from;  // yyyy-mm-dd (Japan date)
  std::string valid_to;    // yyyy-mm-dd inclusive, "" while current
};

// Insert or replace the entry for (system, value_normalised). Moving an identifier to another
// person is allowed (the roster feed corrects mistakes); clinical rows stay with their person.
struct PutRosterEntry {
  RosterEntry entry;
};

// ---- Consent ---------------------------------------------------------------------------

// A patient's card-reader consent letting one institution read their data until `expires`.
struct ConsentRecord {
  std::string id;
  std::string person_key;
  std::string institution;
  std::string method;  // "card-reader" | "portal"
  Timestamp granted;
  Timestamp expires;
  std::optional<Timestamp> revoked;
};

struct PutConsent {
  ConsentRecord record;
};

// Revokes a consent (kNotFound if the person has no consent with that id). Revoking a revoked
// consent is a no-op.
struct RevokeConsent {
  std::string person_key;
  std::string id;
  Timestamp at;
};

// Per-letter, per-recipient consent state of a referral letter (診療情報提供書).
enum class ReferralState : int {
  kNone = 0,       // no row: the institution is not a recipient
  kPending = 1,    // 閲覧保留
  kViewable = 2,   // 閲覧可
  kRetrieved = 3,  // 取得済
};

struct ReferralRecipient {
  UnitKey unit;
  std::string recipient;  // 10-digit institution code
  ReferralState state = ReferralState::kPending;
  std::string set_by;  // "sender" | "patient" | "card-reader" | "retrieval"
  Timestamp updated;
  std::optional<Timestamp> retrieved;
};

// Moves (unit, recipient) to `state` if its current state is one of `allowed_from` (kNone: the
// row does not exist yet); otherwise, if `strict`, the batch fails with kConflict naming the
// current state, and if not, the op changes nothing. If the current state already equals
// `state` the op succeeds without writing. The transition rules are src/access's; the store
// only applies them atomically.
struct SetReferralState {
  UnitKey unit;
  std::string recipient;
  ReferralState state = ReferralState::kPending;
  std::vector<ReferralState> allowed_from;
  std::string set_by;
  bool strict = true;
};

// A letter in an institution's inbox: the recipient row and its unit.
struct InboxEntry {
  ReferralRecipient recipient;
  UnitRecord unit;
};

// ---- Audit -----------------------------------------------------------------------------

// One audited event. No clinical content: items are named by reference ("bundle_id/ordinal"),
// never by code or text. The store assigns seq, prev_hash and hash in the transaction that
// writes the event, chaining each record to the previous one (AuditHash in store/audit.h).
struct AuditEvent {
  int64_t seq = 0;
  Timestamp time;
  std::string actor_kind;   // "institution" | "patient" | "operator" | "system"
  std::string actor;        // institution code, "portal", operator name, "retention"
  std::string purpose;      // "TREAT" | "ETREAT" | "PATRQT" | "HOPERAT" | "PUBHLTH"
  std::string action;       // "read" | "search" | "summary" | "submit" | "withdraw" | ...
  std::string person_key;   // "" when the event concerns no single person
  std::string target;       // "Bundle/abc", "Patient/$summary", "Consent/xyz", ...
  std::vector<std::string> items;  // item references read or written
  std::vector<std::string> patient_hidden_items;  // subset the patient must not be shown
  std::string outcome;      // "permit" | "deny" | "error"
  int http_status = 0;
  std::string rule;         // the access rule that decided (docs/security.md)
  std::string reason;       // the decision's explanation, or the stated emergency reason
  std::string prev_hash;
  std::string hash;
};

// Appends one event (seq/prev_hash/hash assigned by the store; time taken from the event if
// set, else the batch's instant).
struct AppendAudit {
  AuditEvent event;
};

struct AuditQuery {
  std::string person_key;  // "" = any
  std::string actor;       // "" = any
  std::optional<Timestamp> from;  // inclusive
  std::optional<Timestamp> to;    // exclusive
  int64_t after_seq = 0;          // paging: only events with seq > after_seq
  size_t limit = 100;
};

// Result of walking the whole chain.
struct AuditVerification {
  int64_t records = 0;
  bool intact = true;
  int64_t first_bad_seq = 0;  // when !intact: the first record whose hash or link is wrong
  std::string problem;
};

// ---- Retention -------------------------------------------------------------------------

// How long data is kept (SERVICE.md "Retention"); every period counts from registration (the
// commit time of the unit version holding the item) unless said otherwise.
struct RetentionPolicy {
  std::chrono::hours conditions{24 * 365 * 5};        // 傷病名
  std::chrono::hours infections{24 * 365 * 5};        // 感染症
  std::chrono::hours allergies{24 * 365 * 5};         // アレルギー and 薬剤禁忌
  std::chrono::hours long_term{24 * 365 * 10};        // items flagged LTS (長期保存)
  std::chrono::hours labs{24 * 365};                  // 検査
  std::chrono::hours prescriptions{24 * 100};         // 処方
  std::chrono::hours checkups{24 * 365 * 5};          // 健康診断結果報告書 units
  std::chrono::hours discharge_summaries{24 * 365 * 5};
  std::chrono::hours referral_after_retrieval{24 * 7};   // buffer after 取得済
  std::chrono::hours referral_unretrieved{24 * 365};      // letters never retrieved
  std::chrono::hours superseded_versions{24 * 30};    // replaced / withdrawn Bundle versions
  std::chrono::hours consents{24 * 365};              // expired or revoked consent records
};

// What a purge removed (or, dry run, would remove). Counts only: purges are audited without
// content.
struct PurgeReport {
  int64_t items = 0;              // item rows
  int64_t units = 0;              // units removed with all their Bundle versions
  int64_t bundle_versions = 0;    // resource_version rows (superseded or of removed units)
  int64_t referral_recipients = 0;
  int64_t consents = 0;
  int64_t persons = 0;            // distinct persons touched
};

}  // namespace clinshub::store
