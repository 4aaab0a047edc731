// The access decision table: (actor, purpose, action, facts) → permit/deny and the rule.
#include "access/policy.h"

#include <gtest/gtest.h>

#include "clins/items.h"

namespace clinshub::access {
namespace {

using store::ReferralState;

Actor Institution(bool emergency = false, bool active = true, bool known = true) {
  return Actor{ActorKind::kInstitution, "1311111111", known, active, emergency};
}
Actor Portal() { return Actor{ActorKind::kPortal, "portal:mynaportal"}; }
Actor Operator() { return Actor{ActorKind::kOperator, "operator:alice"}; }
Actor Nobody() { return Actor{}; }

struct Row {
  const char* name;
  Actor actor;
  Purpose purpose;
  Action action;
  Facts facts;
  bool permit;
  const char* rule;
  ErrorCode deny_code = ErrorCode::kForbidden;
};

Facts Consent() { return Facts{.active_consent = true}; }
Facts Reason(const char* r) { return Facts{.emergency_reason = r}; }
Facts ConsentAndReason() { return Facts{.active_consent = true, .emergency_reason = "意識障害"}; }
Facts Referral(ReferralState s) { return Facts{.referral_state = s}; }
Facts Sender() { return Facts{.is_sender = true}; }

const Row kRows[] = {
    // Identity and directory.
    {"NoCertificateIsUnauthenticated", Nobody(), Purpose::kTreatment, Action::kReadPatientData,
     Consent(), false, "deny.unauthenticated", ErrorCode::kUnauthenticated},
    {"UnknownInstitutionIsDenied", Institution(false, true, false), Purpose::kTreatment,
     Action::kSubmit, {}, false, "deny.institution-unknown"},
    {"InactiveInstitutionIsDenied", Institution(false, false), Purpose::kTreatment,
     Action::kSubmit, {}, false, "deny.institution-inactive"},
    // Registration needs no consent.
    {"InstitutionSubmitsWithoutConsent", Institution(), Purpose::kTreatment, Action::kSubmit, {},
     true, "registration"},
    {"PortalCannotSubmit", Portal(), Purpose::kPatientRequest, Action::kSubmit, {}, false,
     "deny.institution-only"},
    {"OperatorCannotSubmit", Operator(), Purpose::kOperations, Action::kSubmit, {}, false,
     "deny.operator-no-clinical"},
    // Reading a patient's data: consent or emergency.
    {"ConsentPermitsRead", Institution(), Purpose::kTreatment, Action::kReadPatientData,
     Consent(), true, "consent"},
    {"NoConsentDeniesRead", Institution(), Purpose::kTreatment, Action::kReadPatientData, {},
     false, "deny.no-consent"},
    {"EmergencyWithPermissionAndReasonPermits", Institution(true), Purpose::kEmergency,
     Action::kReadPatientData, Reason("意識障害で搬送"), true, "emergency"},
    {"EmergencyWithoutPermissionIsDeniedEvenWithConsent", Institution(false), Purpose::kEmergency,
     Action::kReadPatientData, ConsentAndReason(), false, "deny.emergency-not-permitted"},
    {"EmergencyWithoutReasonIsABadRequest", Institution(true), Purpose::kEmergency,
     Action::kReadPatientData, {}, false, "deny.emergency-reason-missing", ErrorCode::kMalformed},
    {"EmergencyPermissionWithoutEmergencyPurposeNeedsConsent", Institution(true),
     Purpose::kTreatment, Action::kReadPatientData, {}, false, "deny.no-consent"},
    {"InstitutionsCannotClaimPatientPurpose", Institution(), Purpose::kPatientRequest,
     Action::kReadPatientData, Consent(), false, "deny.purpose"},
    {"PublicHealthPurposeDoesNotOpenPatientData", Institution(), Purpose::kPublicHealth,
     Action::kReadPatientData, Consent(), false, "deny.purpose"},
    {"PortalReadsOwnData", Portal(), Purpose::kPatientRequest, Action::kReadPatientData, {}, true,
     "patient.self"},
    {"PortalMustActForThePatient", Portal(), Purpose::kTreatment, Action::kReadPatientData, {},
     false, "deny.purpose"},
    {"OperatorNeverReadsClinicalData", Operator(), Purpose::kOperations, Action::kReadPatientData,
     {}, false, "deny.operator-no-clinical"},
    // Own submissions.
    {"SenderReadsOwnUnit", Institution(), Purpose::kTreatment, Action::kReadOwnSubmission,
     Sender(), true, "sender"},
    {"OthersCannotReadUnitStatus", Institution(), Purpose::kTreatment, Action::kReadOwnSubmission,
     Consent(), false, "deny.not-sender"},
    // Referral letters.
    {"ViewableLetterIsRetrievable", Institution(), Purpose::kTreatment, Action::kReadReferral,
     Referral(ReferralState::kViewable), true, "referral.recipient"},
    {"RetrievedLetterStaysReadable", Institution(), Purpose::kTreatment, Action::kReadReferral,
     Referral(ReferralState::kRetrieved), true, "referral.recipient"},
    {"PendingLetterIsNotRetrievable", Institution(), Purpose::kTreatment, Action::kReadReferral,
     Referral(ReferralState::kPending), false, "deny.referral-pending"},
    {"NonAddresseeCannotRetrieveEvenWithConsent", Institution(), Purpose::kTreatment,
     Action::kReadReferral, Consent(), false, "deny.referral-not-addressee"},
    {"SenderReadsOwnLetter", Institution(), Purpose::kTreatment, Action::kReadReferral, Sender(),
     true, "sender"},
    {"PortalSetsLetterConsent", Portal(), Purpose::kPatientRequest, Action::kPatientConsent, {},
     true, "patient.self"},
    {"InstitutionCannotActAsPatient", Institution(), Purpose::kTreatment, Action::kPatientConsent,
     {}, false, "deny.patient-only"},
    // Consent, logs, directory, roster, audit.
    {"InstitutionRecordsCardReaderConsent", Institution(), Purpose::kTreatment,
     Action::kRecordConsent, {}, true, "card-reader"},
    {"PortalReadsAccessLog", Portal(), Purpose::kPatientRequest, Action::kReadAccessLog, {}, true,
     "patient.self"},
    {"InstitutionCannotReadPatientsAccessLog", Institution(), Purpose::kTreatment,
     Action::kReadAccessLog, Consent(), false, "deny.patient-only"},
    {"InstitutionSearchesDirectory", Institution(), Purpose::kTreatment, Action::kSearchDirectory,
     {}, true, "directory"},
    {"InstitutionCannotManageDirectory", Institution(), Purpose::kTreatment,
     Action::kManageDirectory, {}, false, "deny.operator-only"},
    {"InstitutionCannotLoadRoster", Institution(), Purpose::kTreatment, Action::kManageRoster, {},
     false, "deny.operator-only"},
    {"InstitutionCannotReadAudit", Institution(), Purpose::kTreatment, Action::kReadAudit, {},
     false, "deny.operator-only"},
    {"OperatorManagesDirectory", Operator(), Purpose::kOperations, Action::kManageDirectory, {},
     true, "operator"},
    {"OperatorLoadsRoster", Operator(), Purpose::kOperations, Action::kManageRoster, {}, true,
     "operator"},
    {"OperatorReadsAudit", Operator(), Purpose::kOperations, Action::kReadAudit, {}, true,
     "operator"},
    {"PortalCannotReadAudit", Portal(), Purpose::kPatientRequest, Action::kReadAudit, {}, false,
     "deny.institution-only"},
    // Public health: notifications by the diagnosing institution, the minister's export.
    {"InstitutionDraftsNotificationWithoutConsent", Institution(), Purpose::kTreatment,
     Action::kDraftNotification, {}, true, "notification.statutory"},
    {"InstitutionFilesNotificationForPublicHealth", Institution(), Purpose::kPublicHealth,
     Action::kSubmitNotification, {}, true, "notification.statutory"},
    {"EmergencyPurposeDoesNotFileNotifications", Institution(true), Purpose::kEmergency,
     Action::kSubmitNotification, ConsentAndReason(), false, "deny.purpose"},
    {"PortalCannotDraftNotification", Portal(), Purpose::kPatientRequest,
     Action::kDraftNotification, {}, false, "deny.institution-only"},
    {"OperatorCannotFileNotification", Operator(), Purpose::kOperations,
     Action::kSubmitNotification, {}, false, "deny.operator-no-clinical"},
    {"NotifierFollowsItsNotification", Institution(), Purpose::kTreatment,
     Action::kReadNotificationStatus, Facts{.is_notifier = true}, true, "notification.notifier"},
    {"OthersCannotFollowANotification", Institution(), Purpose::kTreatment,
     Action::kReadNotificationStatus, Consent(), false, "deny.not-notifier"},
    {"OperatorRequestsExport", Operator(), Purpose::kOperations, Action::kRequestExport, {}, true,
     "export.request"},
    {"SecondOperatorApprovesExport", Operator(), Purpose::kOperations, Action::kApproveExport,
     Facts{.export_requester = "operator:bob"}, true, "export.two-person"},
    {"RequesterCannotApproveOwnExport", Operator(), Purpose::kOperations, Action::kApproveExport,
     Facts{.export_requester = "operator:alice"}, false, "deny.export-same-operator"},
    {"ApprovalNeedsAKnownRequester", Operator(), Purpose::kOperations, Action::kApproveExport, {},
     false, "deny.export-same-operator"},
    {"InstitutionCannotRequestExport", Institution(true), Purpose::kPublicHealth,
     Action::kRequestExport, {}, false, "deny.operator-only"},
    {"InstitutionCannotApproveExport", Institution(), Purpose::kPublicHealth,
     Action::kApproveExport, Facts{.export_requester = "operator:bob"}, false,
     "deny.operator-only"},
    {"PortalCannotRequestExport", Portal(), Purpose::kPatientRequest, Action::kRequestExport, {},
     false, "deny.institution-only"},
    {"PortalCannotApproveExport", Portal(), Purpose::kPatientRequest, Action::kApproveExport,
     Facts{.export_requester = "operator:bob"}, false, "deny.institution-only"},
    {"NobodyCannotRequestExport", Nobody(), Purpose::kPublicHealth, Action::kRequestExport, {},
     false, "deny.unauthenticated", ErrorCode::kUnauthenticated},
    {"InstitutionCannotReadExport", Institution(), Purpose::kPublicHealth, Action::kReadExport,
     {}, false, "deny.operator-only"},
};

class DecisionTable : public ::testing::TestWithParam<Row> {};

TEST_P(DecisionTable, DecidesAsTheTableSays) {
  const Row& row = GetParam();
  Decision d = Decide(row.actor, row.purpose, row.action, row.facts);
  EXPECT_EQ(d.permit, row.permit);
  EXPECT_EQ(d.rule, row.rule);
  EXPECT_FALSE(d.reason.empty());
  if (!row.permit) {
    EXPECT_EQ(d.deny_code, row.deny_code);
    Status st = DenialStatus(d);
    EXPECT_EQ(st.code(), row.deny_code);
    EXPECT_EQ(st.issues().at(0).rule, row.rule);
  }
}

INSTANTIATE_TEST_SUITE_P(Access, DecisionTable, ::testing::ValuesIn(kRows),
                         [](const auto& info) { return std::string(info.param.name); });

struct VisibilityRow {
  const char* name;
  Actor actor;
  uint32_t flags;
  const char* item_institution;
  Visibility expected;
};

const VisibilityRow kVisibilityRows[] = {
    {"PatientSeesPlainItems", Portal(), clins::kFlagNone, "2711111111", Visibility::kVisible},
    {"PatientNeverSeesUninformed", Portal(), clins::kFlagUninformed, "2711111111",
     Visibility::kHidden},
    {"PatientNeverSeesUndelivered", Portal(), clins::kFlagUndelivered, "2711111111",
     Visibility::kHidden},
    {"PatientSeesLongTermItems", Portal(), clins::kFlagLongTermStorage, "2711111111",
     Visibility::kVisible},
    {"OtherInstitutionSeesUninformedMarked", Institution(), clins::kFlagUninformed, "2711111111",
     Visibility::kVisibleMarkedUninformed},
    {"OtherInstitutionNeverSeesUndelivered", Institution(), clins::kFlagUndelivered, "2711111111",
     Visibility::kHidden},
    {"OtherInstitutionNeverSeesUndeliveredEvenIfUninformed", Institution(),
     clins::kFlagUndelivered | clins::kFlagUninformed, "2711111111", Visibility::kHidden},
    {"SenderSeesItsOwnUndelivered", Institution(), clins::kFlagUndelivered, "1311111111",
     Visibility::kVisible},
    {"SenderSeesItsOwnUninformedMarked", Institution(), clins::kFlagUninformed, "1311111111",
     Visibility::kVisibleMarkedUninformed},
    {"SenderSeesItsOwnUndeliveredUninformedMarked", Institution(),
     clins::kFlagUndelivered | clins::kFlagUninformed, "1311111111",
     Visibility::kVisibleMarkedUninformed},
    {"OperatorSeesNoClinicalItem", Operator(), clins::kFlagNone, "2711111111",
     Visibility::kHidden},
};

class VisibilityTable : public ::testing::TestWithParam<VisibilityRow> {};

TEST_P(VisibilityTable, ShowsItemsAsTheTableSays) {
  const VisibilityRow& row = GetParam();
  EXPECT_EQ(ItemVisibility(row.actor, row.flags, row.item_institution), row.expected);
}

INSTANTIATE_TEST_SUITE_P(Access, VisibilityTable, ::testing::ValuesIn(kVisibilityRows),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ParsePurpose, DefaultsPerActorAndRejectsUnknownCodes) {
  EXPECT_EQ(*ParsePurpose("", ActorKind::kInstitution), Purpose::kTreatment);
  EXPECT_EQ(*ParsePurpose("", ActorKind::kPortal), Purpose::kPatientRequest);
  EXPECT_EQ(*ParsePurpose("ETREAT", ActorKind::kInstitution), Purpose::kEmergency);
  EXPECT_EQ(ParsePurpose("etreat", ActorKind::kInstitution).status().code(),
            ErrorCode::kMalformed);
}

}  // namespace
}  // namespace clinshub::access
