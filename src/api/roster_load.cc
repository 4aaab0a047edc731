// Operator bulk loads (FHIR operations on the server base): POST /$load-directory and
// POST /$load-roster take NDJSON or CSV (access/bulk_load.h), check every line before storing
// anything, and commit the whole file with its audit event as one batch.
// https://hl7.org/fhir/R4/operations.html
#include "access/bulk_load.h"
#include "api/access_gate.h"
#include "api/interactions.h"
#include "fhir/json.h"

namespace clinshub::api {
namespace {

fhir::Value CountParameter(const std::string& name, size_t count) {
  fhir::Value p = fhir::Value::Object();
  p.Set("name", fhir::Value::String(name));
  p.Set("valueInteger", fhir::Value::Number(std::to_string(count)));
  return p;
}

Response ParametersResponse(std::vector<fhir::Value> parameters) {
  fhir::Value body = fhir::Value::Object();
  body.Set("resourceType", fhir::Value::String("Parameters"));
  fhir::Value& list = body.Set("parameter", fhir::Value::Array());
  for (fhir::Value& p : parameters) list.Append(std::move(p));
  Response response;
  response.body = fhir::WriteJson(body);
  response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
  return response;
}

// The caller, authorised for `action`; the event to commit with the load.
Result<store::AuditEvent> AuthorizeLoad(const InteractionContext& ctx, const Request& request,
                                        access::Action action, const char* target) {
  Result<Caller> caller = IdentifyCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  store::AuditEvent event = AuditFor(ctx, *caller, action, "", target);
  CLINSHUB_RETURN_IF_ERROR(Authorize(ctx, *caller, action, {}, event));
  return event;
}

Result<access::BulkFormat> BodyFormat(const Request& request) {
  Result<access::BulkFormat> format =
      access::BulkFormatForContentType(request.headers.Get("Content-Type").value_or(""));
  if (!format.ok()) return format;
  if (request.body.empty()) return MalformedError("The request body is empty");
  return format;
}

}  // namespace

Result<Response> LoadDirectory(const InteractionContext& ctx, const Request& request) {
  Result<store::AuditEvent> event =
      AuthorizeLoad(ctx, request, access::Action::kManageDirectory, "$load-directory");
  if (!event.ok()) return event.take_status();
  Result<access::BulkFormat> format = BodyFormat(request);
  if (!format.ok()) return format.take_status();
  Result<std::vector<store::InstitutionRecord>> records =
      access::ParseDirectory(request.body, *format);
  if (!records.ok()) return records.take_status();

  const size_t count = records->size();
  event->http_status = 200;
  event->reason += " (" + std::to_string(count) + " directory entries)";
  store::WriteBatch batch;
  batch.ops.reserve(count + 1);
  for (store::InstitutionRecord& r : *records) batch.ops.push_back(store::PutInstitution{std::move(r)});
  batch.ops.push_back(store::AppendAudit{std::move(event).value()});
  Result<store::CommitResult> committed = ctx.store.Commit(std::move(batch));
  if (!committed.ok()) return committed.take_status();
  return ParametersResponse({CountParameter("institutions", count)});
}

Result<Response> LoadRoster(const InteractionContext& ctx, const Request& request) {
  Result<store::AuditEvent> event =
      AuthorizeLoad(ctx, request, access::Action::kManageRoster, "$load-roster");
  if (!event.ok()) return event.take_status();
  Result<access::BulkFormat> format = BodyFormat(request);
  if (!format.ok()) return format.take_status();
  Result<access::RosterLoad> roster = access::ParseRoster(request.body, *format);
  if (!roster.ok()) return roster.take_status();

  const size_t identifiers = roster->entries.size();
  event->http_status = 200;
  event->reason += " (" + std::to_string(identifiers) + " roster identifiers)";
  store::WriteBatch batch;
  batch.ops.reserve(identifiers + 1);
  for (store::RosterEntry& e : roster->entries) batch.ops.push_back(store::PutRosterEntry{std::move(e)});
  batch.ops.push_back(store::AppendAudit{std::move(event).value()});
  Result<store::CommitResult> committed = ctx.store.Commit(std::move(batch));
  if (!committed.ok()) return committed.take_status();
  return ParametersResponse({CountParameter("persons", roster->persons),
                             CountParameter("identifiers", identifiers)});
}

}  // namespace clinshub::api
