// JSON in with simdjson ondemand, out with RapidJSON. See json.h for the contract.
#include "fhir/json.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <simdjson.h>

#include "fhir/json_string.h"
#include "fhir/structure.h"

namespace clinshub::fhir {
namespace {

namespace od = simdjson::ondemand;

// Per-thread parsing state. simdjson wants SIMDJSON_PADDING readable bytes past the input,
// so inputs are copied into a reusable padded buffer; the copy costs far less than the
// allocation a fresh parser and buffer would on every call.
struct ThreadParser {
  od::parser parser;
  std::unique_ptr<char[]> buffer;
  size_t capacity = 0;

  // A padded copy of `json`.
  const char* Load(std::string_view json) {
    size_t needed = json.size() + simdjson::SIMDJSON_PADDING;
    if (needed > capacity) {
      capacity = std::max(needed, capacity * 2);
      buffer = std::make_unique<char[]>(capacity);
    }
    std::memcpy(buffer.get(), json.data(), json.size());
    std::memset(buffer.get() + json.size(), 0, simdjson::SIMDJSON_PADDING);
    return buffer.get();
  }
};

ThreadParser& LocalParser() {
  thread_local ThreadParser tp;
  return tp;
}

struct PathSegment {
  std::string_view key;  // points into simdjson's string buffer, valid for the parse
  size_t index = 0;
  bool is_index = false;
};

// Line and column (1-based, columns in bytes) of `offset`, for messages.
std::string DescribeOffset(std::string_view input, size_t offset) {
  offset = std::min(offset, input.size());
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (input[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return "byte offset " + std::to_string(offset) + " (line " + std::to_string(line) +
         ", column " + std::to_string(offset - line_start + 1) + ")";
}

// Scalar scan used only after simdjson has rejected the input as a whole (bad UTF-8,
// unescaped control characters, unclosed string), to say where. Returns the offset and what
// is wrong there, or npos if the scan finds nothing.
std::pair<size_t, std::string> LocateLexicalError(std::string_view s) {
  bool in_string = false;
  size_t string_start = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (in_string) {
        if (c == '"') {
          in_string = false;
        } else if (c == '\\') {
          ++i;  // skip the escaped character
        } else if (c < 0x20) {
          return {i, "unescaped control character in string"};
        }
      } else if (c == '"') {
        in_string = true;
        string_start = i;
      }
      ++i;
      continue;
    }
    // Multi-byte UTF-8 sequence: check length, continuation bytes, overlongs, surrogates and
    // the U+10FFFF ceiling (RFC 3629).
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return {i, "invalid UTF-8"};
    }
    if (i + len > s.size()) return {i, "invalid UTF-8 (truncated sequence)"};
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return {i, "invalid UTF-8"};
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return {i, "invalid UTF-8"};
    }
    i += len;
  }
  if (in_string) return {string_start, "unclosed string"};
  return {std::string_view::npos, {}};
}

// RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

std::string_view TrimTrailingSpace(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' ||
                        s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

class Builder {
 public:
  Builder(std::string_view input, const char* base, od::document& doc, size_t max_depth)
      : input_(input), base_(base), doc_(doc), max_depth_(max_depth) {}

  Result<Value> Run() {
    Value root;
    od::json_type type;
    if (auto err = doc_.type().get(type)) return Fail(err, DocLocation());
    if (type == od::json_type::object || type == od::json_type::array) {
      od::value v;
      if (auto err = doc_.get_value().get(v)) return Fail(err, DocLocation());
      if (!ParseValue(v, root, 1)) return std::move(error_);
    } else {
      // A scalar document is a single token; the iterator does not move past it, so the
      // trailing-content check below would misfire. Whatever follows the token is trailing.
      std::string_view token;
      if (auto err = doc_.raw_json_token().get(token)) return Fail(err, DocLocation());
      size_t end = static_cast<size_t>(token.data() - base_) + token.size();
      if (!ParseScalar(doc_, type, root)) return std::move(error_);
      if (end < input_.size()) return Fail("trailing content after the JSON value", end);
      return root;
    }
    // current_location() is OUT_OF_BOUNDS exactly when every token has been consumed.
    const char* rest = nullptr;
    if (doc_.current_location().get(rest) == simdjson::SUCCESS) {
      path_.clear();
      return Fail("trailing content after the JSON value", DocLocation());
    }
    return root;
  }

 private:
  size_t DocLocation() {
    const char* p = nullptr;
    if (doc_.current_location().get(p) != simdjson::SUCCESS) return input_.size();
    return static_cast<size_t>(p - base_);
  }

  std::string PathString() const {
    std::string out = root_label_.empty() ? std::string("$") : root_label_;
    for (const PathSegment& seg : path_) {
      if (seg.is_index) {
        out += '[';
        out += std::to_string(seg.index);
        out += ']';
      } else {
        out += '.';
        out.append(seg.key);
      }
    }
    return out;
  }

  Status Fail(simdjson::error_code err, size_t offset) {
    return Fail(std::string("malformed JSON: ") + simdjson::error_message(err), offset);
  }
  Status Fail(std::string what, size_t offset) {
    error_ = MalformedError(what + " at " + DescribeOffset(input_, offset), PathString());
    return error_;
  }

  // Always false, so callers can `return Error(...)`.
  bool Error(simdjson::error_code err, size_t offset) {
    (void)Fail(err, offset);
    return false;
  }
  bool Error(std::string what, size_t offset) {
    (void)Fail(std::move(what), offset);
    return false;
  }

  template <typename V>
  size_t Location(V& v) {
    const char* p = nullptr;
    if (v.current_location().get(p) != simdjson::SUCCESS) return DocLocation();
    return static_cast<size_t>(p - base_);
  }

  template <typename V>
  bool ParseScalar(V& v, od::json_type type, Value& out) {
    switch (type) {
      case od::json_type::number: {
        std::string_view raw;
        if constexpr (std::is_same_v<V, od::value>) {
          raw = v.raw_json_token();
        } else if (auto err = v.raw_json_token().get(raw)) {
          return Error(err, Location(v));
        }
        raw = TrimTrailingSpace(raw);
        size_t offset = static_cast<size_t>(raw.data() - base_);
        if (!IsJsonNumber(raw)) return Error("invalid number", offset);
        out = Value::Number(std::string(raw));
        return true;
      }
      case od::json_type::string: {
        std::string_view s;
        if (auto err = v.get_string().get(s)) return Error(err, DocLocation());
        out = Value::String(std::string(s));
        return true;
      }
      case od::json_type::boolean: {
        bool b;
        if (auto err = v.get_bool().get(b)) return Error(err, DocLocation());
        out = Value::Bool(b);
        return true;
      }
      case od::json_type::null: {
        size_t offset = Location(v);
        bool is_null = false;
        if (auto err = v.is_null().get(is_null)) return Error(err, offset);
        if (!is_null) return Error("invalid literal", offset);
        out = Value();
        return true;
      }
      default:
        return Error(simdjson::INCORRECT_TYPE, Location(v));
    }
  }

  bool ParseValue(od::value& v, Value& out, size_t depth) {
    od::json_type type;
    if (auto err = v.type().get(type)) return Error(err, Location(v));
    if (type != od::json_type::object && type != od::json_type::array) {
      return ParseScalar(v, type, out);
    }
    size_t offset = Location(v);
    if (depth > max_depth_) {
      return Error("nesting deeper than " + std::to_string(max_depth_) + " levels", offset);
    }
    if (type == od::json_type::array) {
      od::array arr;
      if (auto err = v.get_array().get(arr)) return Error(err, offset);
      out = Value::Array();
      size_t index = 0;
      for (auto item_result : arr) {
        path_.push_back(PathSegment{{}, index++, true});
        od::value item;
        if (auto err = std::move(item_result).get(item)) return Error(err, DocLocation());
        if (!ParseValue(item, out.Append(Value()), depth + 1)) return false;
        path_.pop_back();
      }
      return true;
    }
    od::object obj;
    if (auto err = v.get_object().get(obj)) return Error(err, offset);
    out = Value::Object();
    std::vector<Value::Member>& members = out.mutable_members();
    for (auto field_result : obj) {
      od::field field;
      if (auto err = std::move(field_result).get(field)) return Error(err, DocLocation());
      size_t key_offset = static_cast<size_t>(field.key().raw() - base_) - 1;
      std::string_view key;
      if (auto err = field.unescaped_key().get(key)) return Error(err, key_offset);
      path_.push_back(PathSegment{key, 0, false});
      for (const Value::Member& m : members) {
        // Objects are small (FHIR elements have a few dozen members at most), so a linear
        // scan beats hashing; key order is kept for stable round-trips.
        if (m.first == key) return Error("duplicate member \"" + std::string(key) + "\"", key_offset);
      }
      od::value child = field.value();
      members.emplace_back(std::string(key), Value());
      if (!ParseValue(child, members.back().second, depth + 1)) return false;
      path_.pop_back();
      if (depth == 1 && root_label_.empty() && key == "resourceType" &&
          members.back().second.is_string() && !members.back().second.text().empty()) {
        // Label paths with the resource type once known (it normally comes first), so
        // errors read "Patient.name[0]" rather than "$.name[0]".
        root_label_ = members.back().second.text();
      }
    }
    return true;
  }

  std::string_view input_;
  const char* base_;
  od::document& doc_;
  size_t max_depth_;
  std::vector<PathSegment> path_;
  std::string root_label_;
  Status error_;
};

// Compact JSON, written straight into a string (no writer state: the Value tree already
// says where commas go). Strings use AppendJsonString, whose escaping is RapidJSON's
// (json_test compares the two byte for byte, so stored content hashes keep matching).
class CompactWriter {
 public:
  CompactWriter(std::string& out, std::span<const Value* const> marks, JsonSpans* spans)
      : out_(out), marks_(marks), spans_(marks.empty() ? nullptr : spans) {
    if (spans != nullptr) spans->assign(marks_.size(), {std::string::npos, 0});
    for (const Value* m : marks_) {
      if (m == nullptr) continue;  // a mark with no node is never written
      lowest_ = std::min(lowest_, m);
      highest_ = std::max(highest_, m);
    }
  }

  void Write(const Value& v) {
    const size_t start = out_.size();
    switch (v.type()) {
      case JsonType::kNull:
        out_ += "null";
        break;
      case JsonType::kBool:
        out_ += v.bool_value() ? "true" : "false";
        break;
      case JsonType::kNumber:
        out_ += v.text();
        break;
      case JsonType::kString:
        AppendJsonString(out_, v.text());
        break;
      case JsonType::kArray: {
        out_ += '[';
        bool first = true;
        for (const Value& item : v.items()) {
          if (!first) out_ += ',';
          first = false;
          Write(item);
        }
        out_ += ']';
        break;
      }
      case JsonType::kObject: {
        out_ += '{';
        bool first = true;
        for (const Value::Member& m : v.members()) {
          if (!first) out_ += ',';
          first = false;
          AppendJsonString(out_, m.first);
          out_ += ':';
          Write(m.second);
        }
        out_ += '}';
        break;
      }
    }
    if (spans_ != nullptr) Mark(&v, start);
  }

 private:
  void Mark(const Value* v, size_t start) {
    if (v < lowest_ || v > highest_) return;  // most nodes: no mark can be this one
    for (size_t i = 0; i < marks_.size(); ++i) {
      if (marks_[i] == v) (*spans_)[i] = {start, out_.size() - start};
    }
  }

  std::string& out_;
  std::span<const Value* const> marks_;
  JsonSpans* spans_;
  const Value* lowest_ = reinterpret_cast<const Value*>(UINTPTR_MAX);
  const Value* highest_ = nullptr;
};

template <typename Writer>
void WriteValue(const Value& v, Writer& w) {
  switch (v.type()) {
    case JsonType::kNull:
      w.Null();
      break;
    case JsonType::kBool:
      w.Bool(v.bool_value());
      break;
    case JsonType::kNumber:
      w.RawValue(v.text().data(), v.text().size(), rapidjson::kNumberType);
      break;
    case JsonType::kString:
      w.String(v.text().data(), static_cast<rapidjson::SizeType>(v.text().size()));
      break;
    case JsonType::kArray:
      w.StartArray();
      for (const Value& item : v.items()) WriteValue(item, w);
      w.EndArray();
      break;
    case JsonType::kObject:
      w.StartObject();
      for (const Value::Member& m : v.members()) {
        w.Key(m.first.data(), static_cast<rapidjson::SizeType>(m.first.size()));
        WriteValue(m.second, w);
      }
      w.EndObject();
      break;
  }
}

}  // namespace

Result<Value> ParseJson(std::string_view json, const ParseOptions& options) {
  if (const void* nul = std::memchr(json.data(), '\0', json.size())) {
    size_t offset = static_cast<size_t>(static_cast<const char*>(nul) - json.data());
    return MalformedError("NUL byte at " + DescribeOffset(json, offset), "$");
  }
  ThreadParser& tp = LocalParser();
  const char* base = tp.Load(json);
  od::document doc;
  simdjson::error_code err =
      tp.parser.iterate(base, json.size(), json.size() + simdjson::SIMDJSON_PADDING).get(doc);
  if (err != simdjson::SUCCESS) {
    auto [offset, what] = LocateLexicalError(json);
    if (offset != std::string_view::npos) {
      return MalformedError(what + " at " + DescribeOffset(json, offset), "$");
    }
    return MalformedError(std::string("malformed JSON: ") + simdjson::error_message(err), "$");
  }
  Builder builder(json, base, doc, options.max_depth);
  Result<Value> result = builder.Run();
  if (!result.ok()) {
    // simdjson's structural pass may report a lexical problem only when the walk reaches it;
    // prefer the precise location when there is one.
    auto [offset, what] = LocateLexicalError(json);
    if (offset != std::string_view::npos) {
      return MalformedError(what + " at " + DescribeOffset(json, offset), "$");
    }
  }
  return result;
}

Result<Value> ParseResource(std::string_view json, const ParseOptions& options) {
  Result<Value> parsed = ParseJson(json, options);
  if (!parsed.ok()) return parsed;
  Status structure = ValidateResourceStructure(*parsed);
  if (!structure.ok()) return structure;
  return parsed;
}

std::string WriteJson(const Value& value) {
  std::string out;
  CompactWriter(out, {}, nullptr).Write(value);
  return out;
}

std::string WriteJsonMarked(const Value& value, std::span<const Value* const> marks,
                            JsonSpans* spans) {
  std::string out;
  CompactWriter(out, marks, spans).Write(value);
  return out;
}

std::string WriteJsonPretty(const Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  writer.SetIndent(' ', 2);
  WriteValue(value, writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace clinshub::fhir
