#include "api/resource_id.h"

#include <charconv>
#include <string>

namespace clinshub::api {

bool IsValidResourceId(std::string_view id) {
  constexpr size_t kMaxIdLength = 64;  // FHIR R4 id datatype
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

Status CheckResourceId(std::string_view id) {
  if (IsValidResourceId(id)) return Status::Ok();
  return Status::Error(ErrorCode::kMalformed, "value",
                       "Invalid resource id: must be 1-64 characters of A-Z, a-z, 0-9, '-' "
                       "and '.'");
}

std::optional<int64_t> ParseVersionId(std::string_view text) {
  if (text.empty() || text.size() > 18 || text[0] == '0') return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

}  // namespace clinshub::api
