#include "api/router.h"

#include <algorithm>
#include <cassert>

namespace clinshub::api {
namespace {

std::vector<std::string> SplitPattern(std::string_view pattern) {
  std::vector<std::string> out;
  size_t pos = pattern.starts_with('/') ? 1 : 0;
  while (pos < pattern.size()) {
    size_t slash = pattern.find('/', pos);
    if (slash == std::string_view::npos) slash = pattern.size();
    out.emplace_back(pattern.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

bool IsVariable(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool PathMatches(const Route& route, const std::vector<std::string>& path,
                 std::map<std::string, std::string, std::less<>>* params) {
  if (route.segments.size() != path.size()) return false;
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string& seg = route.segments[i];
    if (!IsVariable(seg)) {
      if (seg != path[i]) return false;
      continue;
    }
    std::string name = seg.substr(1, seg.size() - 2);
    if (name == "type" && !route.spec.types.contains(path[i])) return false;
    if (params != nullptr) (*params)[name] = path[i];
  }
  return true;
}

}  // namespace

void Router::Add(RouteSpec spec, Handler handler) {
  Route route{std::move(spec), {}, std::move(handler)};
  route.segments = SplitPattern(route.spec.pattern);
  assert((std::find(route.segments.begin(), route.segments.end(), "{type}") !=
          route.segments.end()) == !route.spec.types.empty() &&
         "a {type} route needs its resource types, and only such a route");
  routes_.push_back(std::move(route));
}

RouteMatch Router::Match(std::string_view method, const std::vector<std::string>& path) const {
  RouteMatch result;
  std::set<std::string> allow;
  for (const Route& route : routes_) {
    if (!PathMatches(route, path, nullptr)) continue;
    if (route.spec.method == method) {
      result.kind = RouteMatch::Kind::kFound;
      result.route = &route;
      PathMatches(route, path, &result.params);
      return result;
    }
    allow.insert(route.spec.method);
  }
  if (!allow.empty()) {
    result.kind = RouteMatch::Kind::kMethodNotAllowed;
    result.allow.assign(allow.begin(), allow.end());
  }
  return result;
}

}  // namespace clinshub::api
