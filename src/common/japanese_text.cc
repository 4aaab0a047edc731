#include "common/japanese_text.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

namespace clinshub {
namespace {

constexpr UChar32 kKatakanaSmallA = 0x30A1;  // ァ
constexpr UChar32 kKatakanaVu = 0x30F6;      // ヶ: last katakana with a hiragana twin
constexpr UChar32 kKatakanaToHiragana = 0x60;
constexpr UChar32 kFullWidthFirst = 0xFF01;  // ！
constexpr UChar32 kFullWidthLast = 0xFF5E;   // ～
constexpr UChar32 kFullWidthOffset = 0xFEE0;
constexpr UChar32 kIdeographicSpace = 0x3000;

void AppendUtf8(std::string& out, UChar32 c) {
  char buf[U8_MAX_LENGTH];
  int32_t n = 0;
  UBool error = false;
  U8_APPEND(reinterpret_cast<uint8_t*>(buf), n, U8_MAX_LENGTH, c, error);
  if (!error) out.append(buf, static_cast<size_t>(n));
}

// Decodes UTF-8, calling f for every code point; malformed bytes become U+FFFD.
template <typename F>
void ForEachCodePoint(std::string_view s, F&& f) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  int32_t i = 0;
  const auto n = static_cast<int32_t>(s.size());
  while (i < n) {
    UChar32 c;
    U8_NEXT(p, i, n, c);
    f(c < 0 ? 0xFFFD : c);
  }
}

}  // namespace

std::string NormaliseForSearch(std::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(status);
  icu::UnicodeString normalised;
  if (U_SUCCESS(status)) {
    normalised = nfkc_cf->normalize(
        icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size()))),
        status);
  }
  std::string utf8;
  if (U_SUCCESS(status)) {
    normalised.toUTF8String(utf8);
  } else {
    utf8.assign(text);  // ICU data missing: still collapse spaces and map kana below.
  }

  std::string out;
  out.reserve(utf8.size());
  bool pending_space = false;
  ForEachCodePoint(utf8, [&](UChar32 c) {
    if (u_isUWhiteSpace(c)) {
      pending_space = !out.empty();
      return;
    }
    if (pending_space) {
      out.push_back(' ');
      pending_space = false;
    }
    if (c >= kKatakanaSmallA && c <= kKatakanaVu) c -= kKatakanaToHiragana;
    AppendUtf8(out, c);
  });
  return out;
}

std::string NormaliseIdentifier(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  ForEachCodePoint(text, [&](UChar32 c) {
    if (c >= kFullWidthFirst && c <= kFullWidthLast) c -= kFullWidthOffset;
    if (c == kIdeographicSpace) c = ' ';
    AppendUtf8(out, c);
  });
  const auto first = out.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = out.find_last_not_of(" \t\r\n");
  return out.substr(first, last - first + 1);
}

}  // namespace clinshub
