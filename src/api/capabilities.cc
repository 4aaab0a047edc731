// https://hl7.org/fhir/R4/http.html#capabilities
// The CapabilityStatement is generated from the Router's registrations and the configuration,
// so it cannot claim an interaction the server does not route.
#include <map>
#include <set>

#include "api/interactions.h"
#include "fhir/json.h"

namespace clinshub::api {
namespace {

fhir::Value Str(std::string s) { return fhir::Value::String(std::move(s)); }

// Order of interactions in the statement, as the spec lists them.
constexpr const char* kInteractionOrder[] = {"read",   "vread",  "update",          "patch",
                                             "delete", "history-instance", "history-type",
                                             "create", "search-type"};
// (A conditional delete is declared through conditionalDelete, not as an interaction.)

}  // namespace

Result<Response> Capabilities(const InteractionContext& ctx, const Request& request) {
  std::map<std::string, std::set<std::string>> by_type;
  std::map<std::string, std::set<std::string>> operations_by_type;
  for (const Route& route : ctx.router.routes()) {
    if (route.spec.interaction.empty()) continue;
    std::set<std::string> types = route.spec.types;
    // Literal routes such as "/Bundle/$status" name their type in the first segment.
    if (types.empty() && route.segments.size() >= 1) types.insert(route.segments[0]);
    for (const std::string& type : types) {
      if (route.spec.interaction == "operation") {
        if (route.segments.size() >= 2 && route.segments.back().starts_with("$")) {
          operations_by_type[type].insert(route.segments.back().substr(1));
          by_type[type];  // a type served only through operations is still listed
        }
      } else {
        by_type[type].insert(route.spec.interaction);
      }
    }
  }

  fhir::Value cs = fhir::Value::Object();
  cs.Set("resourceType", Str("CapabilityStatement"));
  cs.Set("status", Str("active"));
  cs.Set("date", Str(FormatInstant(ctx.clock.Now())));
  cs.Set("kind", Str("instance"));
  fhir::Value& software = cs.Set("software", fhir::Value::Object());
  software.Set("name", Str(ctx.config.software_name));
  if (!ctx.config.software_version.empty()) {
    software.Set("version", Str(ctx.config.software_version));
  }
  fhir::Value& implementation = cs.Set("implementation", fhir::Value::Object());
  implementation.Set("description",
                     Str("clinshub: JP-CLINS electronic health record information sharing hub"));
  if (!ctx.config.base_url.empty()) implementation.Set("url", Str(ctx.config.base_url));
  cs.Set("fhirVersion", Str("4.0.1"));
  fhir::Value& formats = cs.Set("format", fhir::Value::Array());
  formats.Append(Str("json"));
  formats.Append(Str("application/fhir+json"));

  fhir::Value rest = fhir::Value::Object();
  rest.Set("mode", Str("server"));
  if (ctx.config.tls) {
    fhir::Value& security = rest.Set("security", fhir::Value::Object());
    security.Set("description",
                 Str(ctx.config.client_certificates_required
                         ? "TLS with mutual authentication: clients present an institution "
                           "certificate issued by the operator's CA"
                         : "TLS"));
  }
  fhir::Value& resources = rest.Set("resource", fhir::Value::Array());
  for (const auto& [type, interactions] : by_type) {
    fhir::Value resource = fhir::Value::Object();
    resource.Set("type", Str(type));
    if (!interactions.empty()) {  // FHIR JSON arrays are never empty
      fhir::Value& list = resource.Set("interaction", fhir::Value::Array());
      for (const char* code : kInteractionOrder) {
        if (!interactions.contains(code)) continue;
        fhir::Value item = fhir::Value::Object();
        item.Set("code", Str(code));
        list.Append(std::move(item));
      }
    }
    resource.Set("versioning", Str("versioned"));
    resource.Set("readHistory", fhir::Value::Bool(interactions.contains("vread")));
    resource.Set("updateCreate", fhir::Value::Bool(interactions.contains("update")));
    if (interactions.contains("conditional-delete")) {
      resource.Set("conditionalDelete", Str("single"));
    } else if (interactions.contains("delete")) {
      resource.Set("conditionalDelete", Str("not-supported"));
    }
    if (auto ops = operations_by_type.find(type); ops != operations_by_type.end()) {
      fhir::Value& op_list = resource.Set("operation", fhir::Value::Array());
      for (const std::string& name : ops->second) {
        fhir::Value op = fhir::Value::Object();
        op.Set("name", Str(name));
        op.Set("definition", Str("urn:clinshub:OperationDefinition:" + type + "-" + name));
        op_list.Append(std::move(op));
      }
    }
    resources.Append(std::move(resource));
  }
  fhir::Value& rest_list = cs.Set("rest", fhir::Value::Array());
  rest_list.Append(std::move(rest));

  Response response;
  response.body = fhir::WriteJson(cs);
  response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
  return response;
}

}  // namespace clinshub::api
