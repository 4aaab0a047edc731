// The API's side of access control: establishes who is calling (certificate → actor →
// directory facts, stated purpose), resolves patients through the eligibility roster, gathers
// the facts the decision needs, asks src/access for the decision, and writes the audit trail.
// Handlers never decide access themselves; they call Authorize() and audit what they served.
#pragma once

#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "access/policy.h"
#include "api/http_types.h"
#include "api/interactions.h"
#include "common/result.h"
#include "store/records.h"

namespace clinshub::api {

// The caller of one request.
struct Caller {
  access::Actor actor;
  access::Purpose purpose = access::Purpose::kTreatment;
  std::string emergency_reason;  // X-Emergency-Reason (percent-decoded UTF-8)
};

// Identifies the caller from the verified client certificate (or, behind a trusted TLS
// proxy, the configured subject header — see ApiConfig) and the directory. Never fails for an
// unknown caller (Decide() denies it); fails only for a malformed purpose header or a store
// error.
Result<Caller> IdentifyCaller(const InteractionContext& ctx, const Request& request);

// A patient named by an insurance identifier, resolved through the roster.
struct Patient {
  std::string system;
  std::string value;  // as the request spelled it
  store::RosterEntry roster;
  const std::string& person_key() const { return roster.person_key; }
};

// Resolves system|value (compared in NormaliseIdentifier form). Unknown identifiers are
// `unknown_code` (kNotFound for reads, kUnprocessable for submissions), identifiers whose
// validity ended before today (Japan date) are kUnprocessable; both name `expression` and
// tell the sender to re-check eligibility (rule "roster").
Result<Patient> ResolvePatient(const InteractionContext& ctx, std::string_view system,
                               std::string_view value, ErrorCode unknown_code,
                               std::string_view expression);

// Resolves the `parameter` query parameter ("system|value", required, exactly once).
Result<Patient> ResolvePatientParameter(const InteractionContext& ctx, const Request& request,
                                        std::string_view parameter);

// The identifier to show for a person (the current roster entry, else the latest), as
// {system, normalised value}; empty strings if the roster has none.
std::pair<std::string, std::string> CurrentRosterIdentifier(const InteractionContext& ctx,
                                                            const std::string& person_key);

// True when `institution` holds an unexpired, unrevoked consent for the person.
Result<bool> HasActiveConsent(const InteractionContext& ctx, const std::string& person_key,
                              const std::string& institution);

// An audit event pre-filled with the caller, purpose and time.
store::AuditEvent AuditFor(const InteractionContext& ctx, const Caller& caller,
                           access::Action action, std::string person_key, std::string target);

// Decides; on denial, audits the denial and returns its Status. On permit fills
// event.rule/outcome (the caller adds items and commits the event with AuditAndCommit or in
// its own write batch).
Status Authorize(const InteractionContext& ctx, const Caller& caller, access::Action action,
                 const access::Facts& facts, store::AuditEvent& event);

// Commits one audit event on its own (reads). The response must not be sent if this fails:
// an unaudited read is not allowed to happen.
Status CommitAudit(const InteractionContext& ctx, store::AuditEvent event);

// Generic resources that are not clinical data (served only when configured): the operator
// only.
Status AuthorizeOperator(const InteractionContext& ctx, const Request& request,
                         const std::string& target);

// Access to a stored resource through read / vread / _history. Bundles of reporting units:
// the sender always; referral letters the recipients with 閲覧可/取得済 (a first `retrieval`
// by a recipient moves it to 取得済); other documents an institution with consent or a stated
// emergency, or the portal naming the patient (patient.identifier); 6-information units only
// their sender (others read them through $summary and search, which apply the flags). Other
// resource types served generically: the operator only. Audits the decision (and the
// retrieval, atomically with the state change).
Status AuthorizeResourceRead(const InteractionContext& ctx, const Request& request,
                             const std::string& type, const std::string& id, bool retrieval);

// "pending" (閲覧保留), "viewable" (閲覧可), "retrieved" (取得済), "none".
std::string_view ReferralStateCode(store::ReferralState state);

// "bundle_id/ordinal", the audit trail's reference to one item.
std::string ItemRef(const std::string& bundle_id, int ordinal);

}  // namespace clinshub::api
