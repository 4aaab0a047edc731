// The project's own JSON element tree for FHIR resources.
//
// Objects keep member order as parsed (FHIR JSON is order-insensitive, but keeping the order
// makes round-trips byte-stable). Numbers keep their exact source text ("1.50" stays "1.50"),
// because FHIR decimals carry precision in their representation.
//
// A Value is a plain value type: copyable, movable, not thread-safe for concurrent mutation,
// safe for concurrent reads.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace clinshub::fhir {

enum class JsonType { kNull, kBool, kNumber, kString, kArray, kObject };

class Value {
 public:
  using Member = std::pair<std::string, Value>;

  Value() = default;  // null
  static Value Bool(bool b);
  // `raw` must be a valid JSON number token; it is written back verbatim.
  static Value Number(std::string raw);
  static Value String(std::string s);
  static Value Array();
  static Value Object();

  JsonType type() const { return type_; }
  bool is_null() const { return type_ == JsonType::kNull; }
  bool is_bool() const { return type_ == JsonType::kBool; }
  bool is_number() const { return type_ == JsonType::kNumber; }
  bool is_string() const { return type_ == JsonType::kString; }
  bool is_array() const { return type_ == JsonType::kArray; }
  bool is_object() const { return type_ == JsonType::kObject; }

  bool bool_value() const { return bool_; }
  // String contents, or the raw text of a number; empty for other types.
  const std::string& text() const { return text_; }

  // Array access (empty for non-arrays).
  const std::vector<Value>& items() const { return items_; }
  std::vector<Value>& mutable_items() { return items_; }
  Value& Append(Value v);

  // Object access (empty for non-objects), in document order.
  const std::vector<Member>& members() const { return members_; }
  std::vector<Member>& mutable_members() { return members_; }
  const Value* Find(std::string_view key) const;
  Value* FindMutable(std::string_view key);
  // Replaces the member's value if present (keeping its position), else appends it.
  Value& Set(std::string key, Value v);
  // Removes the member; returns whether it existed.
  bool Erase(std::string_view key);

  // Convenience for the common "string member or empty" lookup.
  std::string_view StringAt(std::string_view key) const;

  // JSON value equality: object member order is ignored, numbers compare by their text.
  friend bool operator==(const Value& a, const Value& b);

 private:
  JsonType type_ = JsonType::kNull;
  bool bool_ = false;
  std::string text_;
  std::vector<Value> items_;
  std::vector<Member> members_;
};

}  // namespace clinshub::fhir
