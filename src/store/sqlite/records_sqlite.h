// SQLite statements for the hub's records (store/records.h): the directory, the roster,
// consents, referral recipients and the audit chain. Private to store/sqlite; the store owns
// one RecordWriter on its writer connection and one RecordReader per read connection.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "store/records.h"
#include "store/sqlite/sqlite_db.h"

namespace clinshub::store::sqlite {

class RecordWriter {
 public:
  static Result<std::unique_ptr<RecordWriter>> Prepare(Connection& db);

  Status Apply(const PutInstitution& op, Timestamp now);
  Status Apply(const PutRosterEntry& op);
  Status Apply(const PutConsent& op);
  Status Apply(const RevokeConsent& op);
  Status Apply(const SetReferralState& op, Timestamp now);
  // Assigns seq, prev_hash and hash (and time if unset) and inserts the event.
  Status Apply(AppendAudit& op, Timestamp now);

 private:
  std::unique_ptr<Statement> put_institution_, put_roster_, put_consent_, consent_id_taken_, select_consent_,
      revoke_consent_, select_referral_, upsert_referral_, audit_head_, insert_audit_;
};

class RecordReader {
 public:
  static Result<std::unique_ptr<RecordReader>> Prepare(Connection& db);

  Result<InstitutionRecord> ReadInstitution(const std::string& code);
  Result<std::vector<InstitutionRecord>> SearchInstitutions(const InstitutionQuery& q);
  Result<RosterEntry> ResolveIdentifier(const std::string& system, const std::string& value);
  Result<std::vector<RosterEntry>> ListRosterEntries(const std::string& person_key);
  Result<ConsentRecord> ReadConsent(const std::string& id);
  Result<std::vector<ConsentRecord>> ListConsents(const std::string& person_key);
  Result<bool> HasActiveConsent(const std::string& person_key, const std::string& institution,
                                Timestamp at);
  Result<std::vector<ReferralRecipient>> ListReferralRecipients(const UnitKey& unit);
  Result<std::vector<ReferralRecipient>> ListReferralsOfPerson(const std::string& person_key);
  Result<std::vector<InboxEntry>> ListInbox(const std::string& recipient, size_t limit);
  Result<std::vector<AuditEvent>> ListAudit(const AuditQuery& query);
  Result<AuditVerification> VerifyAudit();

 private:
  explicit RecordReader(Connection& db) : db_(db) {}
  Connection& db_;
  std::unique_ptr<Statement> institution_, roster_, roster_person_, consent_, consents_, active_consent_,
      referral_, person_referrals_, inbox_, audit_page_;
};

}  // namespace clinshub::store::sqlite
