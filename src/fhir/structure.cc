#include "fhir/structure.h"

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/model.h"

namespace clinshub::fhir {
namespace {

using model::ElementDef;
using model::Primitive;
using model::TypeDef;
using model::TypeKind;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Exactly `n` digits at s[pos..]; returns their value or -1.
int Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsDigit(s[pos + i])) return -1;
    v = v * 10 + (s[pos + i] - '0');
  }
  return v;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// YYYY, YYYY-MM or YYYY-MM-DD at the start of s; returns the length consumed (0 if invalid)
// and whether the day was present.
size_t ParseDatePart(std::string_view s, bool* full) {
  *full = false;
  int year = Digits(s, 0, 4);
  if (year < 1) return 0;
  if (s.size() == 4 || s[4] != '-') return 4;
  int month = Digits(s, 5, 2);
  if (month < 1 || month > 12) return 0;
  if (s.size() == 7 || s[7] != '-') return 7;
  int day = Digits(s, 8, 2);
  if (day < 1 || day > DaysInMonth(year, month)) return 0;
  *full = true;
  return 10;
}

// hh:mm:ss(.f+)? at s[pos..]; returns the end position or npos.
size_t ParseTimePart(std::string_view s, size_t pos) {
  int h = Digits(s, pos, 2);
  if (h < 0 || h > 23 || pos + 2 >= s.size() || s[pos + 2] != ':') return std::string_view::npos;
  int m = Digits(s, pos + 3, 2);
  if (m < 0 || m > 59 || pos + 5 >= s.size() || s[pos + 5] != ':') return std::string_view::npos;
  int sec = Digits(s, pos + 6, 2);
  if (sec < 0 || sec > 60) return std::string_view::npos;  // 60: leap second
  size_t end = pos + 8;
  if (end < s.size() && s[end] == '.') {
    size_t start = ++end;
    while (end < s.size() && IsDigit(s[end])) ++end;
    if (end == start) return std::string_view::npos;
  }
  return end;
}

// Z or (+|-)hh:mm (at most 14:00) filling the rest of s.
bool IsZone(std::string_view s, size_t pos) {
  if (pos + 1 == s.size() && s[pos] == 'Z') return true;
  if (pos + 6 != s.size() || (s[pos] != '+' && s[pos] != '-') || s[pos + 3] != ':') return false;
  int h = Digits(s, pos + 1, 2);
  int m = Digits(s, pos + 4, 2);
  return h >= 0 && m >= 0 && m <= 59 && (h < 14 || (h == 14 && m == 0));
}

bool IsDate(std::string_view s) {
  bool full;
  size_t n = ParseDatePart(s, &full);
  return n != 0 && n == s.size();
}

// require_time: instant (full date, time with seconds and zone are mandatory).
bool IsDateTime(std::string_view s, bool require_time) {
  bool full;
  size_t n = ParseDatePart(s, &full);
  if (n == 0) return false;
  if (n == s.size()) return !require_time;
  if (!full || s[n] != 'T') return false;
  size_t end = ParseTimePart(s, n + 1);
  return end != std::string_view::npos && IsZone(s, end);
}

bool IsTime(std::string_view s) { return ParseTimePart(s, 0) == s.size(); }

bool IsId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(IsDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' ||
          c == '.')) {
      return false;
    }
  }
  return true;
}

// [^\s]+(\s[^\s]+)*: no leading, trailing or doubled whitespace.
bool IsCode(std::string_view s) {
  if (s.empty() || IsSpace(s.front()) || IsSpace(s.back())) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    if (IsSpace(s[i]) && IsSpace(s[i - 1])) return false;
  }
  return true;
}

bool HasNoSpace(std::string_view s) {
  for (char c : s) {
    if (IsSpace(c)) return false;
  }
  return true;
}

bool IsOid(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:oid:";
  if (s.substr(0, kPrefix.size()) != kPrefix) return false;
  s.remove_prefix(kPrefix.size());
  if (s.size() < 3 || s[0] < '0' || s[0] > '2' || s[1] != '.') return false;
  for (size_t i = 1; i < s.size();) {
    if (s[i] != '.') return false;
    size_t start = ++i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start || (s[start] == '0' && i - start > 1)) return false;
  }
  return true;
}

bool IsUuid(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:uuid:";
  if (s.size() != kPrefix.size() + 36 || s.substr(0, kPrefix.size()) != kPrefix) return false;
  s.remove_prefix(kPrefix.size());
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    if (dash ? c != '-' : !(IsDigit(c) || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// (\s*([0-9a-zA-Z\+\=/]){4}\s*)+ with padding only at the end.
bool IsBase64(std::string_view s) {
  size_t count = 0;
  size_t pad = 0;
  for (char c : s) {
    if (IsSpace(c)) continue;
    if (c == '=') {
      ++pad;
    } else if (pad > 0 || !(IsDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            c == '+' || c == '/')) {
      return false;
    }
    ++count;
  }
  return count % 4 == 0 && pad <= 2;
}

// FHIR integers: -?(0|[1-9][0-9]*) within 32 bits (integer.html).
bool ParseFhirInteger(std::string_view s, int64_t* out) {
  std::string_view digits = s.substr(!s.empty() && s[0] == '-' ? 1 : 0);
  if (digits.empty() || digits.size() > 11 || (digits[0] == '0' && digits.size() > 1)) {
    return false;
  }
  for (char c : digits) {
    if (!IsDigit(c)) return false;
  }
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// A value quoted for a message, shortened so a huge bad value cannot bloat the response.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 64;
  std::string out = "'";
  if (s.size() <= kMax) {
    out.append(s);
  } else {
    size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    out.append(s.substr(0, cut));
    out += "...";
  }
  return out + "'";
}

class Checker {
 public:
  explicit Checker(size_t max_issues) : max_issues_(max_issues) {}

  void CheckRoot(const Value& v) {
    std::string_view rt = v.StringAt("resourceType");
    path_ = rt.empty() ? std::string("$") : std::string(rt);
    CheckResource(v);
  }

  Status Finish() {
    if (issues_.empty()) return Status::Ok();
    if (truncated_) {
      issues_.push_back(Issue{Severity::kInformation, "informational", {}, {},
                              "more problems were found; only the first " +
                                  std::to_string(max_issues_) + " are reported"});
    }
    return Status(ErrorCode::kMalformed, std::move(issues_));
  }

 private:
  bool Full() const { return truncated_; }

  void Add(std::string_view code, std::string message) {
    if (issues_.size() >= max_issues_) {
      truncated_ = true;
      return;
    }
    issues_.push_back(Issue{Severity::kError, std::string(code), path_, {}, std::move(message)});
  }

  // Appends a path segment for the lifetime of the object.
  class Segment {
   public:
    Segment(std::string& path, std::string_view name) : path_(path), size_(path.size()) {
      path_ += '.';
      path_.append(name);
    }
    Segment(std::string& path, size_t index) : path_(path), size_(path.size()) {
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, index);
      path_ += '[';
      path_.append(buf, end);
      path_ += ']';
    }
    ~Segment() { path_.resize(size_); }
    Segment(const Segment&) = delete;
    Segment& operator=(const Segment&) = delete;

   private:
    std::string& path_;
    size_t size_;
  };

  void CheckResource(const Value& v) {
    if (!v.is_object()) {
      Add("structure", "a resource must be a JSON object");
      return;
    }
    const Value* rt = v.Find("resourceType");
    if (rt == nullptr) {
      Add("structure", "missing resourceType");
      return;
    }
    if (!rt->is_string()) {
      Segment s(path_, "resourceType");
      Add("structure", "resourceType must be a string");
      return;
    }
    const TypeDef* type = model::FindResourceType(rt->text());
    if (type == nullptr) {
      Segment s(path_, "resourceType");
      Add("structure", Quote(rt->text()) + " is not a FHIR R4 resource type");
      return;
    }
    CheckObject(v, *type, /*resource_root=*/true);
  }

  static const Value* FindUnderscored(const Value& obj, std::string_view name) {
    for (const Value::Member& m : obj.members()) {
      if (m.first.size() == name.size() + 1 && m.first[0] == '_' &&
          std::string_view(m.first).substr(1) == name) {
        return &m.second;
      }
    }
    return nullptr;
  }

  void CheckObject(const Value& obj, const TypeDef& type, bool resource_root) {
    if (obj.members().empty()) {
      Add("structure", "empty object");
      return;
    }
    // Choice groups seen so far in this object: {group, member name}.
    std::vector<std::pair<std::string_view, std::string_view>> choices;
    bool has_value_choice = false;
    bool has_unknown = false;
    for (const Value::Member& m : obj.members()) {
      if (Full()) return;
      std::string_view key = m.first;
      if (key == "resourceType") {
        if (!resource_root) {
          Segment s(path_, key);
          Add("structure", "resourceType is only allowed at the root of a resource");
        }
        continue;
      }
      bool underscored = !key.empty() && key[0] == '_';
      std::string_view name = underscored ? key.substr(1) : key;
      const ElementDef* element = model::FindElement(type, name);
      Segment s(path_, key);
      if (element == nullptr) {
        has_unknown = true;
        Add("structure", "unknown element '" + std::string(name) + "' for " +
                             std::string(type.name));
        continue;
      }
      const TypeDef& element_type = model::TypeAt(element->type);
      if (!element->choice.empty()) {
        has_value_choice |= element->choice == "value";
        for (const auto& [group, seen] : choices) {
          if (group == element->choice && seen != name) {
            Add("structure", "only one of " + std::string(group) + "[x] may be present (found " +
                                 std::string(seen) + " and " + std::string(name) + ")");
          }
        }
        choices.emplace_back(element->choice, name);
      }
      if (underscored) {
        CheckPrimitiveExtension(m.second, *element, element_type, obj.Find(name));
      } else {
        CheckElement(m.second, *element, element_type, FindUnderscored(obj, name));
      }
    }
    // An unknown member (say valueFoo) already explains a missing value; say it once.
    if (type.name == "Extension" && !has_unknown) CheckExtension(obj, has_value_choice);
  }

  // ext-1 and the JSON rule that an extension names itself by url.
  void CheckExtension(const Value& obj, bool has_value) {
    if (obj.Find("url") == nullptr) Add("structure", "extension without url");
    bool has_nested = obj.Find("extension") != nullptr;
    if (has_value && has_nested) {
      Add("structure", "extension has both value[x] and nested extensions");
    } else if (!has_value && !has_nested) {
      Add("structure", "extension has neither value[x] nor nested extensions");
    }
  }

  void CheckElement(const Value& v, const ElementDef& element, const TypeDef& type,
                    const Value* underscored) {
    if (!element.array) {
      if (v.is_array()) {
        Add("structure", "must not be an array (the element does not repeat)");
      } else if (v.is_null()) {
        Add("structure", "null is not allowed here");
      } else {
        CheckSingle(v, type);
      }
      return;
    }
    if (!v.is_array()) {
      Add("structure", "must be an array (the element repeats)");
      return;
    }
    if (v.items().empty()) {
      Add("structure", "empty array");
      return;
    }
    const std::vector<Value>& items = v.items();
    for (size_t i = 0; i < items.size() && !Full(); ++i) {
      Segment s(path_, i);
      if (items[i].is_null()) {
        bool aligned = type.kind == TypeKind::kPrimitive && underscored != nullptr &&
                       underscored->is_array() && i < underscored->items().size() &&
                       !underscored->items()[i].is_null();
        if (!aligned) {
          Add("structure", "null is only allowed where the '_' sibling array has an entry");
        }
        continue;
      }
      CheckSingle(items[i], type);
    }
  }

  // `_name`: the id/extensions of a primitive, an object, or an array aligned with `name`.
  void CheckPrimitiveExtension(const Value& v, const ElementDef& element, const TypeDef& type,
                               const Value* values) {
    if (type.kind != TypeKind::kPrimitive) {
      Add("structure", "'_' members are only allowed for primitive elements");
      return;
    }
    if (!element.array) {
      if (!v.is_object()) {
        Add("structure", "must be an object holding the primitive's id and extensions");
      } else {
        CheckObject(v, type, false);
      }
      return;
    }
    if (!v.is_array()) {
      Add("structure", "must be an array aligned with the values (the element repeats)");
      return;
    }
    const Value* value_array = values != nullptr && values->is_array() ? values : nullptr;
    if (value_array != nullptr && value_array->items().size() != v.items().size()) {
      Add("structure", "must have as many entries as the value array (" +
                           std::to_string(v.items().size()) + " vs " +
                           std::to_string(value_array->items().size()) + ")");
      return;
    }
    for (size_t i = 0; i < v.items().size() && !Full(); ++i) {
      Segment s(path_, i);
      const Value& item = v.items()[i];
      if (item.is_null()) {
        // A null on both sides is reported once, at the value array, when there is one.
        if (value_array == nullptr) {
          Add("structure", "null entry with no value at the same position");
        }
      } else if (!item.is_object()) {
        Add("structure", "must be an object or null");
      } else {
        CheckObject(item, type, false);
      }
    }
  }

  void CheckSingle(const Value& v, const TypeDef& type) {
    switch (type.kind) {
      case TypeKind::kPrimitive:
        CheckPrimitive(v, type);
        return;
      case TypeKind::kComplex:
      case TypeKind::kBackbone:
        if (!v.is_object()) {
          Add("structure", "must be a JSON object (" + std::string(type.name) + ")");
        } else {
          CheckObject(v, type, false);
        }
        return;
      case TypeKind::kResource:
      case TypeKind::kAbstractResource:
        CheckResource(v);
        return;
    }
  }

  void CheckPrimitive(const Value& v, const TypeDef& type) {
    Primitive p = type.primitive;
    std::string_view type_name = type.name;
    if (p == Primitive::kBoolean) {
      if (!v.is_bool()) Add("structure", "must be a JSON boolean (boolean)");
      return;
    }
    if (p == Primitive::kInteger || p == Primitive::kPositiveInt ||
        p == Primitive::kUnsignedInt || p == Primitive::kDecimal) {
      if (!v.is_number()) {
        Add("structure", "must be a JSON number (" + std::string(type_name) + ")");
        return;
      }
      if (p == Primitive::kDecimal) return;  // the JSON number grammar is FHIR's decimal
      int64_t n = 0;
      if (!ParseFhirInteger(v.text(), &n)) {
        Add("value", Quote(v.text()) + " is not a valid " + std::string(type_name) +
                         " (no fraction or exponent allowed)");
        return;
      }
      int64_t min = p == Primitive::kInteger ? INT32_MIN : p == Primitive::kPositiveInt ? 1 : 0;
      if (n < min || n > INT32_MAX) {
        Add("value", v.text() + " is out of range for " + std::string(type_name));
      }
      return;
    }
    if (!v.is_string()) {
      Add("structure", "must be a JSON string (" + std::string(type_name) + ")");
      return;
    }
    const std::string& s = v.text();
    bool has_content = false;
    for (char c : s) {
      if (!IsSpace(c)) {
        has_content = true;
        break;
      }
    }
    if (!has_content) {
      Add("value", s.empty() ? "empty string" : "string has only whitespace");
      return;
    }
    // R4 §2.24.0.1 (string): no characters below U+0020 other than tab, CR and LF. A JSON
    // escape such as \u0000 decodes to one, and would otherwise be stored.
    for (char c : s) {
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\r' && c != '\n') {
        char code[8];
        std::snprintf(code, sizeof code, "%04X", static_cast<unsigned>(c));
        Add("value", "control character U+" + std::string(code) +
                         " is not allowed in a FHIR string");
        return;
      }
    }
    bool ok = true;
    switch (p) {
      case Primitive::kCode: ok = IsCode(s); break;
      case Primitive::kId: ok = IsId(s); break;
      case Primitive::kUri:
      case Primitive::kUrl:
      case Primitive::kCanonical: ok = HasNoSpace(s); break;
      case Primitive::kOid: ok = IsOid(s); break;
      case Primitive::kUuid: ok = IsUuid(s); break;
      case Primitive::kDate: ok = IsDate(s); break;
      case Primitive::kDateTime: ok = IsDateTime(s, false); break;
      case Primitive::kInstant: ok = IsDateTime(s, true); break;
      case Primitive::kTime: ok = IsTime(s); break;
      case Primitive::kBase64Binary: ok = IsBase64(s); break;
      default: break;
    }
    if (!ok) Add("value", Quote(s) + " is not a valid " + std::string(type_name));
  }

  size_t max_issues_;
  bool truncated_ = false;
  std::string path_;
  std::vector<Issue> issues_;
};

}  // namespace

Status ValidateResourceStructure(const Value& resource, size_t max_issues) {
  Checker checker(max_issues);
  checker.CheckRoot(resource);
  return checker.Finish();
}

}  // namespace clinshub::fhir
