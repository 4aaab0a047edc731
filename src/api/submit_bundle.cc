// https://hl7.org/fhir/R4/http.html#create — POST /Bundle registers (or replaces) a JP-CLINS
// reporting unit: validate everything, extract items, commit bundle and items atomically.
#include "api/access_gate.h"
#include "api/bundle_units.h"
#include "api/interactions.h"
#include "api/resource_response.h"
#include "api/write_common.h"
#include "fhir/json.h"
#include "fhir/operation_outcome.h"

namespace clinshub::api {
namespace {

std::string_view OutcomeWord(store::UnitOutcome outcome) {
  switch (outcome) {
    case store::UnitOutcome::kCreated: return "Registered";
    case store::UnitOutcome::kReplaced: return "Replaced";
    case store::UnitOutcome::kUnchanged: return "Unchanged (identical resend of)";
    case store::UnitOutcome::kWithdrawn: return "Withdrew";
  }
  return "Stored";
}

// X-Referral-Consent on a referral letter: the sender records the patient's oral consent
// ("viewable" → 閲覧可) or leaves it to the patient or the recipient's card reader ("pending",
// the default → 閲覧保留).
Result<store::ReferralState> SenderReferralConsent(const Request& request) {
  std::string_view value = request.headers.Get("X-Referral-Consent").value_or("pending");
  if (value == "pending") return store::ReferralState::kPending;
  if (value == "viewable") return store::ReferralState::kViewable;
  return Status::Error(ErrorCode::kMalformed, "value",
                       "X-Referral-Consent must be 'pending' (閲覧保留) or 'viewable' (閲覧可: the "
                       "patient consented orally at the sender)",
                       "X-Referral-Consent");
}

}  // namespace

Result<Response> SubmitBundle(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kSubmit, "", "Bundle");
  CLINSHUB_RETURN_IF_ERROR(Authorize(ctx, *caller, access::Action::kSubmit, {}, event));
  Result<store::ReferralState> referral_consent = SenderReferralConsent(request);
  if (!referral_consent.ok()) return referral_consent.take_status();
  CLINSHUB_RETURN_IF_ERROR(clins::CheckSubmissionSize(request.body.size()));
  Result<fhir::Value> bundle = ParseBodyResource(request, "Bundle");
  if (!bundle.ok()) return bundle.take_status();
  clins::SubmissionFacts facts;
  Result<store::PutUnit> put =
      PrepareUnit(ctx, caller->actor.id, std::move(bundle).value(), &facts);
  if (!put.ok()) return put.take_status();
  const size_t item_count = put->items.size();
  const store::UnitKey key = put->key;
  const std::string addressee = put->addressee;

  store::WriteBatch batch;
  batch.ops.emplace_back(std::move(put).value());
  if (!addressee.empty()) {
    // The addressee becomes a recipient; a resend never takes back a consent already given
    // or a retrieval already made (non-strict: other states are kept).
    store::SetReferralState recipient;
    recipient.unit = key;
    recipient.recipient = addressee;
    recipient.state = *referral_consent;
    recipient.allowed_from = {store::ReferralState::kNone};
    if (*referral_consent == store::ReferralState::kViewable) {
      recipient.allowed_from.push_back(store::ReferralState::kPending);
    }
    recipient.set_by = "sender";
    recipient.strict = false;
    batch.ops.emplace_back(std::move(recipient));
  }
  event.person_key = key.person_key;
  event.target = "Bundle?identifier=" + key.value;
  event.reason = std::to_string(item_count) + " items";
  event.http_status = 200;
  batch.ops.emplace_back(store::AppendAudit{std::move(event)});
  Result<store::CommitResult> committed = ctx.store.Commit(std::move(batch));
  if (!committed.ok()) return committed.take_status();
  if (committed->written.empty() || committed->unit_outcomes.size() != 1) {
    return InternalError("Store reported an unexpected result for one reporting unit");
  }
  const store::ResourceVersion& written = committed->written[0];
  const store::UnitOutcome outcome = committed->unit_outcomes[0];

  std::vector<Issue> issues;
  issues.push_back(Issue{
      Severity::kInformation, "informational", "", "",
      std::string(OutcomeWord(outcome)) + " reporting unit " + facts.bundle_id_value + " (" +
          std::string(clins::SubmissionKindName(facts.kind)) + ", " +
          std::to_string(item_count) + " items) as Bundle/" + written.id + "/_history/" +
          std::to_string(written.version)});
  for (const Issue& warning : facts.warnings) issues.push_back(warning);

  const int status = outcome == store::UnitOutcome::kCreated ? 201 : 200;
  Response response;
  if (PrefersRepresentation(request)) {
    Result<store::ResourceVersion> stored =
        ctx.store.ReadVersion("Bundle", written.id, written.version);
    if (!stored.ok()) return stored.take_status();
    response = ResourceResponse(status, *stored);
  } else {
    response.status = status;
    response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
    response.headers.Set("ETag", WeakETag(written.version));
    response.body = fhir::WriteJson(fhir::MakeOperationOutcome(issues));
  }
  const std::string location = BaseUrl(ctx.config, request) + "/Bundle/" + written.id +
                               "/_history/" + std::to_string(written.version);
  if (status == 201) response.headers.Set("Location", location);
  response.headers.Set("Content-Location", location);
  if (WantsMinimal(request)) {
    response.body.clear();
    response.headers.Remove("Content-Type");
  }
  return response;
}

}  // namespace clinshub::api
