#include "access/policy.h"

#include "clins/items.h"
#include "common/result.h"

namespace clinshub::access {
namespace {

Decision Permit(std::string rule, std::string reason) {
  return Decision{true, std::move(rule), std::move(reason), ErrorCode::kOk};
}

Decision Deny(std::string rule, std::string reason, ErrorCode code = ErrorCode::kForbidden) {
  return Decision{false, std::move(rule), std::move(reason), code};
}

// Reading another institution's data about a patient: consent, or a stated emergency.
Decision DecideClinicalRead(const Actor& actor, Purpose purpose, const Facts& facts) {
  if (purpose == Purpose::kEmergency) {
    if (!actor.emergency_permitted) {
      return Deny("deny.emergency-not-permitted",
                  "This institution does not hold the emergency-care permission "
                  "(救急時医療情報閲覧); read with the patient's consent instead");
    }
    if (facts.emergency_reason.empty()) {
      return Deny("deny.emergency-reason-missing",
                  "Emergency access (X-Purpose-Of-Use: ETREAT) must state the physician's reason "
                  "in X-Emergency-Reason",
                  ErrorCode::kMalformed);
    }
    return Permit("emergency", "Emergency access by a permitted institution: " +
                                   facts.emergency_reason);
  }
  if (purpose != Purpose::kTreatment) {
    return Deny("deny.purpose", "Institutions read patient data only for treatment (TREAT) or "
                                "emergency treatment (ETREAT)");
  }
  if (facts.active_consent) {
    return Permit("consent", "The patient consented at this institution's card reader");
  }
  return Deny("deny.no-consent",
              "No valid consent: the patient has not consented at this institution's card "
              "reader, or the consent expired or was revoked");
}

Decision DecideInstitution(const Actor& actor, Purpose purpose, Action action,
                           const Facts& facts) {
  switch (action) {
    case Action::kSubmit:
      return Permit("registration", "Registration needs no consent (statutory basis)");
    case Action::kReadOwnSubmission:
      if (facts.is_sender) return Permit("sender", "The institution sent this unit");
      return Deny("deny.not-sender", "Only the sending institution may do this");
    case Action::kReadPatientData:
      return DecideClinicalRead(actor, purpose, facts);
    case Action::kReadReferral:
      if (facts.is_sender) return Permit("sender", "The institution sent this letter");
      switch (facts.referral_state) {
        case store::ReferralState::kViewable:
        case store::ReferralState::kRetrieved:
          return Permit("referral.recipient", "The letter is addressed to this institution "
                                              "and the patient consented (閲覧可)");
        case store::ReferralState::kPending:
          return Deny("deny.referral-pending",
                      "The letter is addressed to this institution but the patient has not "
                      "consented yet (閲覧保留); record the card-reader consent first");
        case store::ReferralState::kNone:
          break;
      }
      return Deny("deny.referral-not-addressee",
                  "Only the addressee, or an institution the patient redirected the letter to, "
                  "may retrieve a referral letter");
    case Action::kReadInbox:
      return Permit("inbox", "An institution lists letters addressed to itself");
    case Action::kRecordConsent:
      return Permit("card-reader", "Consent is recorded by the institution's card reader");
    case Action::kSearchDirectory:
      return Permit("directory", "Any institution may search the directory");
    case Action::kPatientConsent:
    case Action::kReadAccessLog:
      return Deny("deny.patient-only", "Only the patient (through the portal) may do this");
    case Action::kDraftNotification:
    case Action::kSubmitNotification:
      // Filing a 感染症発生届 is the diagnosing doctor's statutory duty (感染症法 第12条): no
      // patient consent, but only for treatment or public-health purposes, and a draft is
      // assembled from the caller's own registered items only (the handler filters them).
      if (purpose != Purpose::kTreatment && purpose != Purpose::kPublicHealth) {
        return Deny("deny.purpose", "Notifications are filed for treatment (TREAT) or public "
                                    "health (PUBHLTH) only");
      }
      return Permit("notification.statutory",
                    "The diagnosing institution files an infectious-disease notification "
                    "(感染症法 第12条) from its own records");
    case Action::kReadNotificationStatus:
      if (facts.is_notifier) {
        return Permit("notification.notifier", "The institution filed this notification");
      }
      return Deny("deny.not-notifier", "Only the institution that filed a notification may "
                                       "follow its delivery");
    case Action::kManageDirectory:
    case Action::kManageRoster:
    case Action::kReadAudit:
    case Action::kRequestExport:
    case Action::kApproveExport:
    case Action::kReadExport:
      return Deny("deny.operator-only", "Only the operator may do this");
  }
  return Deny("deny.unknown-action", "Unknown action");
}

Decision DecidePortal(Purpose purpose, Action action) {
  switch (action) {
    case Action::kReadPatientData:
    case Action::kReadAccessLog:
    case Action::kPatientConsent:
      if (purpose != Purpose::kPatientRequest) {
        return Deny("deny.purpose", "The portal acts for the patient (purpose PATRQT)");
      }
      return Permit("patient.self", "The patient reads or manages their own data");
    case Action::kSearchDirectory:
      return Permit("directory", "The directory is public to the service's users");
    default:
      return Deny("deny.institution-only", "The patient portal cannot do this");
  }
}

Decision DecideOperator(const Actor& actor, Action action, const Facts& facts) {
  switch (action) {
    case Action::kRequestExport:
      return Permit("export.request",
                    "An operator requests the minister's data export; a second operator must "
                    "approve it before it runs");
    case Action::kApproveExport:
      if (facts.export_requester.empty() || facts.export_requester == actor.id) {
        return Deny("deny.export-same-operator",
                    "Two-person rule: the operator who requested an export cannot approve it");
      }
      return Permit("export.two-person",
                    "A second operator approves the export requested by " +
                        facts.export_requester);
    case Action::kReadExport:
      return Permit("export.operator", "Operators follow and collect approved exports");
    case Action::kManageDirectory:
    case Action::kManageRoster:
    case Action::kReadAudit:
    case Action::kSearchDirectory:
      return Permit("operator", "Operator administration");
    default:
      return Deny("deny.operator-no-clinical",
                  "The operator administers the hub and audits access; it does not read or "
                  "write clinical data (目的外利用の禁止)");
  }
}

}  // namespace

std::string_view ActorKindName(ActorKind kind) {
  switch (kind) {
    case ActorKind::kNone: return "none";
    case ActorKind::kInstitution: return "institution";
    case ActorKind::kPortal: return "patient";
    case ActorKind::kOperator: return "operator";
  }
  return "none";
}

std::string_view PurposeCode(Purpose purpose) {
  switch (purpose) {
    case Purpose::kTreatment: return "TREAT";
    case Purpose::kEmergency: return "ETREAT";
    case Purpose::kPatientRequest: return "PATRQT";
    case Purpose::kOperations: return "HOPERAT";
    case Purpose::kPublicHealth: return "PUBHLTH";
  }
  return "TREAT";
}

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kSubmit: return "submit";
    case Action::kReadOwnSubmission: return "read-own";
    case Action::kReadPatientData: return "read";
    case Action::kReadReferral: return "retrieve-referral";
    case Action::kReadInbox: return "inbox";
    case Action::kRecordConsent: return "consent";
    case Action::kPatientConsent: return "patient-consent";
    case Action::kReadAccessLog: return "access-log";
    case Action::kSearchDirectory: return "directory-search";
    case Action::kManageDirectory: return "directory-manage";
    case Action::kManageRoster: return "roster-manage";
    case Action::kReadAudit: return "audit-read";
    case Action::kDraftNotification: return "notification-draft";
    case Action::kSubmitNotification: return "notify";
    case Action::kReadNotificationStatus: return "notification-status";
    case Action::kRequestExport: return "export-request";
    case Action::kApproveExport: return "export-approve";
    case Action::kReadExport: return "export-read";
  }
  return "unknown";
}

Decision Decide(const Actor& actor, Purpose purpose, Action action, const Facts& facts) {
  switch (actor.kind) {
    case ActorKind::kNone:
      return Deny("deny.unauthenticated",
                  "A client certificate issued by the hub's CA is required",
                  ErrorCode::kUnauthenticated);
    case ActorKind::kInstitution:
      if (!actor.in_directory) {
        return Deny("deny.institution-unknown",
                    "Institution " + actor.id + " is not in the hub's institution directory");
      }
      if (!actor.active) {
        return Deny("deny.institution-inactive",
                    "Institution " + actor.id + " is not active in the institution directory");
      }
      return DecideInstitution(actor, purpose, action, facts);
    case ActorKind::kPortal:
      return DecidePortal(purpose, action);
    case ActorKind::kOperator:
      return DecideOperator(actor, action, facts);
  }
  return Deny("deny.unauthenticated", "Unknown caller", ErrorCode::kUnauthenticated);
}

Status DenialStatus(const Decision& d) {
  std::string code = d.deny_code == ErrorCode::kMalformed ? "required"
                     : d.deny_code == ErrorCode::kUnauthenticated ? "login"
                                                                  : "forbidden";
  return Status::Error(d.deny_code, std::move(code), d.reason, {}, d.rule);
}

Visibility ItemVisibility(const Actor& actor, uint32_t flags,
                          const std::string& item_institution) {
  const bool uninformed = (flags & clins::kFlagUninformed) != 0;
  const bool undelivered = (flags & clins::kFlagUndelivered) != 0;
  switch (actor.kind) {
    case ActorKind::kPortal:
      return uninformed || undelivered ? Visibility::kHidden : Visibility::kVisible;
    case ActorKind::kInstitution:
      // Its sender sees all of its own items; the 未告知 mark, like for everyone who sees
      // the item, says the patient has not been told (so a colleague does not tell them).
      if (actor.id == item_institution) {
        return uninformed ? Visibility::kVisibleMarkedUninformed : Visibility::kVisible;
      }
      if (undelivered) return Visibility::kHidden;
      return uninformed ? Visibility::kVisibleMarkedUninformed : Visibility::kVisible;
    case ActorKind::kNone:
    case ActorKind::kOperator:
      return Visibility::kHidden;
  }
  return Visibility::kHidden;
}

Result<Purpose> ParsePurpose(std::string_view header, ActorKind actor) {
  if (header.empty()) {
    switch (actor) {
      case ActorKind::kPortal: return Purpose::kPatientRequest;
      case ActorKind::kOperator: return Purpose::kOperations;
      default: return Purpose::kTreatment;
    }
  }
  for (Purpose p : {Purpose::kTreatment, Purpose::kEmergency, Purpose::kPatientRequest,
                    Purpose::kOperations, Purpose::kPublicHealth}) {
    if (header == PurposeCode(p)) return p;
  }
  return Status::Error(ErrorCode::kMalformed, "value",
                       "X-Purpose-Of-Use must be one of TREAT, ETREAT, PATRQT, HOPERAT, PUBHLTH",
                       "X-Purpose-Of-Use");
}

}  // namespace clinshub::access
