// The one decision point for access: who may do what to whose data, and which items they see.
//
// Pure functions over facts the caller gathers (identity from the client certificate and the
// directory, consent and referral state from the store, the stated purpose). Every decision
// names the rule that made it (docs/security.md lists them); the API audits each one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "store/records.h"

namespace clinshub::access {

enum class ActorKind { kNone, kInstitution, kPortal, kOperator };
std::string_view ActorKindName(ActorKind kind);

// Who is calling, as proven by the client certificate and looked up in the directory.
struct Actor {
  ActorKind kind = ActorKind::kNone;
  std::string id;  // institution code, portal name, operator name
  // Institutions: the directory entry's facts (false when the code is not in the directory).
  bool in_directory = false;
  bool active = false;
  bool emergency_permitted = false;
};

// The stated purpose of use (HL7 v3 PurposeOfUse codes).
enum class Purpose { kTreatment, kEmergency, kPatientRequest, kOperations, kPublicHealth };
std::string_view PurposeCode(Purpose purpose);  // "TREAT", "ETREAT", "PATRQT", "HOPERAT", "PUBHLTH"

enum class Action {
  kSubmit,              // register / replace / withdraw / restore one's own units
  kReadOwnSubmission,   // status, read and history of a unit one sent
  kReadPatientData,     // summary and search of one patient's 6 information and documents
  kReadReferral,        // retrieve a referral letter addressed to (or redirected to) the caller
  kReadInbox,           // list letters addressed to the caller
  kRecordConsent,       // a card-reader consent at the caller's institution
  kPatientConsent,      // the patient (portal) sets a referral letter's consent / redirects it
  kReadAccessLog,       // the patient's own access log
  kSearchDirectory,     // institution directory search
  kManageDirectory,     // load / change directory entries
  kManageRoster,        // load / change the eligibility roster
  kReadAudit,           // operator audit queries
  // Public health (docs/public-health.md).
  kDraftNotification,       // draft a 感染症発生届 from the caller's OWN registered items only
  kSubmitNotification,      // file a 感染症発生届 (routed to the surveillance endpoint)
  kReadNotificationStatus,  // delivery state of a notification the caller filed
  kRequestExport,           // start the minister's data request (operator A)
  kApproveExport,           // approve it (operator B, never the requester)
  kReadExport,              // an export's status, manifest and files (operators)
};
std::string_view ActionName(Action action);

// Facts about the target, gathered by the caller before deciding.
struct Facts {
  bool active_consent = false;   // the actor institution holds an unexpired, unrevoked consent
  bool is_sender = false;        // the actor sent the unit concerned
  store::ReferralState referral_state = store::ReferralState::kNone;  // for the actor
  std::string emergency_reason;  // stated with purpose ETREAT
  bool is_notifier = false;      // the actor filed the notification concerned
  std::string export_requester;  // kApproveExport: the operator who requested the export
};

struct Decision {
  bool permit = false;
  std::string rule;    // e.g. "consent", "emergency", "deny.no-consent"
  std::string reason;  // one sentence for the caller, the audit trail and the patient
  ErrorCode deny_code = ErrorCode::kForbidden;  // when !permit: 401, 403 or 400
};

Decision Decide(const Actor& actor, Purpose purpose, Action action, const Facts& facts);

// The Status a denial becomes (issue code "forbidden"/"security", rule in Issue.rule).
Status DenialStatus(const Decision& decision);

// How one stored item appears to the actor.
enum class Visibility { kHidden, kVisible, kVisibleMarkedUninformed };

// Flags are clins::ItemFlag bits. Patients never see 未告知 or 未提供 items; other
// institutions never see 未提供 items and see 未告知 ones marked; the sender sees its own.
Visibility ItemVisibility(const Actor& actor, uint32_t flags, const std::string& item_institution);

// Parses the X-Purpose-Of-Use header value (empty: the actor's default purpose).
// kMalformed for an unknown code.
Result<Purpose> ParsePurpose(std::string_view header, ActorKind actor);

}  // namespace clinshub::access
