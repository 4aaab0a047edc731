// https://hl7.org/fhir/R4/http.html#create — POST /Bundle registers (or replaces) a JP-CLINS
// reporting unit: validate everything, extract items, commit bundle and items atomically.
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

}  // namespace

Result<Response> SubmitBundle(const InteractionContext& ctx, const Request& request) {
  CLINSHUB_RETURN_IF_ERROR(clins::CheckSubmissionSize(request.body.size()));
  Result<fhir::Value> bundle = ParseBodyResource(request, "Bundle");
  if (!bundle.ok()) return bundle.take_status();
  clins::SubmissionFacts facts;
  Result<store::PutUnit> put = PrepareUnit(ctx, request, std::move(bundle).value(), &facts);
  if (!put.ok()) return put.take_status();
  const size_t item_count = put->items.size();

  store::WriteBatch batch;
  batch.ops.emplace_back(std::move(put).value());
  Result<store::CommitResult> committed = ctx.store.Commit(std::move(batch));
  if (!committed.ok()) return committed.take_status();
  if (committed->written.size() != 1 || committed->unit_outcomes.size() != 1) {
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
