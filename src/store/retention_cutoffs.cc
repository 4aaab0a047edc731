#include "store/retention_cutoffs.h"

#include <algorithm>
#include <chrono>

#include "clins/items.h"

namespace clinshub::store {
namespace {

int64_t Before(Timestamp now, std::chrono::hours period) {
  return std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() -
         std::chrono::duration_cast<std::chrono::microseconds>(period).count();
}

}  // namespace

RetentionCutoffs ComputeRetentionCutoffs(const RetentionPolicy& p, Timestamp now) {
  using clins::ItemKind;
  RetentionCutoffs c;
  std::chrono::hours period[7] = {};
  period[static_cast<int>(ItemKind::kCondition)] = p.conditions;
  period[static_cast<int>(ItemKind::kAllergy)] = p.allergies;
  period[static_cast<int>(ItemKind::kDrugContraindication)] = p.allergies;
  period[static_cast<int>(ItemKind::kLabResult)] = p.labs;
  period[static_cast<int>(ItemKind::kInfection)] = p.infections;
  period[static_cast<int>(ItemKind::kPrescription)] = p.prescriptions;
  std::chrono::hours shortest = period[1];
  for (int k = 1; k <= 6; ++k) {
    c.item[k] = Before(now, period[k]);
    // LTS (長期保存) keeps an item longer, never shorter than its kind's own period.
    c.item_lts[k] = Before(now, std::max(period[k], p.long_term));
    shortest = std::min(shortest, period[k]);
  }
  c.unit_min_item = Before(now, shortest);
  c.checkup = Before(now, p.checkups);
  c.discharge = Before(now, p.discharge_summaries);
  c.referral_retrieved = Before(now, p.referral_after_retrieval);
  c.referral_unretrieved = Before(now, p.referral_unretrieved);
  c.superseded = Before(now, p.superseded_versions);
  c.consent = Before(now, p.consents);
  return c;
}

}  // namespace clinshub::store
