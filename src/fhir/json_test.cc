#include "fhir/json.h"
#include "fhir/json_string.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace clinshub::fhir {
namespace {

TEST(JsonTest, NumbersSurviveVerbatim) {
  for (const char* n : {"1.50", "-0.0", "1e10", "12345678901234567890.123", "0",
                        "123456789012345678901234567890", "-1.5E-300", "1E+2"}) {
    std::string json = std::string("{\"v\":") + n + "}";
    Result<Value> v = ParseJson(json);
    ASSERT_TRUE(v.ok()) << n << ": " << v.status().ToString();
    EXPECT_EQ(v->Find("v")->text(), n);
    EXPECT_EQ(WriteJson(*v), json);
  }
}

TEST(JsonTest, RoundTripKeepsMemberOrderAndJapanese) {
  const std::string json =
      R"({"resourceType":"Patient","name":[{"text":"山田 太郎","family":"やまだ"}],)"
      R"("active":true,"x":null,"q":"a\"b\\c\nd\u0001","e":[],"o":{}})";
  Result<Value> v = ParseJson(json);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->Find("q")->text(), "a\"b\\c\nd\x01");
  EXPECT_EQ(WriteJson(*v), json);
  Result<Value> again = ParseJson(WriteJsonPretty(*v));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *v);
}

TEST(JsonTest, PrettyOutputIsIndentedWithTwoSpaces) {
  Result<Value> v = ParseJson(R"({"a":[1]})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(WriteJsonPretty(*v), "{\n  \"a\": [\n    1\n  ]\n}");
}

TEST(JsonTest, EscapedUnicodeIsDecodedAndWrittenAsUtf8) {
  Result<Value> v = ParseJson(R"(["\u5c71\u7530", "\ud83d\ude00"])");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->items()[0].text(), "山田");
  EXPECT_EQ(WriteJson(*v), "[\"山田\",\"😀\"]");
}

TEST(JsonTest, BareScalarDocumentsParse) {
  struct Case {
    const char* json;
    JsonType type;
    const char* text;
  };
  for (const Case& c : {Case{"1.50", JsonType::kNumber, "1.50"},
                        Case{" \"s\" ", JsonType::kString, "s"},
                        Case{"true", JsonType::kBool, ""}, Case{"null", JsonType::kNull, ""}}) {
    Result<Value> v = ParseJson(c.json);
    ASSERT_TRUE(v.ok()) << c.json << ": " << v.status().ToString();
    EXPECT_EQ(v->type(), c.type) << c.json;
    EXPECT_EQ(v->text(), c.text) << c.json;
  }
}

struct RejectCase {
  const char* name;
  std::string json;
  std::string expression;
  std::string message_part;
};

class JsonRejectTest : public testing::TestWithParam<RejectCase> {};

TEST_P(JsonRejectTest, RejectsWithLocation) {
  const RejectCase& c = GetParam();
  Result<Value> v = ParseJson(c.json);
  ASSERT_FALSE(v.ok()) << c.name;
  EXPECT_EQ(v.status().code(), ErrorCode::kMalformed);
  ASSERT_EQ(v.status().issues().size(), 1u);
  const Issue& issue = v.status().issues()[0];
  EXPECT_EQ(issue.expression, c.expression) << issue.message;
  EXPECT_NE(issue.message.find(c.message_part), std::string::npos)
      << "message: " << issue.message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, JsonRejectTest,
    testing::Values(
        RejectCase{"Empty", "", "$", ""},
        RejectCase{"InvalidUtf8", "{\"a\":\"ok\xff\"}", "$", "invalid UTF-8 at byte offset 8"},
        RejectCase{"OverlongUtf8", "[\"\xc0\xaf\"]", "$", "invalid UTF-8 at byte offset 2"},
        RejectCase{"Surrogate", "[\"\xed\xa0\x80\"]", "$", "invalid UTF-8"},
        RejectCase{"ControlCharInString", "{\"a\":\"x\ty\"}", "$",
                   "unescaped control character in string at byte offset 7"},
        RejectCase{"NulOutsideString", std::string("{\"a\":1}\0", 8), "$", "NUL byte at byte offset 7"},
        RejectCase{"NulInsideString", std::string("{\"a\":\"\0\"}", 9), "$", "NUL byte at byte offset 6"},
        RejectCase{"DuplicateKey",
                   R"({"resourceType":"Patient","name":[{"family":"a","family":"b"}]})",
                   "Patient.name[0].family", "duplicate member \"family\" at byte offset 48"},
        RejectCase{"DuplicateRootKey", R"({"a":1,"a":2})", "$.a", "duplicate member"},
        RejectCase{"TrailingContent", R"({"a":1} x)", "$", "trailing content after the JSON value at byte offset 8"},
        RejectCase{"TrailingBrace", R"({"a":1}})", "$", "trailing content"},
        RejectCase{"SecondDocument", R"({"a":1} {"b":2})", "$", "trailing content"},
        RejectCase{"MissingValue", R"({"resourceType":"Patient","id":})", "Patient.id",
                   "line 1"},
        RejectCase{"MissingComma", "[1 2]", "$[1]", "malformed JSON"},
        RejectCase{"MissingColon", R"({"a" 1})", "$", "malformed JSON"},
        RejectCase{"Unclosed", R"({"a":[1,2)", "$.a[2]", "byte offset 9"},
        RejectCase{"UnclosedString", R"({"a":"b)", "$", "unclosed string at byte offset 5"},
        RejectCase{"BadLiteral", R"({"a":tru})", "$.a", "malformed JSON"},
        RejectCase{"LeadingZero", R"({"a":01})", "$.a", "invalid number at byte offset 5"},
        RejectCase{"BareMinus", R"({"a":-})", "$.a", "invalid number"},
        RejectCase{"TrailingDot", R"({"a":[1.]})", "$.a[0]", "invalid number"},
        RejectCase{"ScalarTrailing", "1.50 x", "$", "trailing content after the JSON value at byte offset 5"},
        RejectCase{"TwoScalars", "true false", "$", "trailing content"},
        RejectCase{"SingleQuotes", R"({'a':1})", "$", "malformed JSON"},
        RejectCase{"LineAndColumn", "{\n  \"a\": 1,\n  \"a\": 2\n}", "$.a", "(line 3, column 3)"},
        RejectCase{"TooDeep", std::string(65, '[') + std::string(65, ']'),
                   "$" + [] {
                     std::string p;
                     for (int i = 0; i < 64; ++i) p += "[0]";
                     return p;
                   }(),
                   "nesting deeper than 64 levels"}),
    [](const testing::TestParamInfo<RejectCase>& info) { return info.param.name; });

TEST(JsonTest, DepthLimitIsConfigurable) {
  std::string json = std::string(10, '[') + std::string(10, ']');
  EXPECT_TRUE(ParseJson(json, ParseOptions{.max_depth = 10}).ok());
  EXPECT_FALSE(ParseJson(json, ParseOptions{.max_depth = 9}).ok());
}

TEST(JsonTest, HundredThousandDeepNestingIsRejectedQuicklyWithoutOverflow) {
  const size_t depth = 100000;
  std::string arrays = std::string(depth, '[') + std::string(depth, ']');
  std::string objects;
  for (size_t i = 0; i < depth; ++i) objects += "{\"a\":";
  objects += "1" + std::string(depth, '}');
  for (const std::string* json : {&arrays, &objects}) {
    auto start = std::chrono::steady_clock::now();
    Result<Value> v = ParseJson(*json);
    auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(v.ok());
    EXPECT_NE(v.status().message().find("nesting deeper"), std::string::npos)
        << v.status().message();
    EXPECT_LT(elapsed, std::chrono::seconds(1));
  }
}

TEST(JsonTest, ParserIsReusableAfterErrors) {
  EXPECT_FALSE(ParseJson("{").ok());
  EXPECT_FALSE(ParseJson("[\"\xff\"]").ok());
  Result<Value> v = ParseJson(R"({"a":[1,{"b":"c"}]})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(WriteJson(*v), R"({"a":[1,{"b":"c"}]})");
}

TEST(JsonTest, LargeInputsReuseAndGrowTheBuffer) {
  std::string big = "[";
  for (int i = 0; i < 100000; ++i) big += (i ? ",\"" : "\"") + std::to_string(i) + "\"";
  big += "]";
  Result<Value> v = ParseJson(big);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->items().size(), 100000u);
  EXPECT_TRUE(ParseJson("[1]").ok());
}

TEST(JsonTest, WriterEscapesControlCharactersButNotJapanese) {
  Value v = Value::String(std::string("日本\x01\"\\/", 10));
  EXPECT_EQ(WriteJson(v), "\"日本\\u0001\\\"\\\\/\"");
}

// The hand-built summary must stay byte-for-byte what the RapidJSON writer produced.
TEST(JsonTest, AppendJsonStringEscapesEveryByteAsWriteJsonDoes) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  for (const std::string& s : {all, std::string(), std::string("plain"),
                               std::string("日本\x01\"\\/ tail"), std::string("\n\n")}) {
    std::string appended = "prefix";
    AppendJsonString(appended, s);
    EXPECT_EQ(appended, "prefix" + WriteJson(Value::String(s)));
  }
}

// The reference: what fhir::WriteJson wrote with RapidJSON's Writer before it wrote its own
// compact JSON. Stored content hashes are over WriteJson's bytes, so the two must agree on
// every document, byte for byte.
template <typename W>
void RapidJsonWrite(const Value& v, W& w) {
  switch (v.type()) {
    case JsonType::kNull: w.Null(); break;
    case JsonType::kBool: w.Bool(v.bool_value()); break;
    case JsonType::kNumber: w.RawValue(v.text().data(), v.text().size(), rapidjson::kNumberType); break;
    case JsonType::kString: w.String(v.text().data(), static_cast<rapidjson::SizeType>(v.text().size())); break;
    case JsonType::kArray:
      w.StartArray();
      for (const Value& item : v.items()) RapidJsonWrite(item, w);
      w.EndArray();
      break;
    case JsonType::kObject:
      w.StartObject();
      for (const Value::Member& m : v.members()) {
        w.Key(m.first.data(), static_cast<rapidjson::SizeType>(m.first.size()));
        RapidJsonWrite(m.second, w);
      }
      w.EndObject();
      break;
  }
}

std::string RapidJsonText(const Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  RapidJsonWrite(v, writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

TEST(JsonTest, WriteJsonIsByteForByteWhatRapidJsonWrote) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  Value odd = Value::Object();
  odd.Set(all, Value::String(all));
  odd.Set("n", Value::Number("-1.50e+3"));
  odd.Set("b", Value::Bool(false));
  odd.Set("z", Value());
  odd.Set("empty", Value::Array());
  odd.Set("o", Value::Object());
  EXPECT_EQ(WriteJson(odd), RapidJsonText(odd));

  // Every official example (when ../shared is present): real FHIR content, Japanese included.
  namespace fs = std::filesystem;
  const fs::path root = fs::path(CLINSHUB_SHARED_DIR) / "clins" / "examples";
  if (!fs::is_directory(root)) GTEST_SKIP() << "no examples folder at " << root;
  int compared = 0;
  for (const auto& file : fs::recursive_directory_iterator(root)) {
    if (file.path().extension() != ".json") continue;
    std::ifstream in(file.path(), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Result<Value> v = ParseJson(text);
    if (!v.ok()) continue;  // the IG's deliberately broken ones
    EXPECT_EQ(WriteJson(*v), RapidJsonText(*v)) << file.path();
    ++compared;
  }
  EXPECT_GT(compared, 50);
}

TEST(JsonTest, MarkedNodesAreReportedWhereTheyWereWritten) {
  Result<Value> v = ParseJson(
      R"({"resourceType":"Bundle","id":"x","entry":[{"resource":{"a":"日本"}},{"resource":[1,2]}]})");
  ASSERT_TRUE(v.ok());
  const Value& entries = *v->Find("entry");
  const Value* marks[] = {entries.items()[1].Find("resource"), v->Find("id"),
                          entries.items()[0].Find("resource"), v.operator->()};
  JsonSpans spans;
  const std::string text = WriteJsonMarked(*v, marks, &spans);
  EXPECT_EQ(text, WriteJson(*v));
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(text.substr(spans[0].first, spans[0].second), "[1,2]");
  EXPECT_EQ(text.substr(spans[1].first, spans[1].second), R"("x")");
  EXPECT_EQ(text.substr(spans[2].first, spans[2].second), R"({"a":"日本"})");
  EXPECT_EQ(spans[3], (std::pair<size_t, size_t>{0, text.size()}));
  // A node that is not in the tree is reported as not written.
  Value elsewhere = Value::String("x");
  const Value* stray[] = {&elsewhere};
  WriteJsonMarked(*v, stray, &spans);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].first, std::string::npos);
}

}  // namespace
}  // namespace clinshub::fhir
