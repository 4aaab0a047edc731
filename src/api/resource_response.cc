#include "api/resource_response.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "api/resource_id.h"

namespace clinshub::api {
namespace {

constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

}  // namespace

std::string WeakETag(int64_t version) { return "W/\"" + std::to_string(version) + "\""; }

std::optional<int64_t> ParseETag(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.starts_with("W/")) text.remove_prefix(2);
  if (text.size() < 3 || text.front() != '"' || text.back() != '"') return std::nullopt;
  return ParseVersionId(text.substr(1, text.size() - 2));
}

Result<std::optional<int64_t>> IfMatchVersion(const Request& request) {
  auto header = request.headers.Get("If-Match");
  if (!header) return std::optional<int64_t>();
  auto version = ParseETag(*header);
  if (!version) {
    return Status::Error(ErrorCode::kMalformed, "value",
                         "If-Match must be a version ETag such as W/\"3\"");
  }
  return std::optional<int64_t>(*version);
}

std::string HttpDate(Timestamp t) {
  std::time_t secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::optional<Timestamp> ParseHttpDate(std::string_view text) {
  char day[4] = {}, month[4] = {};
  std::tm tm{};
  std::string s(text);
  if (std::sscanf(s.c_str(), "%3s, %d %3s %d %d:%d:%d GMT", day, &tm.tm_mday, month,
                  &tm.tm_year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 7) {
    return std::nullopt;
  }
  tm.tm_mon = -1;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (std::string_view(month) == kMonths[i]) tm.tm_mon = static_cast<int>(i);
  }
  if (tm.tm_mon < 0) return std::nullopt;
  tm.tm_year -= 1900;
  std::time_t secs = timegm(&tm);
  if (secs == -1) return std::nullopt;
  return Timestamp(std::chrono::seconds(secs));
}

std::string BaseUrl(const ApiConfig& config, const Request& request) {
  std::string base = config.base_url;
  if (base.empty()) {
    auto host = request.headers.Get("Host");
    base = std::string(request.secure ? "https://" : "http://") +
           std::string(host ? *host : "localhost");
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

Response ResourceResponse(int status, store::ResourceVersion version) {
  Response response;
  response.status = status;
  response.body = std::move(version.json);
  response.headers.Set("Content-Type", std::string(kFhirJsonContentType));
  response.headers.Set("ETag", WeakETag(version.version));
  response.headers.Set("Last-Modified", HttpDate(version.last_updated));
  return response;
}

bool PrefersRepresentation(const Request& request) {
  auto prefer = request.headers.Get("Prefer");
  return prefer && prefer->find("return=representation") != std::string_view::npos;
}

bool WantsMinimal(const Request& request) {
  auto prefer = request.headers.Get("Prefer");
  return prefer && prefer->find("return=minimal") != std::string_view::npos;
}

}  // namespace clinshub::api
