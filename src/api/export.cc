// The minister's data request as FHIR Bulk Data (https://hl7.org/fhir/uv/bulkdata/export.html)
// behind a two-person rule (docs/public-health.md):
//   POST /$export-request                  operator A files the request (201, state requested)
//   POST /$export-request/{id}/$approve    operator B approves: 202 + Content-Location
//   GET  /$export-status/{id}              202 + X-Progress while pending, 200 + manifest
//   GET  /$export-file/{id}/{file}         the NDJSON files until they expire
// Institutions and the portal can do none of this (src/access: operator-only actions).
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/access_gate.h"
#include "api/interactions.h"
#include "api/resource_response.h"
#include "fhir/json.h"
#include "publichealth/export_job.h"

namespace clinshub::api {
namespace {

using fhir::Value;

std::string_view StateCode(store::ExportState s) {
  switch (s) {
    case store::ExportState::kRequested: return "requested";
    case store::ExportState::kApproved: return "approved";
    case store::ExportState::kRunning: return "running";
    case store::ExportState::kCompleted: return "completed";
    case store::ExportState::kFailed: return "failed";
    case store::ExportState::kExpired: return "expired";
  }
  return "unknown";
}

Response JobResponse(int status, const store::ExportJob& job) {
  Value v = Value::Object();
  v.Set("id", Value::String(job.id));
  v.Set("state", Value::String(std::string(StateCode(job.state))));
  v.Set("requester", Value::String(job.requester));
  if (!job.approver.empty()) v.Set("approver", Value::String(job.approver));
  Result<Value> request = fhir::ParseJson(job.request_json);
  if (request.ok()) v.Set("request", std::move(*request));
  v.Set("created", Value::String(FormatInstant(job.created)));
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = fhir::WriteJson(v);
  return r;
}

Result<Caller> IdentifyOperatorCaller(const InteractionContext& ctx, const Request& request) {
  return IdentifyCaller(ctx, request);
}

Result<store::ExportJob> JobOf(const InteractionContext& ctx, const Request& request) {
  return ctx.store.ReadExportJob(std::string(request.Param("id")));
}

Status CommitBatch(const InteractionContext& ctx, std::vector<store::WriteOp> ops) {
  store::WriteBatch b;
  b.ops = std::move(ops);
  Result<store::CommitResult> c = ctx.store.Commit(std::move(b));
  return c.ok() ? Status::Ok() : c.status();
}

}  // namespace

Result<Response> RequestExport(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyOperatorCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  store::AuditEvent event =
      AuditFor(ctx, *caller, access::Action::kRequestExport, "", "$export-request");
  CLINSHUB_RETURN_IF_ERROR(Authorize(ctx, *caller, access::Action::kRequestExport, {}, event));
  if (ctx.config.export_dir.empty()) {
    return Status::Error(ErrorCode::kNotFound, "not-supported",
                         "Exports are not configured on this hub");
  }
  Result<publichealth::ExportRequest> parsed = publichealth::ParseExportRequest(request.body);
  if (!parsed.ok()) return parsed.take_status();
  store::ExportJob job;
  job.id = ctx.ids.NewId();
  job.requester = caller->actor.id;
  job.request_json = request.body;
  Result<Value> compact = fhir::ParseJson(request.body);
  if (compact.ok()) job.request_json = fhir::WriteJson(*compact);
  job.created = ctx.clock.Now();
  event.target = "Export/" + job.id;
  event.reason = "Export requested: " + parsed->legal_purpose +
                 (parsed->identified ? " (identified: " + parsed->identified_authority + ")"
                                     : " (pseudonymised)");
  event.http_status = 201;
  CLINSHUB_RETURN_IF_ERROR(
      CommitBatch(ctx, {store::PutExportJob{job}, store::AppendAudit{std::move(event)}}));
  Result<store::ExportJob> stored = ctx.store.ReadExportJob(job.id);
  if (!stored.ok()) return stored.take_status();
  Response r = JobResponse(201, *stored);
  r.headers.Set("Location", BaseUrl(ctx.config, request) + "/$export-request/" + job.id);
  return r;
}

Result<Response> ApproveExport(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyOperatorCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  Result<store::ExportJob> job = JobOf(ctx, request);
  access::Facts facts;
  if (job.ok()) facts.export_requester = job->requester;
  store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kApproveExport, "",
                                     "Export/" + std::string(request.Param("id")));
  if (!job.ok() && caller->actor.kind != access::ActorKind::kOperator) {
    // Deny non-operators without telling them whether the job exists.
    CLINSHUB_RETURN_IF_ERROR(Authorize(ctx, *caller, access::Action::kApproveExport, facts, event));
  }
  if (!job.ok()) return job.take_status();
  CLINSHUB_RETURN_IF_ERROR(Authorize(ctx, *caller, access::Action::kApproveExport, facts, event));
  if (job->state != store::ExportState::kRequested) {
    return Status::Error(ErrorCode::kConflict, "conflict",
                         "Export " + job->id + " is " + std::string(StateCode(job->state)) +
                             ", not awaiting approval");
  }
  store::ExportJob approved = *job;
  approved.state = store::ExportState::kApproved;
  approved.approver = caller->actor.id;
  event.reason = "Export requested by " + job->requester + " approved";
  event.http_status = 202;
  CLINSHUB_RETURN_IF_ERROR(CommitBatch(
      ctx, {store::PutExportJob{approved, store::ExportState::kRequested},
            store::AppendAudit{std::move(event)}}));
  Response r;
  r.status = 202;
  r.headers.Set("Content-Location", BaseUrl(ctx.config, request) + "/$export-status/" + job->id);
  return r;
}

Result<Response> ExportStatus(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyOperatorCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kReadExport, "",
                                     "Export/" + std::string(request.Param("id")));
  CLINSHUB_RETURN_IF_ERROR(Authorize(ctx, *caller, access::Action::kReadExport, {}, event));
  Result<store::ExportJob> job = JobOf(ctx, request);
  if (!job.ok()) return job.take_status();
  Response r;
  switch (job->state) {
    case store::ExportState::kRequested:
    case store::ExportState::kApproved:
    case store::ExportState::kRunning:
      r.status = 202;
      r.headers.Set("X-Progress", job->state == store::ExportState::kRequested
                                      ? "awaiting approval"
                                      : std::to_string(job->progress) + "%");
      r.headers.Set("Retry-After", "1");
      return r;
    case store::ExportState::kFailed:
      return InternalError("Export " + job->id + " failed: " + job->error);
    case store::ExportState::kExpired:
      return Status::Error(ErrorCode::kGone, "deleted",
                           "Export " + job->id + " expired; its files were deleted");
    case store::ExportState::kCompleted:
      break;
  }
  Result<Value> manifest = fhir::ParseJson(job->manifest_json);
  if (!manifest.ok()) return manifest.take_status();
  const std::string base = BaseUrl(ctx.config, request);
  manifest->Set("request", Value::String(base + std::string(manifest->StringAt("request"))));
  if (Value* output = manifest->FindMutable("output")) {
    for (Value& o : output->mutable_items()) {
      o.Set("url", Value::String(base + std::string(o.StringAt("url"))));
    }
  }
  r.status = 200;
  r.headers.Set("Content-Type", "application/json");
  r.headers.Set("Expires", HttpDate(*job->expires));
  r.body = fhir::WriteJson(*manifest);
  return r;
}

Result<Response> ExportFile(const InteractionContext& ctx, const Request& request) {
  Result<Caller> caller = IdentifyOperatorCaller(ctx, request);
  if (!caller.ok()) return caller.take_status();
  const std::string file(request.Param("file"));
  store::AuditEvent event = AuditFor(ctx, *caller, access::Action::kReadExport, "",
                                     "Export/" + std::string(request.Param("id")) + "/" + file);
  CLINSHUB_RETURN_IF_ERROR(Authorize(ctx, *caller, access::Action::kReadExport, {}, event));
  Result<store::ExportJob> job = JobOf(ctx, request);
  if (!job.ok()) return job.take_status();
  if (job->state == store::ExportState::kExpired ||
      (job->expires && *job->expires <= ctx.clock.Now())) {
    return Status::Error(ErrorCode::kGone, "deleted", "Export " + job->id + " expired");
  }
  if (job->state != store::ExportState::kCompleted ||
      job->manifest_json.find("/" + file + "\"") == std::string::npos) {
    return NotFoundError("No file " + file + " in export " + job->id);
  }
  std::ifstream in(std::filesystem::path(ctx.config.export_dir) / job->id / file,
                   std::ios::binary);
  if (!in) return NotFoundError("No file " + file + " in export " + job->id);
  std::ostringstream body;
  body << in.rdbuf();
  event.http_status = 200;
  event.action = "export-download";
  CLINSHUB_RETURN_IF_ERROR(CommitAudit(ctx, std::move(event)));
  Response r;
  r.status = 200;
  r.headers.Set("Content-Type", "application/fhir+ndjson");
  r.body = body.str();
  return r;
}

}  // namespace clinshub::api
