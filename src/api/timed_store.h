// A Store decorator that times Commit() into Metrics, so every handler's durable writes are
// measured without each handler remembering to. Thread-safe as the wrapped Store is.
#pragma once

#include "api/metrics.h"
#include "store/store.h"

namespace clinshub::api {

class TimedStore final : public store::Store {
 public:
  // Borrows both; they must outlive this object.
  TimedStore(store::Store& inner, Metrics& metrics) : inner_(inner), metrics_(metrics) {}

  Result<store::ResourceVersion> Read(const std::string& type, const std::string& id) override {
    return inner_.Read(type, id);
  }
  Result<store::ResourceVersion> ReadVersion(const std::string& type, const std::string& id,
                                             int64_t version) override {
    return inner_.ReadVersion(type, id, version);
  }
  Result<std::vector<store::ResourceVersion>> History(const std::string& type,
                                                      const std::string& id,
                                                      size_t limit) override {
    return inner_.History(type, id, limit);
  }
  Result<store::CommitResult> Commit(store::WriteBatch batch) override;
  std::unique_ptr<store::ReadSession> OpenReadSession() override {
    return inner_.OpenReadSession();
  }
  Result<store::UnitRecord> ReadUnit(const store::UnitKey& key) override {
    return inner_.ReadUnit(key);
  }
  Result<std::vector<store::UnitRecord>> FindUnits(const std::string& system,
                                                   const std::string& value) override {
    return inner_.FindUnits(system, value);
  }
  Result<std::vector<store::StoredItem>> ListItems(const std::string& person_key) override {
    return inner_.ListItems(person_key);
  }
  Result<int64_t> ItemsGeneration(const std::string& person_key) override {
    return inner_.ItemsGeneration(person_key);
  }
  Result<std::vector<store::UnitRecord>> ListUnits(const std::string& person_key) override {
    return inner_.ListUnits(person_key);
  }
  Result<store::PurgeReport> Purge(const store::RetentionPolicy& policy, Timestamp now,
                                   bool dry_run) override {
    return inner_.Purge(policy, now, dry_run);
  }
  Result<store::UnitRecord> FindUnitByBundleId(const std::string& bundle_id) override {
    return inner_.FindUnitByBundleId(bundle_id);
  }
  Result<store::InstitutionRecord> ReadInstitution(const std::string& code) override {
    return inner_.ReadInstitution(code);
  }
  Result<std::vector<store::InstitutionRecord>> SearchInstitutions(
      const store::InstitutionQuery& q) override {
    return inner_.SearchInstitutions(q);
  }
  Result<store::RosterEntry> ResolveIdentifier(const std::string& system,
                                               const std::string& value_normalised) override {
    return inner_.ResolveIdentifier(system, value_normalised);
  }
  Result<std::vector<store::RosterEntry>> ListRosterEntries(
      const std::string& person_key) override {
    return inner_.ListRosterEntries(person_key);
  }
  Result<store::ConsentRecord> ReadConsent(const std::string& id) override {
    return inner_.ReadConsent(id);
  }
  Result<std::vector<store::ConsentRecord>> ListConsents(const std::string& person_key) override {
    return inner_.ListConsents(person_key);
  }
  Result<bool> HasActiveConsent(const std::string& person_key, const std::string& institution,
                                Timestamp at) override {
    return inner_.HasActiveConsent(person_key, institution, at);
  }
  Result<std::vector<store::ReferralRecipient>> ListReferralRecipients(
      const store::UnitKey& unit) override {
    return inner_.ListReferralRecipients(unit);
  }
  Result<std::vector<store::ReferralRecipient>> ListReferralsOfPerson(
      const std::string& person_key) override {
    return inner_.ListReferralsOfPerson(person_key);
  }
  Result<std::vector<store::InboxEntry>> ListInbox(const std::string& recipient,
                                                   size_t limit) override {
    return inner_.ListInbox(recipient, limit);
  }
  Result<std::vector<store::AuditEvent>> ListAudit(const store::AuditQuery& query) override {
    return inner_.ListAudit(query);
  }
  Result<store::AuditVerification> VerifyAudit() override { return inner_.VerifyAudit(); }
  Result<store::NotificationRecord> ReadNotification(const std::string& id) override {
    return inner_.ReadNotification(id);
  }
  Result<store::DeliveryRecord> ReadDelivery(const std::string& notification_id) override {
    return inner_.ReadDelivery(notification_id);
  }
  Result<std::vector<store::DeliveryRecord>> ListDueDeliveries(Timestamp now,
                                                               size_t limit) override {
    return inner_.ListDueDeliveries(now, limit);
  }
  Result<store::ExportJob> ReadExportJob(const std::string& id) override {
    return inner_.ReadExportJob(id);
  }
  Result<std::vector<store::ExportJob>> ListExportJobs(store::ExportState state,
                                                       size_t limit) override {
    return inner_.ListExportJobs(state, limit);
  }
  Result<std::vector<std::string>> ScanCohort(const store::ItemScanQuery& q) override {
    return inner_.ScanCohort(q);
  }
  Status Ping() override { return inner_.Ping(); }
  Status CheckIntegrity() override { return inner_.CheckIntegrity(); }
  store::StoreStats Stats() const override { return inner_.Stats(); }

 private:
  store::Store& inner_;
  Metrics& metrics_;
};

}  // namespace clinshub::api
