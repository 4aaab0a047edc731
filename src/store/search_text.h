// Text forms the backends store and match for directory search, shared so that SQLite and
// PostgreSQL normalise and escape identically.
#pragma once

#include <string>
#include <string_view>

namespace clinshub::store {

// The ASCII digits of `text` after NFKC (full-width digits count): postcodes and phone numbers.
std::string DigitsOf(std::string_view text);

// A LIKE pattern (ESCAPE '\') matching `literal` as a prefix, or anywhere when `contains`.
std::string LikePattern(std::string_view literal, bool contains);

}  // namespace clinshub::store
