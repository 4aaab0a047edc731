// Appending one JSON string literal to text being built by hand. Handlers that assemble a
// response from pieces of stored JSON (the patient summary) use it instead of building a
// fhir::Value and running the RapidJSON writer for every string: that cost a node, a writer
// and two heap strings per value. The escaping is exactly what fhir::WriteJson writes (json_test
// checks every byte), so responses are byte-for-byte unchanged.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace clinshub::fhir {

// The first position at or after `from` whose byte must be escaped (a control character, '"'
// or '\\'), or s.size(). Eight bytes at a time: nearly every string has none.
inline size_t NextJsonEscape(std::string_view s, size_t from) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  size_t i = from;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    // Per byte: below 0x20, or equal to '"' or '\\' (the usual has-zero-byte tricks; a hit
    // may flag a neighbour too, which the byte loop below sorts out).
    const uint64_t quote = x ^ (kOnes * '"');
    const uint64_t backslash = x ^ (kOnes * '\\');
    const uint64_t hits = ((x - kOnes * 0x20) | (quote - kOnes) | (backslash - kOnes)) & ~x &
                          kHighs;
    if (hits != 0) break;
  }
  for (; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\') return i;
  }
  return s.size();
}

// Appends `s` as a quoted JSON string: '"' and '\\' escaped, control characters as \b \f \n \r
// \t or \u00XX (upper-case hex), every other byte (UTF-8 included) verbatim.
inline void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  size_t run = 0;  // start of the bytes not yet copied: copied in runs, not one by one
  for (size_t i = NextJsonEscape(s, 0); i < s.size(); i = NextJsonEscape(s, i + 1)) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        const char esc[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(esc, sizeof esc);
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

// `s` as a quoted JSON string (AppendJsonString into a new string).
inline std::string JsonString(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

}  // namespace clinshub::fhir
