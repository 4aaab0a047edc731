#include "clins/codes.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace clinshub::clins {
namespace {

struct Jlac10Row {
  std::string_view code;
  LabList list;
};
constexpr Jlac10Row kJlac10[] = {
#include "clins/tables/jlac10_codes.inc"
};

struct JfagyRow {
  std::string_view code;
  uint32_t last_day;
};
constexpr JfagyRow kJfagy[] = {
#include "clins/tables/jfagy_codes.inc"
};

template <typename Row, size_t N>
const Row* Lookup(const Row (&rows)[N], std::string_view code) {
  const auto* it = std::lower_bound(std::begin(rows), std::end(rows), code,
                                    [](const Row& r, std::string_view c) { return r.code < c; });
  return it != std::end(rows) && it->code == code ? it : nullptr;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool AllDigits(std::string_view s) { return std::all_of(s.begin(), s.end(), IsDigit); }

// Decodes one UTF-8 code point; returns 0xFFFD and advances one byte when malformed.
char32_t NextCodePoint(std::string_view s, size_t& i) {
  const auto b = static_cast<unsigned char>(s[i]);
  int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return 0xFFFD;
  }
  char32_t c = len == 1 ? b : b & (0xFF >> (len + 1));
  for (int k = 1; k < len; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += len;
  return c;
}

std::vector<std::string_view> SplitColons(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == ':') {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

constexpr char32_t kIdeographicSpace = 0x3000;
constexpr char32_t kFullWidthFirst = 0xFF01;
constexpr char32_t kFullWidthLast = 0xFF5E;

// A 記号/番号 component: no colon, caret or white space (half- or full-width), and not a mix of
// half-width and full-width alphanumerics. Returns the number of code points, or nullopt.
std::optional<size_t> MemberComponentLength(std::string_view s, std::string_view& problem) {
  bool half = false, full = false;
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    const char32_t c = NextCodePoint(s, i);
    ++n;
    if (c == ':' || c == '^' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
        c == '\v' || c == kIdeographicSpace) {
      problem = "記号/番号 must not contain colons, carets or spaces (half- or full-width)";
      return std::nullopt;
    }
    if (c == 0xFFFD) {
      problem = "記号/番号 contains malformed text";
      return std::nullopt;
    }
    if (c < 0x80) half = true;
    if (c >= kFullWidthFirst && c <= kFullWidthLast) full = true;
  }
  if (half && full) {
    problem = "記号/番号 mixes half-width and full-width characters within one component";
    return std::nullopt;
  }
  return n;
}

}  // namespace

std::optional<LabList> FindJlac10(std::string_view code) {
  const auto* row = Lookup(kJlac10, code);
  return row ? std::optional<LabList>(row->list) : std::nullopt;
}

std::optional<uint32_t> FindJfagy(std::string_view code) {
  const auto* row = Lookup(kJfagy, code);
  return row ? std::optional<uint32_t>(row->last_day) : std::nullopt;
}

bool IsInstitutionCode(std::string_view s) {
  return s.size() == 10 && AllDigits(s) && s[0] <= '4' && s[2] >= '1' && s[2] <= '3';
}

bool IsUrnUuid(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:uuid:";
  if (s.size() != kPrefix.size() + 36 || s.substr(0, kPrefix.size()) != kPrefix) return false;
  const std::string_view u = s.substr(kPrefix.size());
  for (size_t i = 0; i < u.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = u[i];
    if (dash ? c != '-' : !(IsDigit(c) || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsBundleIdentifierValue(std::string_view s) {
  // 10 + '^' + 4 + '^' + 1..36
  if (s.size() < 17 || s.size() > 52) return false;
  if (!IsInstitutionCode(s.substr(0, 10)) || s[10] != '^') return false;
  const std::string_view year = s.substr(11, 4);
  if (!AllDigits(year) || year[0] != '2' || year[1] != '0' || year[2] < '2' || year[2] > '3')
    return false;
  if (s[15] != '^') return false;
  const std::string_view local = s.substr(16);
  return !local.empty() && local.size() <= 36 &&
         std::all_of(local.begin(), local.end(), [](char c) {
           return IsDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-';
         });
}

bool IsMedisDiseaseId(std::string_view s) { return s.size() == 8 && AllDigits(s); }

bool IsYjShapedCode(std::string_view s) {
  if (s.size() != 12 || !AllDigits(s.substr(0, 7)) || s[7] < 'A' || s[7] > 'Z') return false;
  return std::all_of(s.begin() + 8, s.end(),
                     [](char c) { return IsDigit(c) || (c >= 'A' && c <= 'Z'); });
}

std::optional<std::string_view> InsuranceMemberIdProblem(std::string_view value) {
  const auto parts = SplitColons(value);
  if (parts.size() != 4) {
    return "must be 保険者番号:記号:番号:枝番 (four fields separated by half-width colons)";
  }
  if (parts[0].size() != 8 || !AllDigits(parts[0])) {
    return "保険者番号 must be 8 half-width digits";
  }
  std::string_view problem;
  for (int i = 1; i <= 2; ++i) {
    if (!MemberComponentLength(parts[i], problem)) return problem;
  }
  if (!(parts[3].empty() || (parts[3].size() == 2 && AllDigits(parts[3])))) {
    return "枝番 must be empty or 2 half-width digits";
  }
  return std::nullopt;
}

std::optional<std::string_view> PublicPayerMemberIdProblem(std::string_view value) {
  const auto parts = SplitColons(value);
  if (parts.size() != 4 || !parts[1].empty() || !parts[3].empty()) {
    return "must be 公費負担者番号::受給者番号: (8 digits, empty, 7 characters, empty)";
  }
  if (parts[0].size() != 8 || !AllDigits(parts[0])) {
    return "公費負担者番号 must be 8 half-width digits";
  }
  std::string_view problem;
  const auto n = MemberComponentLength(parts[2], problem);
  if (!n) return problem;
  if (*n != 7) return "受給者番号 must be 7 characters";
  return std::nullopt;
}

}  // namespace clinshub::clins
