// Reporting units (報告単位) and the per-person items extracted from them.
//
// A reporting unit is one submitted JP-CLINS bundle, keyed by (person, Bundle.identifier.system,
// Bundle.identifier.value). It is stored as a versioned Bundle resource (so read, vread and
// _history work on it like on any resource) plus one row per extracted clinical item, indexed
// by person so that a patient's summary is one indexed read, never a scan of bundles.
//
// Every table here carries person_key first: the schema shards by person (see docs/scaling.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "clins/items.h"
#include "fhir/value.h"

namespace clinshub::store {

// Identifies a reporting unit. `person_key` is the hub's person identity (until the roster
// lands: the normalised insurance identifier the bundle names).
struct UnitKey {
  std::string person_key;
  std::string system;
  std::string value;
  friend bool operator==(const UnitKey&, const UnitKey&) = default;
};

using clins::Item;
using clins::ItemKind;

// Lifecycle of a unit. Withdrawn units keep their history but have no current items.
enum class UnitStatus : int { kRegistered = 1, kWithdrawn = 2 };

// Register or replace a unit: the Bundle becomes the next version of the unit's Bundle
// resource and `items` replace all items of the previous version, in one transaction.
// Re-sending content with the same `content_hash` to a registered unit changes nothing
// (idempotent; the existing version is reported back).
struct PutUnit {
  UnitKey key;
  std::string institution;  // 10-digit sender; only it may replace or withdraw the unit
  std::string kind;         // "Condition", "AllergyIntolerance", "Observation", "eReferral", …
  std::string addressee;    // referral letters: the 10-digit addressee institution, else ""
  std::string content_hash; // SHA-256 hex of the submitted content (idempotency)
  fhir::Value bundle;       // the submitted Bundle (its id is set by the store)
  std::vector<Item> items;
};

// Withdraw (DELETE / 取消) a unit: its Bundle gets a deleted version and its items are removed.
// kNotFound if the unit does not exist, kForbidden if `institution` is not the sender,
// kGone if already withdrawn.
struct WithdrawUnit {
  UnitKey key;
  std::string institution;
};

// The stored state of a unit.
struct UnitRecord {
  UnitKey key;
  std::string bundle_id;  // logical id of the unit's Bundle resource
  int64_t version = 0;    // current Bundle version
  UnitStatus status = UnitStatus::kRegistered;
  std::string institution;
  std::string kind;
  std::string addressee;
  std::string content_hash;
  Timestamp first_registered;
  Timestamp last_changed;
};

// One stored item as read back.
struct StoredItem {
  std::string person_key;
  std::string bundle_id;
  int64_t bundle_version = 0;
  int ordinal = 0;  // position within the unit
  Item item;
  std::string institution;
  Timestamp registered;  // when the unit version holding it was committed
};

}  // namespace clinshub::store
