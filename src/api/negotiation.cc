#include "api/negotiation.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>
#include <vector>

namespace clinshub::api {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (true) {
    size_t next = s.find(sep, pos);
    out.push_back(Trim(s.substr(pos, next == std::string_view::npos ? next : next - pos)));
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return out;
}

struct MediaType {
  std::string type;  // "application/fhir+json", lower case
  std::vector<std::pair<std::string, std::string>> params;  // names lower case
};

MediaType ParseMediaType(std::string_view text) {
  std::vector<std::string_view> parts = Split(text, ';');
  MediaType mt;
  mt.type = Lower(parts[0]);
  for (size_t i = 1; i < parts.size(); ++i) {
    size_t eq = parts[i].find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view value = Trim(parts[i].substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    mt.params.emplace_back(Lower(Trim(parts[i].substr(0, eq))), std::string(value));
  }
  return mt;
}

bool IsJsonType(std::string_view type) {
  return type == "application/fhir+json" || type == "application/json";
}

// q-value in [0, 1]; malformed q counts as 1 (be lenient with what clients send).
double QValue(const MediaType& mt) {
  for (const auto& [name, value] : mt.params) {
    if (name != "q") continue;
    double q = 1.0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), q);
    if (ec != std::errc() || q < 0 || q > 1) return 1.0;
    return q;
  }
  return 1.0;
}

Status NotAcceptable(std::string message) {
  return Status::Error(ErrorCode::kNotAcceptable, "not-supported", std::move(message));
}

}  // namespace

Status CheckRequestContentType(std::optional<std::string_view> content_type) {
  auto unsupported = [](std::string message) {
    return Status::Error(ErrorCode::kUnsupportedMediaType, "not-supported", std::move(message));
  };
  if (!content_type || Trim(*content_type).empty()) {
    return unsupported("Missing Content-Type; send application/fhir+json");
  }
  MediaType mt = ParseMediaType(*content_type);
  if (!IsJsonType(mt.type)) {
    return unsupported("Unsupported Content-Type '" + std::string(*content_type) +
                       "'; this server accepts application/fhir+json");
  }
  for (const auto& [name, value] : mt.params) {
    if (name == "charset" && Lower(value) != "utf-8") {
      return unsupported("Unsupported charset '" + value + "'; FHIR JSON is UTF-8");
    }
  }
  return Status::Ok();
}

Status CheckResponseFormat(std::optional<std::string_view> format_param,
                           std::optional<std::string_view> accept) {
  if (format_param) {
    // '+' arrives as a space when the client did not percent-encode it.
    std::string f = Lower(Trim(*format_param));
    if (f == "json" || f == "application/json" || f == "application/fhir+json" ||
        f == "application/fhir json") {
      return Status::Ok();
    }
    return NotAcceptable("_format '" + std::string(*format_param) +
                         "' is not supported; this server produces JSON only");
  }
  if (!accept || Trim(*accept).empty()) return Status::Ok();
  for (std::string_view range : Split(*accept, ',')) {
    if (range.empty()) continue;
    MediaType mt = ParseMediaType(range);
    if (QValue(mt) <= 0) continue;
    if (IsJsonType(mt.type) || mt.type == "*/*" || mt.type == "application/*") {
      return Status::Ok();
    }
  }
  return NotAcceptable("None of the formats in Accept '" + std::string(*accept) +
                       "' is supported; this server produces application/fhir+json");
}

Status NegotiateFhir(const Request& request) {
  CLINSHUB_RETURN_IF_ERROR(
      CheckResponseFormat(request.query.First("_format"), request.headers.Get("Accept")));
  if (request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
    // An operation invoked by POST without parameters ($restore) has no body to describe.
    if (!request.body.empty() || request.headers.Get("Content-Type")) {
      CLINSHUB_RETURN_IF_ERROR(CheckRequestContentType(request.headers.Get("Content-Type")));
    }
  }
  return Status::Ok();
}

bool WantsPretty(const Request& request) {
  auto pretty = request.query.First("_pretty");
  return pretty && *pretty == "true";
}

}  // namespace clinshub::api
