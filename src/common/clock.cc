#include "common/clock.h"

#include <cstdio>

namespace clinshub {

std::string FormatInstant(Timestamp t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd(day);
  const hh_mm_ss<microseconds> tod(t - day);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03ldZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<long>(tod.hours().count()),
                static_cast<long>(tod.minutes().count()),
                static_cast<long>(tod.seconds().count()),
                static_cast<long>(tod.subseconds().count() / 1000));
  return buf;
}

namespace {

// Reads exactly n digits at text[pos], advancing pos.
bool ReadDigits(std::string_view text, size_t& pos, int n, int& out) {
  if (pos + n > text.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

}  // namespace

std::optional<Timestamp> ParseFhirDateTime(std::string_view text) {
  using namespace std::chrono;
  size_t pos = 0;
  int y = 0, mo = 1, d = 1, h = 0, mi = 0, s = 0;
  long long micros = 0;
  if (!ReadDigits(text, pos, 4, y)) return std::nullopt;
  if (pos < text.size()) {
    if (text[pos++] != '-' || !ReadDigits(text, pos, 2, mo)) return std::nullopt;
    if (pos < text.size()) {
      if (text[pos++] != '-' || !ReadDigits(text, pos, 2, d)) return std::nullopt;
    }
  }
  int offset_minutes = 0;
  if (pos < text.size()) {
    if (text[pos++] != 'T') return std::nullopt;
    if (!ReadDigits(text, pos, 2, h) || pos >= text.size() || text[pos++] != ':' ||
        !ReadDigits(text, pos, 2, mi) || pos >= text.size() || text[pos++] != ':' ||
        !ReadDigits(text, pos, 2, s)) {
      return std::nullopt;
    }
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      int digits = 0;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (digits < 6) micros = micros * 10 + (text[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return std::nullopt;
      for (int i = digits; i < 6; ++i) micros *= 10;
    }
    // A time must carry a zone in FHIR.
    if (pos >= text.size()) return std::nullopt;
    if (text[pos] == 'Z') {
      ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
      int sign = text[pos++] == '-' ? -1 : 1;
      int oh = 0, om = 0;
      if (!ReadDigits(text, pos, 2, oh) || pos >= text.size() || text[pos++] != ':' ||
          !ReadDigits(text, pos, 2, om) || oh > 14 || om > 59) {
        return std::nullopt;
      }
      offset_minutes = sign * (oh * 60 + om);
    } else {
      return std::nullopt;
    }
  }
  if (pos != text.size()) return std::nullopt;
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)),
                           day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  auto t = sys_days(ymd) + hours(h) + minutes(mi) + seconds(s) + microseconds(micros) -
           minutes(offset_minutes);
  return time_point_cast<microseconds>(t);
}

}  // namespace clinshub
