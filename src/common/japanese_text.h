// Normalisation of Japanese text for matching: names and search strings, and identifiers
// (insurance member ids arrive with full-width digits as often as half-width ones).
//
// Pure functions on UTF-8; thread-safe. Invalid UTF-8 sequences are replaced by U+FFFD.
#pragma once

#include <string>
#include <string_view>

namespace clinshub {

// For search columns and search parameters: NFKC, case fold, katakana → hiragana, every run of
// white space (including 全角空白) → one ASCII space, trimmed.
// "ﾔﾏﾀﾞ　ﾀﾛｳ ＡＢＣ１２３" → "やまだ たろう abc123".
std::string NormaliseForSearch(std::string_view text);

// For identifiers used as keys: full-width ASCII (U+FF01–U+FF5E) → ASCII, 全角空白 → space,
// leading/trailing white space removed. Everything else (kana, kanji) is kept as sent, because
// 記号 written in kana is part of the identifier.  "00012345:あいう:１８７:05" →
// "00012345:あいう:187:05".
std::string NormaliseIdentifier(std::string_view text);

}  // namespace clinshub
