#include "api/api.h"

#include <cctype>
#include <chrono>
#include <exception>

#include "api/content_coding.h"
#include "api/error_response.h"
#include "api/negotiation.h"
#include "api/request_target.h"
#include "fhir/json.h"
#include "fhir/model.h"

namespace clinshub::api {
namespace {

using Fn = Result<Response> (*)(const InteractionContext&, const Request&);

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

}  // namespace

Status ValidateApiConfig(const ApiConfig& config) {
  for (const auto* types : {&config.read_types, &config.write_types}) {
    for (const std::string& type : *types) {
      if (fhir::model::FindResourceType(type) == nullptr) {
        return MalformedError("'" + type + "' is not a FHIR R4 resource type");
      }
    }
  }
  return Status::Ok();
}

Api::Api(ApiConfig config, store::Store& store, const Clock& clock, IdGenerator& ids,
         Metrics& metrics, spdlog::logger& logger)
    : config_(std::move(config)),
      store_(store, metrics),
      clock_(clock),
      ids_(ids),
      metrics_(metrics),
      logger_(logger),
      page_cache_(clock, PageCache::Options{}),
      item_cache_(config_.item_cache_bytes, &RenderSummaryEntry),
      ctx_{store_, clock_, ids_, metrics_, config_, router_, page_cache_, item_cache_} {
  auto add = [this](std::string method, std::string pattern, std::string interaction,
                    std::set<std::string> types, bool fhir, Fn fn) {
    router_.Add(RouteSpec{std::move(method), std::move(pattern), std::move(interaction),
                          std::move(types), fhir},
                [this, fn](const Request& request) { return fn(ctx_, request); });
  };
  const auto& reads = config_.read_types;
  const auto& writes = config_.write_types;
  add("GET", "/metadata", "", {}, true, &Capabilities);
  // JP-CLINS reporting units: registered before the generic {type} routes, which match first.
  add("POST", "/Bundle", "create", {}, true, &SubmitBundle);
  add("DELETE", "/Bundle", "conditional-delete", {}, true, &WithdrawBundle);
  add("POST", "/Bundle/$restore", "operation", {}, true, &RestoreBundle);
  add("GET", "/Bundle/$status", "operation", {}, true, &BundleStatus);
  add("GET", "/Bundle/$inbox", "operation", {}, true, &ReferralInbox);
  add("POST", "/Bundle/$referral-consent", "operation", {}, true, &ReferralConsent);
  // Consent, the patient summary and the audit trail.
  add("POST", "/Consent", "create", {}, true, &CreateConsent);
  add("GET", "/Consent", "search-type", {}, true, &SearchConsents);
  add("GET", "/Consent/{id}", "read", {}, true, &ReadConsent);
  add("DELETE", "/Consent/{id}", "delete", {}, true, &RevokeConsent);
  add("GET", "/Patient/$summary", "operation", {}, true, &PatientSummary);
  add("GET", "/AuditEvent", "search-type", {}, true, &SearchAuditEvents);
  // FHIR search on the 6 information, one patient at a time, and the patient's documents.
  for (const char* type : {"Condition", "AllergyIntolerance", "Observation", "MedicationRequest"}) {
    add("GET", std::string("/") + type, "search-type", {}, true, &SearchClinical);
  }
  add("GET", "/Bundle", "search-type", {}, true, &SearchDocuments);
  // Institution directory and roster (operator loads; everyone searches the directory).
  add("GET", "/Organization", "search-type", {}, true, &SearchOrganizations);
  add("GET", "/Organization/{id}", "read", {}, true, &ReadOrganization);
  add("PUT", "/Organization/{id}", "update", {}, true, &PutOrganization);
  add("POST", "/$load-directory", "operation", {}, false, &LoadDirectory);
  add("POST", "/$load-roster", "operation", {}, false, &LoadRoster);
  // Public health (docs/public-health.md): 感染症発生届 and the minister's export.
  add("POST", "/Patient/$notification-draft", "operation", {}, true, &NotificationDraft);
  add("POST", "/Bundle/$notify", "operation", {}, true, &SubmitNotification);
  add("GET", "/Bundle/$notification-status", "operation", {}, true, &NotificationStatus);
  // The export is an operator endpoint, not a FHIR interaction on a resource type: unlisted
  // in the CapabilityStatement like /healthz.
  add("POST", "/$export-request", "", {}, false, &RequestExport);
  add("POST", "/$export-request/{id}/$approve", "", {}, false, &ApproveExport);
  add("GET", "/$export-status/{id}", "", {}, false, &ExportStatus);
  add("GET", "/$export-file/{id}/{file}", "", {}, false, &ExportFile);
  if (!reads.empty()) {
    add("GET", "/{type}/{id}", "read", reads, true, &ReadResource);
    add("GET", "/{type}/{id}/_history", "history-instance", reads, true, &HistoryInstance);
    add("GET", "/{type}/{id}/_history/{vid}", "vread", reads, true, &VreadResource);
  }
  if (!writes.empty()) {
    add("POST", "/{type}", "create", writes, true, &CreateResource);
    add("PUT", "/{type}/{id}", "update", writes, true, &UpdateResource);
    add("DELETE", "/{type}/{id}", "delete", writes, true, &DeleteResource);
  }
  add("GET", "/healthz", "", {}, false, &Healthz);
  add("GET", "/metrics", "", {}, false, &MetricsEndpoint);
}

Response Api::Handle(Request request) {
  auto start = std::chrono::steady_clock::now();
  metrics_.in_flight_requests().Increment();
  std::string route = "unmatched";
  Response response;
  try {
    response = Dispatch(request, route);
  } catch (const std::exception& e) {
    logger_.error("unhandled exception in {} {}: {}", request.method, route, e.what());
    response = ErrorResponse(InternalError(e.what()));
  } catch (...) {
    logger_.error("unhandled non-standard exception in {} {}", request.method, route);
    response = ErrorResponse(InternalError("unknown exception"));
  }
  // Every response, errors included, leaves through here: the one place bodies are coded.
  EncodeResponseBody(request, config_.gzip_responses, response);
  metrics_.in_flight_requests().Decrement();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_.ObserveRequest(route, request.method, response.status, seconds);
  // Route pattern, not the raw target: paths carry ids, and logs must not collect them.
  logger_.debug("{} {} -> {} ({:.3f} ms)", request.method, route, response.status,
                seconds * 1000);
  return response;
}

Response Api::Dispatch(Request& request, std::string& route_pattern) {
  if (!config_.trusted_subject_header.empty() && !request.secure && !request.client) {
    std::optional<std::string_view> subject = request.headers.Get(config_.trusted_subject_header);
    if (subject && !subject->empty()) request.client = ClientIdentity{std::string(*subject)};
  }
  RequestTarget target;
  Status parsed = ParseRequestTarget(request.target, target);
  if (!parsed.ok()) return RenderError(&request, parsed);
  request.path = std::move(target.path);
  request.query = std::move(target.query);

  RouteMatch match = router_.Match(request.method, request.path);
  if (match.kind == RouteMatch::Kind::kMethodNotAllowed) {
    Response response = RenderError(
        &request, Status::Error(ErrorCode::kMethodNotAllowed, "not-supported",
                                "Method " + request.method + " is not allowed here; allowed: " +
                                    Join(match.allow, ", ")));
    response.headers.Set("Allow", Join(match.allow, ", "));
    return response;
  }
  if (match.kind == RouteMatch::Kind::kNotFound) {
    std::string message = "No such endpoint";
    if (!request.path.empty()) {
      const std::string& first = request.path[0];
      if (fhir::model::FindResourceType(first) != nullptr) {
        message = "Resource type " + first + " is not served at this path by this server";
      } else if (!first.empty() && std::isupper(static_cast<unsigned char>(first[0]))) {
        message = "Unknown resource type '" + first + "'";
      }
    }
    return RenderError(&request, NotFoundError(message));
  }

  const Route& route = *match.route;
  route_pattern = route.spec.pattern;
  request.path_params = std::move(match.params);
  Status decoded = DecodeRequestBody(request, kMaxRequestBodyBytes);
  if (!decoded.ok()) return RenderError(&request, decoded);
  if (route.spec.fhir) {
    Status negotiated = NegotiateFhir(request);
    if (!negotiated.ok()) return RenderError(&request, negotiated);
  }
  Result<Response> result = route.handler(request);
  if (!result.ok()) return RenderError(&request, result.status());
  Response response = std::move(result).value();
  if (route.spec.fhir && WantsPretty(request) && !response.body.empty() &&
      !response.headers.Get("Content-Encoding")) {
    Result<fhir::Value> value = fhir::ParseJson(response.body);
    if (value.ok()) response.body = fhir::WriteJsonPretty(*value);
  }
  return response;
}

Response Api::RenderError(const Request* request, const Status& status) {
  if (HttpStatusFor(status.code()) >= 500) {
    logger_.error("{} failed: {}", request ? request->method : "transport",
                  status.ToString());
  }
  Response response = ErrorResponse(status);
  if (request != nullptr && WantsPretty(*request)) {
    Result<fhir::Value> value = fhir::ParseJson(response.body);
    if (value.ok()) response.body = fhir::WriteJsonPretty(*value);
  }
  return response;
}

Response Api::TransportError(const Status& status) {
  Response response = RenderError(nullptr, status);
  // After a framing error the rest of the byte stream cannot be trusted.
  response.keep_alive = false;
  return response;
}

}  // namespace clinshub::api
