#include "api/request_target.h"

#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace clinshub::api {

Status ParseRequestTarget(std::string_view target, RequestTarget& out) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) {
    return MalformedError("The request target is not a valid URL path: " +
                          parsed.error().message());
  }
  const boost::urls::url_view& url = *parsed;
  out.path.clear();
  for (auto segment : url.segments()) out.path.emplace_back(segment);
  if (!out.path.empty() && out.path.back().empty()) out.path.pop_back();

  out.query = QueryParams();
  if (url.has_query()) {
    boost::urls::encoding_opts opts;
    opts.space_as_plus = true;
    for (auto param : url.params(opts)) {
      out.query.Add(std::string(param.key), param.has_value ? std::string(param.value) : "");
    }
  }
  return Status::Ok();
}

}  // namespace clinshub::api
