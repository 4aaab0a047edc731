// Public-health records (docs/public-health.md): infectious-disease notifications (感染症発生届)
// filed through the hub, the outbox that delivers them to the surveillance endpoint, and the
// minister's export jobs. Plain values; the rules live in src/publichealth and src/access.
//
// Sharding (docs/scaling.md): notification rows hold patient data and lead with person_key.
// The outbox is keyed by notification id (one row per notification, no clinical content but
// the id) and export jobs by job id (no patient data at all); both are small operator tables.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "store/units.h"

namespace clinshub::store {

// ---- Notifications and their delivery --------------------------------------------------

// A validated 感染症発生届 as the reporting institution submitted it.
struct NotificationRecord {
  std::string person_key;
  std::string id;            // hub id; also the delivery's Idempotency-Key
  std::string institution;   // the reporting (diagnosing) institution
  std::string identifier;    // the submitter's Bundle.identifier.value
  std::string disease_code;  // notifiable-disease code (src/publichealth)
  std::string content_hash;  // SHA-256 hex of the submitted Bundle (idempotent resend)
  std::string bundle_json;   // the notification Bundle, compact JSON
  Timestamp submitted;       // set by the store on write
};

enum class DeliveryState : int {
  kQueued = 1,     // waiting for its next attempt (or being attempted)
  kDelivered = 2,  // the surveillance endpoint acknowledged it (2xx)
  kFailed = 3,     // dead letter: max attempts reached or a permanent refusal
};

// The outbox row of one notification.
struct DeliveryRecord {
  std::string notification_id;
  std::string person_key;
  std::string institution;
  DeliveryState state = DeliveryState::kQueued;
  int attempts = 0;           // attempts started (a crash mid-attempt still counts)
  Timestamp next_attempt;     // due when state is kQueued and next_attempt <= now
  std::string last_error;     // "" until an attempt failed
  Timestamp created;
  Timestamp updated;
  std::optional<Timestamp> delivered;
};

// Stores a notification and enqueues its delivery (state kQueued, due at the batch's instant)
// in the same transaction. kConflict if a notification with that id already exists.
struct PutNotification {
  NotificationRecord record;
};

// Records a delivery attempt's start or outcome. Applies only if the row's attempts still
// equal `if_attempts` (optimistic claim: two workers never run the same attempt); otherwise
// the batch fails with kPreconditionFailed. kNotFound if there is no such row.
struct UpdateDelivery {
  std::string notification_id;
  int if_attempts = 0;
  DeliveryState state = DeliveryState::kQueued;
  int attempts = 0;
  Timestamp next_attempt;
  std::string last_error;
  std::optional<Timestamp> delivered;
};

// ---- The minister's export -------------------------------------------------------------

enum class ExportState : int {
  kRequested = 1,  // waiting for a second operator's approval
  kApproved = 2,   // approved, queued for the export runner
  kRunning = 3,
  kCompleted = 4,  // files ready until `expires`
  kFailed = 5,
  kExpired = 6,    // files deleted
};

struct ExportJob {
  std::string id;
  std::string requester;      // operator name
  std::string approver;       // operator name, "" until approved
  ExportState state = ExportState::kRequested;
  std::string request_json;   // the request as accepted (purpose, kinds, period, cohort, ...)
  int progress = 0;           // percent, while running
  std::string manifest_json;  // outputs [{type, url, count}] once completed
  std::string error;          // when failed
  Timestamp created;
  Timestamp updated;          // set by the store on write
  std::optional<Timestamp> expires;  // completed: when the files are deleted
};

// Inserts (if_state empty: must not exist, else kConflict) or updates a job whose current
// state is *if_state (else kConflict naming the current state; kNotFound if missing).
struct PutExportJob {
  ExportJob job;
  std::optional<ExportState> if_state;
};

// The cross-person scan the export job uses to find its cohort (Store::ScanItems).
struct ItemScanQuery {
  std::vector<ItemKind> kinds;        // empty: every kind
  std::vector<std::string> codes;     // empty: every code
  std::optional<Timestamp> from;      // clinical date >= from (undated items never match)
  std::optional<Timestamp> to;        // clinical date < to
  std::string after_person;           // paging: persons > after_person
  size_t limit_persons = 100;         // at most this many distinct persons per page
};

}  // namespace clinshub::store
