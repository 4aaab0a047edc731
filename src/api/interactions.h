// The FHIR interactions and operational endpoints, one .cc file each. Every function is a
// Handler body: parse, call the store, shape the response; errors come back as Status and are
// rendered by error_response.cc. All are thread-safe given a thread-safe Store.
#pragma once

#include "api/api_config.h"
#include "api/http_types.h"
#include "api/item_cache.h"
#include "api/metrics.h"
#include "api/page_cache.h"
#include "api/router.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"
#include "store/store.h"

namespace clinshub::api {

// Everything a handler may use, borrowed from the Api that owns the wiring.
struct InteractionContext {
  store::Store& store;
  const Clock& clock;
  IdGenerator& ids;
  Metrics& metrics;
  const ApiConfig& config;
  const Router& router;
  PageCache& page_cache;  // search snapshots for stable paging (search.cc)
  ItemCache& item_cache;  // persons' current items, rendered for $summary (summary.cc)
};

Result<Response> Capabilities(const InteractionContext& ctx, const Request& request);
Result<Response> ReadResource(const InteractionContext& ctx, const Request& request);
Result<Response> VreadResource(const InteractionContext& ctx, const Request& request);
Result<Response> HistoryInstance(const InteractionContext& ctx, const Request& request);
Result<Response> UpdateResource(const InteractionContext& ctx, const Request& request);
Result<Response> CreateResource(const InteractionContext& ctx, const Request& request);
Result<Response> DeleteResource(const InteractionContext& ctx, const Request& request);
// JP-CLINS reporting units on /Bundle.
Result<Response> SubmitBundle(const InteractionContext& ctx, const Request& request);
Result<Response> WithdrawBundle(const InteractionContext& ctx, const Request& request);
Result<Response> RestoreBundle(const InteractionContext& ctx, const Request& request);
Result<Response> BundleStatus(const InteractionContext& ctx, const Request& request);
// Institution directory (directory.cc) and eligibility roster (roster_load.cc).
Result<Response> SearchOrganizations(const InteractionContext& ctx, const Request& request);
Result<Response> ReadOrganization(const InteractionContext& ctx, const Request& request);
Result<Response> PutOrganization(const InteractionContext& ctx, const Request& request);
Result<Response> LoadDirectory(const InteractionContext& ctx, const Request& request);
Result<Response> LoadRoster(const InteractionContext& ctx, const Request& request);
// Consent (consent.cc), referral letters (referral.cc), the patient summary (summary.cc) and
// the audit trail (audit_events.cc).
Result<Response> CreateConsent(const InteractionContext& ctx, const Request& request);
Result<Response> ReadConsent(const InteractionContext& ctx, const Request& request);
Result<Response> RevokeConsent(const InteractionContext& ctx, const Request& request);
Result<Response> SearchConsents(const InteractionContext& ctx, const Request& request);
Result<Response> ReferralInbox(const InteractionContext& ctx, const Request& request);
Result<Response> ReferralConsent(const InteractionContext& ctx, const Request& request);
Result<Response> PatientSummary(const InteractionContext& ctx, const Request& request);
// A person's item as a Bundle.entry of $summary and the FHIR searches: its resource as
// submitted, its source institution and registration time, and, if `mark_uninformed`, the
// 未告知 mark. *json_at (if given) is where the item's resource JSON starts in it.
std::string RenderItemEntry(const store::StoredItem& item, bool mark_uninformed,
                            size_t* json_at = nullptr);
// The $summary entry (what ItemCache keeps): marked 未告知 when the item is.
std::string RenderSummaryEntry(const store::StoredItem& item, size_t* json_at);
Result<Response> SearchAuditEvents(const InteractionContext& ctx, const Request& request);
// FHIR search on Condition, AllergyIntolerance, Observation, MedicationRequest for one patient
// (search.cc) and a patient's documents (documents.cc).
Result<Response> SearchClinical(const InteractionContext& ctx, const Request& request);
Result<Response> SearchDocuments(const InteractionContext& ctx, const Request& request);
// Public health: 感染症発生届 (notification.cc) and the minister's export (export.cc).
Result<Response> NotificationDraft(const InteractionContext& ctx, const Request& request);
Result<Response> SubmitNotification(const InteractionContext& ctx, const Request& request);
Result<Response> NotificationStatus(const InteractionContext& ctx, const Request& request);
Result<Response> RequestExport(const InteractionContext& ctx, const Request& request);
Result<Response> ApproveExport(const InteractionContext& ctx, const Request& request);
Result<Response> ExportStatus(const InteractionContext& ctx, const Request& request);
Result<Response> ExportFile(const InteractionContext& ctx, const Request& request);
Result<Response> Healthz(const InteractionContext& ctx, const Request& request);
Result<Response> MetricsEndpoint(const InteractionContext& ctx, const Request& request);

}  // namespace clinshub::api
