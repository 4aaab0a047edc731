// https://hl7.org/fhir/R4/operations.html — POST /Bundle/$restore?identifier=system|value:
// 取消UNDO. Re-registers the last version of a withdrawn document, re-validated and
// re-extracted, as a new version. Only documents can be restored; only by their sender.
#include "api/access_gate.h"
#include "api/bundle_units.h"
#include "api/interactions.h"
#include "api/resource_response.h"
#include "fhir/json.h"
#include "fhir/operation_outcome.h"

namespace clinshub::api {
namespace {

bool IsDocumentKind(std::string_view kind) {
  for (auto k : {clins::SubmissionKind::kReferral, clins::SubmissionKind::kDischargeSummary,
                 clins::SubmissionKind::kCheckup}) {
    if (kind == clins::SubmissionKindName(k)) return true;
  }
  return false;
}

}  // namespace

Result<Response> RestoreBundle(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kSubmit, "", "Bundle");
  event.action = "restore";
  CLINSHUB_RETURN_IF_ERROR(Authorize(ctx, *caller, access::Action::kSubmit, {}, event));
  Result<store::UnitRecord> unit = FindUnitByQuery(ctx, request);
  if (!unit.ok()) return unit.take_status();
  if (!IsDocumentKind(unit->kind)) {
    return Status::Error(ErrorCode::kUnprocessable, "business-rule",
                         "Only documents can be restored (取消UNDO); 6-information units are "
                         "registered again by resending them",
                         "identifier");
  }
  if (unit->status != store::UnitStatus::kWithdrawn) {
    return Status::Error(ErrorCode::kConflict, "conflict",
                         "The document is registered, not withdrawn: nothing to restore",
                         "identifier");
  }
  if (caller->actor.id != unit->institution) {
    return Status::Error(ErrorCode::kForbidden, "forbidden",
                         "Only the sending institution may restore this document");
  }
  Result<std::vector<store::ResourceVersion>> history =
      ctx.store.History("Bundle", unit->bundle_id, ctx.config.max_history_count);
  if (!history.ok()) return history.take_status();
  const store::ResourceVersion* last = nullptr;
  for (const store::ResourceVersion& version : *history) {
    if (!version.deleted) {
      last = &version;
      break;
    }
  }
  if (last == nullptr) return InternalError("Withdrawn document has no registered version");
  Result<fhir::Value> bundle = fhir::ParseJson(last->json);
  if (!bundle.ok()) return InternalError("Stored document does not parse");
  Result<store::PutUnit> put = PrepareUnit(ctx, unit->institution, std::move(bundle).value(),
                                           nullptr, &unit->key.person_key);
  if (!put.ok()) return put.take_status();

  event.person_key = unit->key.person_key;
  event.target = "Bundle/" + unit->bundle_id;
  event.http_status = 200;
  store::WriteBatch batch;
  batch.ops.emplace_back(std::move(put).value());
  batch.ops.emplace_back(store::AppendAudit{std::move(event)});
  Result<store::CommitResult> committed = ctx.store.Commit(std::move(batch));
  if (!committed.ok()) return committed.take_status();
  const store::ResourceVersion& written = committed->written.at(0);
  Response response;
  response.status = 200;
  response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
  response.headers.Set("ETag", WeakETag(written.version));
  response.body = fhir::WriteJson(fhir::MakeOperationOutcome({Issue{
      Severity::kInformation, "informational", "", "",
      "Restored document " + unit->key.value + " as Bundle/" + written.id + "/_history/" +
          std::to_string(written.version)}}));
  return response;
}

}  // namespace clinshub::api
