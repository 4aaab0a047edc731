#include "fhir/json.h"
#include "fhir/json_string.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace clinshub::fhir
