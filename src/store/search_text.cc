#include "store/search_text.h"

#include "common/japanese_text.h"

namespace clinshub::store {

std::string DigitsOf(std::string_view text) {
  std::string normalised = NormaliseForSearch(text);  // full-width digits become ASCII
  std::string digits;
  for (char c : normalised) {
    if (c >= '0' && c <= '9') digits += c;
  }
  return digits;
}

std::string LikePattern(std::string_view literal, bool contains) {
  std::string p;
  if (contains) p += '%';
  for (char c : literal) {
    if (c == '%' || c == '_' || c == '\\') p += '\\';
    p += c;
  }
  p += '%';
  return p;
}

}  // namespace clinshub::store
