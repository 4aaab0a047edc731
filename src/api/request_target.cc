#include "api/request_target.h"

#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace clinshub::api {

namespace {

// FHIR clients routinely send token separators and other characters RFC 3986 does not allow
// in a query unescaped (`identifier=system|value`, `^` in JP-CLINS bundle identifiers, raw
// UTF-8). Escape exactly those before the strict parse, so they mean what the client meant.
std::string EscapeLenientQuery(std::string_view target) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return std::string(target);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out(target.substr(0, q + 1));
  for (unsigned char c : target.substr(q + 1)) {
    bool lenient = c >= 0x80 || c == '|' || c == '^' || c == '`' || c == '{' || c == '}' ||
                   c == '"' || c == '<' || c == '>' || c == '\\' || c == '[' || c == ']';
    if (lenient) {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

}  // namespace

Status ParseRequestTarget(std::string_view raw_target, RequestTarget& out) {
  const std::string target = EscapeLenientQuery(raw_target);
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
