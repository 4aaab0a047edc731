// Maps method + path pattern to a handler. Patterns are literal segments and variables:
// "/{type}/{id}/_history/{vid}". The variable "type" only matches the resource types the
// route was registered for; other variables match any single segment (handlers validate
// them, so a bad id is a 400, not a 404).
//
// Build the Router once, then share it: Match() is const and thread-safe.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.h"
#include "common/result.h"

namespace clinshub::api {

using Handler = std::function<Result<Response>(const Request&)>;

struct RouteSpec {
  std::string method;   // "GET"
  std::string pattern;  // "/{type}/{id}"
  // FHIR interaction code for the CapabilityStatement ("read", "vread", "history-instance",
  // "update", "create", "delete"); empty for non-FHIR routes (/healthz, /metrics).
  std::string interaction;
  // Resource types "{type}" matches; required iff the pattern has "{type}".
  std::set<std::string> types;
  // FHIR content negotiation applies (Accept/_format → 406, request Content-Type → 415).
  bool fhir = true;
};

struct Route {
  RouteSpec spec;
  std::vector<std::string> segments;  // pattern split on '/'
  Handler handler;
};

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed };
  Kind kind = Kind::kNotFound;
  const Route* route = nullptr;  // kFound only
  std::map<std::string, std::string, std::less<>> params;  // kFound only
  std::vector<std::string> allow;  // kMethodNotAllowed: methods that would match, sorted
};

class Router {
 public:
  void Add(RouteSpec spec, Handler handler);
  RouteMatch Match(std::string_view method, const std::vector<std::string>& path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace clinshub::api
