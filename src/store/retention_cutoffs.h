// The retention rules (records.h RetentionPolicy) as cutoff instants for one purge: a row whose
// reference instant is at or before its cutoff has expired. Every backend's purge uses these,
// so the arithmetic (LTS never shortening a period, 薬剤禁忌 following アレルギー, a
// 6-information unit's shortest item period) lives in one place; the contract is
// store_retention_test_suite.cc.
#pragma once

#include <cstdint>

#include "common/clock.h"
#include "store/records.h"

namespace clinshub::store {

// Instants are microseconds since the epoch, as both backends store them.
struct RetentionCutoffs {
  int64_t item[7] = {};      // by ItemKind 1..6 (index 0 unused)
  int64_t item_lts[7] = {};  // the same for LTS-flagged items
  int64_t unit_min_item = 0; // 6-information units: the shortest item period
  int64_t checkup = 0;
  int64_t discharge = 0;
  int64_t referral_retrieved = 0;
  int64_t referral_unretrieved = 0;
  int64_t superseded = 0;
  int64_t consent = 0;
};

// How much one purge transaction examines, so a purge never holds the writer for long.
struct PurgeWindows {
  int items = 5000;     // item rows examined per transaction
  int units = 500;      // units examined per transaction (each may own tens of rows)
  int consents = 5000;  // consent rows examined per transaction
};

RetentionCutoffs ComputeRetentionCutoffs(const RetentionPolicy& policy, Timestamp now);

}  // namespace clinshub::store
