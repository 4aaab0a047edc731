#include "fhir/value.h"

#include <algorithm>

namespace clinshub::fhir {

Value Value::Bool(bool b) {
  Value v;
  v.type_ = JsonType::kBool;
  v.bool_ = b;
  return v;
}

Value Value::Number(std::string raw) {
  Value v;
  v.type_ = JsonType::kNumber;
  v.text_ = std::move(raw);
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.type_ = JsonType::kString;
  v.text_ = std::move(s);
  return v;
}

Value Value::Array() {
  Value v;
  v.type_ = JsonType::kArray;
  return v;
}

Value Value::Object() {
  Value v;
  v.type_ = JsonType::kObject;
  return v;
}

Value& Value::Append(Value v) {
  items_.push_back(std::move(v));
  return items_.back();
}

const Value* Value::Find(std::string_view key) const {
  for (const Member& m : members_) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

Value* Value::FindMutable(std::string_view key) {
  for (Member& m : members_) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

Value& Value::Set(std::string key, Value v) {
  if (Value* existing = FindMutable(key)) {
    *existing = std::move(v);
    return *existing;
  }
  members_.emplace_back(std::move(key), std::move(v));
  return members_.back().second;
}

bool Value::Erase(std::string_view key) {
  auto it = std::find_if(members_.begin(), members_.end(),
                         [&](const Member& m) { return m.first == key; });
  if (it == members_.end()) return false;
  members_.erase(it);
  return true;
}

std::string_view Value::StringAt(std::string_view key) const {
  const Value* v = Find(key);
  return v != nullptr && v->is_string() ? std::string_view(v->text_) : std::string_view();
}

bool operator==(const Value& a, const Value& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case JsonType::kNull:
      return true;
    case JsonType::kBool:
      return a.bool_ == b.bool_;
    case JsonType::kNumber:
    case JsonType::kString:
      return a.text_ == b.text_;
    case JsonType::kArray:
      return a.items_ == b.items_;
    case JsonType::kObject: {
      if (a.members_.size() != b.members_.size()) return false;
      // Keys are unique in parsed values, so "every member of a is in b with an equal value"
      // plus equal sizes means equal as JSON objects, whatever the order.
      for (const Value::Member& m : a.members_) {
        const Value* other = b.Find(m.first);
        if (other == nullptr || !(*other == m.second)) return false;
      }
      return true;
    }
  }
  return false;
}

}  // namespace clinshub::fhir
