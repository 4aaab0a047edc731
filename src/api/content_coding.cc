#include "api/content_coding.h"

#include <charconv>
#include <string>
#include <string_view>

#include "common/gzip.h"

namespace clinshub::api {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// "gzip;q=0.5" → ("gzip", 0.5). A malformed weight counts as 1: be lenient with clients.
std::pair<std::string_view, double> CodingAndWeight(std::string_view item) {
  const size_t semi = item.find(';');
  std::string_view coding = Trim(item.substr(0, semi));
  double q = 1.0;
  while (semi != std::string_view::npos) {
    std::string_view params = item.substr(semi + 1);
    const size_t eq = params.find('=');
    if (eq == std::string_view::npos || !EqualsIgnoreCase(Trim(params.substr(0, eq)), "q")) break;
    std::string_view value = Trim(params.substr(eq + 1, params.find(';', eq) - eq - 1));
    double parsed = 1.0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (ec == std::errc() && parsed >= 0 && parsed <= 1) q = parsed;
    break;
  }
  return {coding, q};
}

bool IsGzip(std::string_view coding) {
  return EqualsIgnoreCase(coding, "gzip") || EqualsIgnoreCase(coding, "x-gzip");
}

}  // namespace

bool AcceptsGzip(const Request& request) {
  std::optional<double> gzip_q, any_q;
  for (const auto& [name, value] : request.headers.fields()) {
    if (!EqualsIgnoreCase(name, "Accept-Encoding")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      auto [coding, q] = CodingAndWeight(rest.substr(0, comma));
      if (IsGzip(coding)) gzip_q = q;
      if (coding == "*") any_q = q;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (gzip_q) return *gzip_q > 0;
  return any_q && *any_q > 0;
}

Status DecodeRequestBody(Request& request, size_t max_bytes) {
  std::optional<std::string_view> coding = request.headers.Get("Content-Encoding");
  if (!coding) return Status::Ok();
  std::string_view c = Trim(*coding);
  if (c.empty() || EqualsIgnoreCase(c, "identity")) {
    request.headers.Remove("Content-Encoding");
    return Status::Ok();
  }
  if (!IsGzip(c)) {
    return Status::Error(ErrorCode::kUnsupportedMediaType, "not-supported",
                         "Unsupported Content-Encoding '" + std::string(c) +
                             "'; this server decodes gzip request bodies only");
  }
  Result<std::string> decoded = Gunzip(request.body, max_bytes);
  if (!decoded.ok()) {
    const Status& s = decoded.status();
    return Status::Error(s.code(), s.code() == ErrorCode::kPayloadTooLarge ? "too-long" : "structure",
                         "Content-Encoding gzip: " + s.message());
  }
  request.body = std::move(decoded).value();
  request.headers.Remove("Content-Encoding");
  return Status::Ok();
}

void EncodeResponseBody(const Request& request, bool enabled, Response& response) {
  if (!enabled) return;
  if (response.headers.Get("Content-Encoding")) {
    response.headers.Set("Vary", "Accept-Encoding");
    return;
  }
  if (response.body.size() < kGzipMinBytes) return;
  response.headers.Set("Vary", "Accept-Encoding");
  if (!AcceptsGzip(request)) return;
  response.body = Gzip(response.body);
  response.headers.Set("Content-Encoding", "gzip");
}

}  // namespace clinshub::api
