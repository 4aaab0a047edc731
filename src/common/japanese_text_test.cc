#include "common/japanese_text.h"

#include <gtest/gtest.h>

namespace clinshub {
namespace {

struct Case {
  const char* name;
  const char* in;
  const char* want;
};

TEST(NormaliseForSearchTest, FoldsWidthKanaCaseAndSpaces) {
  const Case cases[] = {
      {"half-width kana and full-width latin", "ﾔﾏﾀﾞ　ﾀﾛｳ ＡＢＣ１２３", "やまだ たろう abc123"},
      {"katakana to hiragana", "ヤマダ タロウ", "やまだ たろう"},
      {"runs of spaces collapse and trim", "  山田 \t　 太郎  ", "山田 太郎"},
      {"kanji untouched", "牧野爛漫", "牧野爛漫"},
      {"upper case folds", "ABC def", "abc def"},
      {"small kana and ヴ map", "ァヴヶ", "ぁゔゖ"},
      {"empty", "", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(NormaliseForSearch(c.in), c.want) << c.name;
}

TEST(NormaliseIdentifierTest, MapsFullWidthAsciiAndTrims) {
  const Case cases[] = {
      {"full-width digits in 番号", "00012345:あいう:１８７:05", "00012345:あいう:187:05"},
      {"full-width letters and colon", "ＡＢ１：２", "AB1:2"},
      {"trims both kinds of space", "　 12345 ", "12345"},
      {"kana 記号 kept as sent", "カナ", "カナ"},
      {"empty", "", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(NormaliseIdentifier(c.in), c.want) << c.name;
}

}  // namespace
}  // namespace clinshub
