// The Store: durable, versioned storage of FHIR resources.
//
// Contract
// - Resource versions are immutable. Every write of a resource creates version N+1 (starting at
//   1); the store assigns meta.versionId and meta.lastUpdated (from the injected Clock) inside
//   the transaction and stores the stamped JSON. Deletes create a version marked deleted.
// - Commit() is atomic: every operation of a WriteBatch is applied, or none is. A failed
//   precondition fails the whole batch and changes nothing.
// - Commit() returns only once the batch is durable (it survives kill -9 of the server).
//   Concurrent commits from many threads share one fsync (group commit).
// - All methods are thread-safe. Reads see the latest committed state.
// - Preconditions: if_version N succeeds only if the current version is N and is not a delete;
//   if_version 0 (create-only) succeeds only if the resource has no version at all (a deleted
//   resource keeps its id and history, so it is recreated by an unconditional put).
//   Deleting an already deleted resource succeeds without writing a version (FHIR: idempotent).
// - Reporting units (units.h): PutUnit / WithdrawUnit ops write the unit's Bundle resource
//   (ordinary versions: Read, ReadVersion and History serve it), the unit row and its items in
//   the batch's transaction, so a replace leaves either the old or the new unit, never a mix.
//   Unit errors fail the batch like a failed precondition: kForbidden (another institution
//   replaces or withdraws), kNotFound / kGone (withdrawing a missing / withdrawn unit).
// - meta.lastUpdated never goes backwards for a resource, even if the clock does.
// - Errors: kNotFound (never existed), kGone (latest version is a delete), kPreconditionFailed
//   (If-Match / If-None-Exist failed), kUnavailable (database unreachable or busy beyond the
//   timeout; the caller may retry), kInternal (a bug or corrupted store).
// - No SQL or driver type ever appears in this interface.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "fhir/value.h"
#include "store/public_health.h"
#include "store/records.h"
#include "store/units.h"

namespace clinshub::store {

// One stored version of a resource, as served.
struct ResourceVersion {
  std::string type;
  std::string id;
  int64_t version = 0;
  Timestamp last_updated;
  bool deleted = false;
  // Compact JSON with meta.versionId / meta.lastUpdated stamped; empty for a delete.
  std::string json;
};

// Create or update `resource` (its resourceType and id name it; id must be set).
struct PutResource {
  fhir::Value resource;
  // Optimistic locking: the write happens only if the current version is this one
  // (If-Match). 0 means "must not exist yet" (create-only).
  std::optional<int64_t> if_version;
};

// Mark a resource deleted (a new, deleted version). Deleting a missing resource is kNotFound.
struct DeleteResource {
  std::string type;
  std::string id;
  std::optional<int64_t> if_version;
};

// Resource and unit ops (above, units.h) and the hub's own records (records.h). One batch may
// mix them: a submission, its referral recipient row and its audit event commit together.
using WriteOp = std::variant<PutResource, DeleteResource, PutUnit, WithdrawUnit, PutInstitution,
                             PutRosterEntry, PutConsent, RevokeConsent, SetReferralState,
                             AppendAudit, PutNotification, UpdateDelivery, PutExportJob>;

// The public-health ops (public_health.h), for backends that dispatch on op kind.
template <class Op>
inline constexpr bool kIsPublicHealthOp =
    std::is_same_v<Op, PutNotification> || std::is_same_v<Op, UpdateDelivery> ||
    std::is_same_v<Op, PutExportJob>;

struct WriteBatch {
  std::vector<WriteOp> ops;
};

// What a PutUnit / WithdrawUnit op did to its unit.
enum class UnitOutcome : int {
  kCreated = 1,    // new unit: Bundle version 1
  kReplaced = 2,   // next Bundle version, items swapped (also re-registering a withdrawn unit)
  kUnchanged = 3,  // identical resend (same content_hash) of a registered unit: nothing written
  kWithdrawn = 4,  // Bundle got a deleted version, items removed
};

// What a committed batch wrote, one entry per op, in op order (json omitted; ops on the hub's
// records (records.h) get an empty entry, type ""). Deleting an
// already deleted resource writes nothing and reports the existing deleted version. A unit op
// reports its Bundle's version (type "Bundle"); kUnchanged reports the current version.
struct CommitResult {
  std::vector<ResourceVersion> written;
  // One entry per PutUnit / WithdrawUnit op, in op order (resource ops have none), so a batch
  // of one unit op has written[0] and unit_outcomes[0].
  std::vector<UnitOutcome> unit_outcomes;
};

// Counters for operators (/metrics) and for tests that prove group commit groups.
struct StoreStats {
  uint64_t batches_committed = 0;  // Commit() calls that succeeded
  uint64_t batches_failed = 0;     // Commit() calls that returned an error
  uint64_t transactions = 0;       // transactions that carried them
  uint64_t syncs = 0;              // fsyncs that made those transactions durable (0: the
                                   // backend does not count them separately)
  uint64_t pages_written = 0;      // database pages the commits wrote to the log (SQLite: WAL
                                   // frames), for write amplification; 0 if not counted
};

// A span of one thread's reads that share one connection and one snapshot (SQLite: one read
// transaction instead of one per call, one connection lease instead of one per call). Reads on
// that thread inside it see the store as of its first read: a write committed meanwhile, even
// by this thread, is not seen. So a handler opens one only around the reads that come before
// its writes. Closing it (destroying it) ends the snapshot.
class ReadSession {
 public:
  virtual ~ReadSession() = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // Opens a read session on the calling thread, or returns null where the backend gains nothing
  // from one (its reads then run as usual) or one is already open on this thread.
  virtual std::unique_ptr<ReadSession> OpenReadSession() { return nullptr; }

  // Latest version. kNotFound if it never existed, kGone if the latest version is a delete
  // (the returned status carries no content).
  virtual Result<ResourceVersion> Read(const std::string& type, const std::string& id) = 0;

  // A specific version (including deleted ones, which have empty json).
  virtual Result<ResourceVersion> ReadVersion(const std::string& type, const std::string& id,
                                              int64_t version) = 0;

  // All versions, newest first, at most `limit`. kNotFound if the resource never existed.
  virtual Result<std::vector<ResourceVersion>> History(const std::string& type,
                                                       const std::string& id,
                                                       size_t limit) = 0;

  // Applies the batch atomically and durably; see the contract above.
  virtual Result<CommitResult> Commit(WriteBatch batch) = 0;

  // Reporting units. Backends (and test doubles) without them answer kInternal: calling them
  // there is a wiring bug, not a client error.
  //
  // The unit's current state; withdrawn units are returned with status kWithdrawn.
  // kNotFound if the key was never registered.
  virtual Result<UnitRecord> ReadUnit(const UnitKey& key);

  // Every unit (any person, any status) whose Bundle.identifier is system|value; empty if none.
  // Used where the caller knows the identifier but not the person (DELETE /Bundle?identifier=).
  virtual Result<std::vector<UnitRecord>> FindUnits(const std::string& system,
                                                    const std::string& value);

  // The unit whose Bundle has logical id `bundle_id` (any status); kNotFound if none.
  virtual Result<UnitRecord> FindUnitByBundleId(const std::string& bundle_id);

  // Every unit of the person (any status), newest change first.
  virtual Result<std::vector<UnitRecord>> ListUnits(const std::string& person_key);

  // Retention: deletes for real (rows and index entries, never merely hidden) everything the
  // policy says has expired at `now`: items past their period, units whose every item expired
  // (or, for units without items, whose own period passed) with all their Bundle versions and
  // recipient rows, superseded Bundle versions past their buffer, old consents. Runs as one or
  // more ordinary write transactions (concurrent commits keep working); `dry_run` counts
  // without deleting. Audit records are never purged here.
  virtual Result<PurgeReport> Purge(const RetentionPolicy& policy, Timestamp now, bool dry_run);

  // The person's current items (those of registered units), ordered by kind, then clinical
  // date newest first (undated last), then unit and position. Empty if the person has none.
  virtual Result<std::vector<StoredItem>> ListItems(const std::string& person_key);

  // A number that moves on whenever the person's current items change (a unit registered,
  // replaced or withdrawn, items purged), committed in the same transaction as the change and
  // seen by every process sharing the store; it never moves otherwise (an identical resend
  // does not move it). 0 if the person's items never changed. Readers keep what they derived
  // from ListItems while it stays (api/item_cache.h).
  virtual Result<int64_t> ItemsGeneration(const std::string& person_key);

  // ---- The hub's records (records.h). Defaults answer kInternal, as for units. ----

  // kNotFound if the code is not in the directory.
  virtual Result<InstitutionRecord> ReadInstitution(const std::string& code);
  // Ordered by code. See InstitutionQuery for matching.
  virtual Result<std::vector<InstitutionRecord>> SearchInstitutions(const InstitutionQuery& q);

  // The roster entry of a normalised identifier; kNotFound if the roster does not know it.
  virtual Result<RosterEntry> ResolveIdentifier(const std::string& system,
                                                const std::string& value_normalised);
  // Every identifier the person has held, oldest valid_from first.
  virtual Result<std::vector<RosterEntry>> ListRosterEntries(const std::string& person_key);

  // kNotFound if no consent has that id.
  virtual Result<ConsentRecord> ReadConsent(const std::string& id);
  // The person's consents (any state), newest grant first.
  virtual Result<std::vector<ConsentRecord>> ListConsents(const std::string& person_key);
  // Whether `institution` holds a consent of the person that was granted at or before `at`,
  // expires after it and was never revoked: the question every consented read asks. Backends
  // answer it from the person's index range without building records; the default asks
  // ListConsents.
  virtual Result<bool> HasActiveConsent(const std::string& person_key,
                                        const std::string& institution, Timestamp at);

  // The recipients of one referral letter (any state), by recipient code.
  virtual Result<std::vector<ReferralRecipient>> ListReferralRecipients(const UnitKey& unit);
  // Every recipient row of the person's letters (any state), by letter then recipient.
  virtual Result<std::vector<ReferralRecipient>> ListReferralsOfPerson(
      const std::string& person_key);
  // Letters for which `recipient` has a recipient row, newest change first (any person).
  virtual Result<std::vector<InboxEntry>> ListInbox(const std::string& recipient, size_t limit);

  // Audit events matching the query, oldest first (seq order).
  virtual Result<std::vector<AuditEvent>> ListAudit(const AuditQuery& query);
  // Walks the whole chain, recomputing every hash (store/audit.h).
  virtual Result<AuditVerification> VerifyAudit();

  // ---- Public health (public_health.h). Defaults answer kInternal, as for units. ----

  // kNotFound if no notification has that id.
  virtual Result<NotificationRecord> ReadNotification(const std::string& id);
  // The outbox row of a notification; kNotFound if none.
  virtual Result<DeliveryRecord> ReadDelivery(const std::string& notification_id);
  // Queued deliveries due at `now` (next_attempt <= now), earliest first, at most `limit`.
  virtual Result<std::vector<DeliveryRecord>> ListDueDeliveries(Timestamp now, size_t limit);
  // kNotFound if no job has that id.
  virtual Result<ExportJob> ReadExportJob(const std::string& id);
  // Jobs in `state`, oldest first, at most `limit`.
  virtual Result<std::vector<ExportJob>> ListExportJobs(ExportState state, size_t limit);
  // THE ONLY CROSS-PERSON CLINICAL READ. The distinct persons (ascending, after
  // q.after_person, at most q.limit_persons) having a current item matching the query.
  // Reachable only from the minister's export job (src/publichealth/export_job.cc), which
  // runs only after two operators requested and approved it; no API handler calls it.
  // A scan, not an index probe: exports are rare and ingest pays nothing for them.
  virtual Result<std::vector<std::string>> ScanCohort(const ItemScanQuery& q);

  // Cheap liveness check of the backend (used by /healthz).
  virtual Status Ping() = 0;

  // Verifies the stored files are consistent (after a crash, before serving). kInternal with
  // the backend's findings if not. May take long on a large store: not for /healthz.
  // Backends (and test doubles) without a deeper check fall back to Ping().
  virtual Status CheckIntegrity() { return Ping(); }

  // Monotonic counters since open. Thread-safe; zeros for backends that do not count.
  virtual StoreStats Stats() const { return {}; }
};

inline Result<UnitRecord> Store::ReadUnit(const UnitKey&) {
  return InternalError("this store does not keep reporting units");
}
inline Result<std::vector<UnitRecord>> Store::FindUnits(const std::string&, const std::string&) {
  return InternalError("this store does not keep reporting units");
}
inline Result<UnitRecord> Store::FindUnitByBundleId(const std::string&) {
  return InternalError("this store does not keep reporting units");
}
inline Result<std::vector<UnitRecord>> Store::ListUnits(const std::string&) {
  return InternalError("this store does not keep reporting units");
}
inline Result<PurgeReport> Store::Purge(const RetentionPolicy&, Timestamp, bool) {
  return InternalError("this store does not purge");
}
inline Result<std::vector<StoredItem>> Store::ListItems(const std::string&) {
  return InternalError("this store does not keep reporting units");
}
inline Result<int64_t> Store::ItemsGeneration(const std::string&) {
  return InternalError("this store does not keep reporting units");
}
inline Result<InstitutionRecord> Store::ReadInstitution(const std::string&) {
  return InternalError("this store does not keep the institution directory");
}
inline Result<std::vector<InstitutionRecord>> Store::SearchInstitutions(const InstitutionQuery&) {
  return InternalError("this store does not keep the institution directory");
}
inline Result<RosterEntry> Store::ResolveIdentifier(const std::string&, const std::string&) {
  return InternalError("this store does not keep the roster");
}
inline Result<std::vector<RosterEntry>> Store::ListRosterEntries(const std::string&) {
  return InternalError("this store does not keep the roster");
}
inline Result<ConsentRecord> Store::ReadConsent(const std::string&) {
  return InternalError("this store does not keep consents");
}
inline Result<std::vector<ConsentRecord>> Store::ListConsents(const std::string&) {
  return InternalError("this store does not keep consents");
}
inline Result<bool> Store::HasActiveConsent(const std::string& person_key,
                                            const std::string& institution, Timestamp at) {
  Result<std::vector<ConsentRecord>> consents = ListConsents(person_key);
  if (!consents.ok()) return consents.take_status();
  for (const ConsentRecord& c : *consents) {
    if (c.institution == institution && !c.revoked && c.granted <= at && at < c.expires) {
      return true;
    }
  }
  return false;
}
inline Result<std::vector<ReferralRecipient>> Store::ListReferralRecipients(const UnitKey&) {
  return InternalError("this store does not keep referral consents");
}
inline Result<std::vector<ReferralRecipient>> Store::ListReferralsOfPerson(const std::string&) {
  return InternalError("this store does not keep referral consents");
}
inline Result<std::vector<InboxEntry>> Store::ListInbox(const std::string&, size_t) {
  return InternalError("this store does not keep referral consents");
}
inline Result<std::vector<AuditEvent>> Store::ListAudit(const AuditQuery&) {
  return InternalError("this store does not keep an audit trail");
}
inline Result<AuditVerification> Store::VerifyAudit() {
  return InternalError("this store does not keep an audit trail");
}

inline Result<NotificationRecord> Store::ReadNotification(const std::string&) {
  return InternalError("this store does not keep notifications");
}
inline Result<DeliveryRecord> Store::ReadDelivery(const std::string&) {
  return InternalError("this store does not keep notifications");
}
inline Result<std::vector<DeliveryRecord>> Store::ListDueDeliveries(Timestamp, size_t) {
  return InternalError("this store does not keep notifications");
}
inline Result<ExportJob> Store::ReadExportJob(const std::string&) {
  return InternalError("this store does not keep export jobs");
}
inline Result<std::vector<ExportJob>> Store::ListExportJobs(ExportState, size_t) {
  return InternalError("this store does not keep export jobs");
}
inline Result<std::vector<std::string>> Store::ScanCohort(const ItemScanQuery&) {
  return InternalError("this store does not scan items");
}

}  // namespace clinshub::store
