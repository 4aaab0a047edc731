#include "api/router.h"

#include <gtest/gtest.h>

namespace clinshub::api {
namespace {

Router MakeRouter() {
  Router router;
  auto ok = [](const Request&) -> Result<Response> { return Response{}; };
  router.Add({"GET", "/metadata", "", {}, true}, ok);
  router.Add({"GET", "/{type}/{id}", "read", {"Organization", "Patient"}, true}, ok);
  router.Add({"PUT", "/{type}/{id}", "update", {"Organization"}, true}, ok);
  router.Add({"DELETE", "/{type}/{id}", "delete", {"Organization"}, true}, ok);
  router.Add({"GET", "/{type}/{id}/_history/{vid}", "vread", {"Organization"}, true}, ok);
  return router;
}

struct Case {
  std::string method;
  std::vector<std::string> path;
  RouteMatch::Kind kind;
  std::string pattern;                 // kFound
  std::vector<std::string> allow;      // kMethodNotAllowed
};

TEST(RouterTest, MatchesByMethodPathAndResourceType) {
  Router router = MakeRouter();
  const Case cases[] = {
      {"GET", {"metadata"}, RouteMatch::Kind::kFound, "/metadata", {}},
      {"GET", {"Patient", "p1"}, RouteMatch::Kind::kFound, "/{type}/{id}", {}},
      {"PUT", {"Organization", "o1"}, RouteMatch::Kind::kFound, "/{type}/{id}", {}},
      {"GET", {"Organization", "o1", "_history", "2"}, RouteMatch::Kind::kFound,
       "/{type}/{id}/_history/{vid}", {}},
      // Patient is readable but not writable: path known, method not.
      {"PUT", {"Patient", "p1"}, RouteMatch::Kind::kMethodNotAllowed, "", {"GET"}},
      {"POST", {"Organization", "o1"}, RouteMatch::Kind::kMethodNotAllowed, "",
       {"DELETE", "GET", "PUT"}},
      {"POST", {"metadata"}, RouteMatch::Kind::kMethodNotAllowed, "", {"GET"}},
      {"GET", {"Foo", "1"}, RouteMatch::Kind::kNotFound, "", {}},
      {"GET", {"Patient", "p1", "_history", "1"}, RouteMatch::Kind::kNotFound, "", {}},
      {"GET", {}, RouteMatch::Kind::kNotFound, "", {}},
      {"GET", {"Organization", "o1", "extra"}, RouteMatch::Kind::kNotFound, "", {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " /" + (c.path.empty() ? "" : c.path[0]));
    RouteMatch m = router.Match(c.method, c.path);
    EXPECT_EQ(m.kind, c.kind);
    if (c.kind == RouteMatch::Kind::kFound) { EXPECT_EQ(m.route->spec.pattern, c.pattern); }
    EXPECT_EQ(m.allow, c.allow);
  }
}

TEST(RouterTest, CapturesVariables) {
  Router router = MakeRouter();
  RouteMatch m = router.Match("GET", {"Organization", "o-1", "_history", "7"});
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.params["type"], "Organization");
  EXPECT_EQ(m.params["id"], "o-1");
  EXPECT_EQ(m.params["vid"], "7");
}

}  // namespace
}  // namespace clinshub::api
