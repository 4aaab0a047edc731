#include "api/access_gate.h"

#include <chrono>
#include <cstdio>

#include "access/identity.h"
#include "api/bundle_units.h"
#include "api/error_response.h"
#include "common/japanese_text.h"

namespace clinshub::api {
namespace {

constexpr size_t kMaxEmergencyReason = 1000;

// Today's date in Japan (UTC+9, no DST) as yyyy-mm-dd: roster validity is a Japanese date.
std::string JapanToday(Timestamp now) {
  auto days = std::chrono::floor<std::chrono::days>(now + std::chrono::hours(9));
  std::chrono::year_month_day ymd{days};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

}  // namespace

Result<Caller> IdentifyCaller(const InteractionContext& ctx, const Request& request) {
  Caller caller;
  if (request.client) caller.actor = access::ActorFromSubject(request.client->certificate_subject);
  if (caller.actor.kind == access::ActorKind::kInstitution) {
    Result<store::InstitutionRecord> entry = ctx.store.ReadInstitution(caller.actor.id);
    if (entry.ok()) {
      caller.actor.in_directory = true;
      caller.actor.active = entry->active;
      caller.actor.emergency_permitted = entry->emergency_permitted;
    } else if (entry.status().code() != ErrorCode::kNotFound) {
      return entry.take_status();
    }
  }
  std::string_view purpose = request.headers.Get("X-Purpose-Of-Use").value_or("");
  Result<access::Purpose> parsed = access::ParsePurpose(purpose, caller.actor.kind);
  if (!parsed.ok()) return parsed.take_status();
  caller.purpose = *parsed;
  std::string_view reason = request.headers.Get("X-Emergency-Reason").value_or("");
  if (reason.size() > kMaxEmergencyReason) {
    return Status::Error(ErrorCode::kMalformed, "too-long",
                         "X-Emergency-Reason is longer than 1000 bytes", "X-Emergency-Reason");
  }
  caller.emergency_reason = std::string(reason);
  return caller;
}

Result<Patient> ResolvePatient(const InteractionContext& ctx, std::string_view system,
                               std::string_view value, ErrorCode unknown_code,
                               std::string_view expression) {
  Patient patient{std::string(system), std::string(value), {}};
  Result<store::RosterEntry> entry =
      ctx.store.ResolveIdentifier(patient.system, NormaliseIdentifier(value));
  if (!entry.ok()) {
    if (entry.status().code() != ErrorCode::kNotFound) return entry.take_status();
    return Status::Error(unknown_code, unknown_code == ErrorCode::kNotFound ? "not-found"
                                                                            : "business-rule",
                         "The patient identifier " + std::string(value) +
                             " is not in the eligibility roster (オンライン資格確認); re-check "
                             "the patient's eligibility and send their current identifier",
                         std::string(expression), "roster");
  }
  if (!entry->valid_to.empty() && entry->valid_to < JapanToday(ctx.clock.Now())) {
    return Status::Error(ErrorCode::kUnprocessable, "business-rule",
                         "The patient identifier " + std::string(value) + " ended on " +
                             entry->valid_to +
                             "; re-check the patient's eligibility and send their current "
                             "identifier",
                         std::string(expression), "roster");
  }
  patient.roster = std::move(*entry);
  return patient;
}

Result<Patient> ResolvePatientParameter(const InteractionContext& ctx, const Request& request,
                                        std::string_view parameter) {
  std::vector<std::string_view> values = request.query.All(parameter);
  if (values.size() != 1) {
    return Status::Error(ErrorCode::kMalformed, "required",
                         "Exactly one " + std::string(parameter) +
                             "=system|value naming the patient is required",
                         std::string(parameter));
  }
  Result<Token> token = ParseToken(values[0], parameter);
  if (!token.ok()) return token.take_status();
  return ResolvePatient(ctx, token->system, token->value, ErrorCode::kNotFound, parameter);
}

std::pair<std::string, std::string> CurrentRosterIdentifier(const InteractionContext& ctx,
                                                            const std::string& person_key) {
  Result<std::vector<store::RosterEntry>> entries = ctx.store.ListRosterEntries(person_key);
  if (!entries.ok() || entries->empty()) return {"", ""};
  const store::RosterEntry* best = &entries->back();
  for (const store::RosterEntry& e : *entries) {
    if (e.valid_to.empty()) best = &e;
  }
  return {best->system, best->value_normalised};
}

Result<bool> HasActiveConsent(const InteractionContext& ctx, const std::string& person_key,
                              const std::string& institution) {
  return ctx.store.HasActiveConsent(person_key, institution, ctx.clock.Now());
}

store::AuditEvent AuditFor(const InteractionContext& ctx, const Caller& caller,
                           access::Action action, std::string person_key, std::string target) {
  store::AuditEvent e;
  e.time = ctx.clock.Now();
  e.actor_kind = std::string(access::ActorKindName(caller.actor.kind));
  e.actor = caller.actor.kind == access::ActorKind::kNone ? "anonymous" : caller.actor.id;
  e.purpose = std::string(access::PurposeCode(caller.purpose));
  e.action = std::string(access::ActionName(action));
  e.person_key = std::move(person_key);
  e.target = std::move(target);
  if (caller.purpose == access::Purpose::kEmergency) e.reason = caller.emergency_reason;
  return e;
}

Status Authorize(const InteractionContext& ctx, const Caller& caller, access::Action action,
                 const access::Facts& facts, store::AuditEvent& event) {
  access::Decision d = access::Decide(caller.actor, caller.purpose, action, facts);
  event.rule = d.rule;
  if (d.permit) {
    event.outcome = "permit";
    if (d.rule != "emergency") event.reason = d.reason;
    return Status::Ok();
  }
  event.outcome = "deny";
  event.reason = d.reason;
  Status denial = access::DenialStatus(d);
  event.http_status = HttpStatusFor(denial.code());
  // A denial that cannot be audited is still a denial; the store error is not the caller's.
  (void)CommitAudit(ctx, event);
  return denial;
}

Status CommitAudit(const InteractionContext& ctx, store::AuditEvent event) {
  store::WriteBatch batch;
  batch.ops.push_back(store::AppendAudit{std::move(event)});
  Result<store::CommitResult> committed = ctx.store.Commit(std::move(batch));
  return committed.ok() ? Status::Ok() : committed.status();
}

namespace {

bool IsSixInformationKind(std::string_view kind) {
  return kind == "conditions" || kind == "allergies" || kind == "observations";
}

}  // namespace

Status AuthorizeOperator(const InteractionContext& ctx, const Request& request,
                         const std::string& target) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kManageDirectory, "", target);
  event.action = request.method;
  // Generic FHIR types are a development facility (none is configured by default) and hold no
  // person data: their permitted operator actions are logged, not audited.
  return Authorize(ctx, *caller, access::Action::kManageDirectory, {}, event);
}

Status AuthorizeResourceRead(const InteractionContext& ctx, const Request& request,
                             const std::string& type, const std::string& id, bool retrieval) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  if (type != "Bundle") return AuthorizeOperator(ctx, request, type + "/" + id);
  Result<store::UnitRecord> unit = ctx.store.FindUnitByBundleId(id);
  if (!unit.ok()) {
    if (unit.status().code() != ErrorCode::kNotFound) return unit.take_status();
    // No unit (never submitted, or purged): an identified institution or the portal is told
    // only that it is not there, so a former sender gets 404 like everyone else. The operator
    // may still read a unit-less Bundle (none should exist), audited; an unidentified caller
    // is refused (401) by the decision below before learning anything.
    if (caller->actor.kind == access::ActorKind::kInstitution ||
        caller->actor.kind == access::ActorKind::kPortal) {
      return NotFoundError("Bundle/" + id + " not found");
    }
    store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kManageDirectory, "",
                                       "Bundle/" + id);
    event.action = "read";
    return Authorize(ctx, *caller, access::Action::kManageDirectory, {}, event);
  }
  access::Facts facts;
  facts.is_sender = caller->actor.kind == access::ActorKind::kInstitution &&
                    caller->actor.id == unit->institution;
  facts.emergency_reason = caller->emergency_reason;
  access::Action action = access::Action::kReadOwnSubmission;
  if (unit->kind == "referral") {
    action = access::Action::kReadReferral;
    Result<std::vector<store::ReferralRecipient>> recipients =
        ctx.store.ListReferralRecipients(unit->key);
    if (!recipients.ok()) return recipients.take_status();
    for (const store::ReferralRecipient& r : *recipients) {
      if (r.recipient == caller->actor.id) facts.referral_state = r.state;
    }
  } else if (!IsSixInformationKind(unit->kind) && !facts.is_sender) {
    action = access::Action::kReadPatientData;
    if (caller->actor.kind == access::ActorKind::kInstitution) {
      Result<bool> consent = HasActiveConsent(ctx, unit->key.person_key, caller->actor.id);
      if (!consent.ok()) return consent.take_status();
      facts.active_consent = *consent;
    } else if (caller->actor.kind == access::ActorKind::kPortal) {
      // The portal acts for one patient and must name them; a different person's document is
      // answered as not found, so the portal cannot probe ids.
      Result<Patient> patient = ResolvePatientParameter(ctx, request, "patient.identifier");
      if (!patient.ok()) return patient.take_status();
      if (patient->person_key() != unit->key.person_key) {
        return NotFoundError("Bundle/" + id + " not found");
      }
    }
  }
  store::AuditEvent event =
      AuditFor(ctx, *caller, action, unit->key.person_key, "Bundle/" + id);
  CLINSHUB_RETURN_IF_ERROR(Authorize(ctx, *caller, action, facts, event));
  event.http_status = 200;
  store::WriteBatch batch;
  if (retrieval && action == access::Action::kReadReferral && !facts.is_sender &&
      facts.referral_state == store::ReferralState::kViewable) {
    store::SetReferralState retrieved;
    retrieved.unit = unit->key;
    retrieved.recipient = caller->actor.id;
    retrieved.state = store::ReferralState::kRetrieved;
    retrieved.allowed_from = {store::ReferralState::kViewable};
    retrieved.set_by = "retrieval";
    retrieved.strict = false;  // a concurrent retrieval already did it
    batch.ops.emplace_back(std::move(retrieved));
    event.action = "retrieve";
  }
  batch.ops.emplace_back(store::AppendAudit{std::move(event)});
  Result<store::CommitResult> committed = ctx.store.Commit(std::move(batch));
  return committed.ok() ? Status::Ok() : committed.status();
}

std::string_view ReferralStateCode(store::ReferralState state) {
  switch (state) {
    case store::ReferralState::kPending: return "pending";
    case store::ReferralState::kViewable: return "viewable";
    case store::ReferralState::kRetrieved: return "retrieved";
    case store::ReferralState::kNone: break;
  }
  return "none";
}

std::string ItemRef(const std::string& bundle_id, int ordinal) {
  return bundle_id + "/" + std::to_string(ordinal);
}

}  // namespace clinshub::api
