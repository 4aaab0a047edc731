#include "fhir/value.h"

#include <gtest/gtest.h>

namespace clinshub::fhir {
namespace {

TEST(ValueTest, DefaultIsNull) {
  Value v;
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(v.type(), JsonType::kNull);
}

TEST(ValueTest, FactoriesSetTypeAndContent) {
  EXPECT_TRUE(Value::Bool(true).bool_value());
  EXPECT_EQ(Value::Number("1.50").text(), "1.50");
  EXPECT_TRUE(Value::Number("1").is_number());
  EXPECT_EQ(Value::String("やまだ").text(), "やまだ");
  EXPECT_TRUE(Value::Array().is_array());
  EXPECT_TRUE(Value::Object().is_object());
}

TEST(ValueTest, SetReplacesInPlaceAndKeepsOrder) {
  Value o = Value::Object();
  o.Set("a", Value::Number("1"));
  o.Set("b", Value::Number("2"));
  o.Set("a", Value::Number("3"));
  ASSERT_EQ(o.members().size(), 2u);
  EXPECT_EQ(o.members()[0].first, "a");
  EXPECT_EQ(o.members()[0].second.text(), "3");
  EXPECT_EQ(o.Find("b")->text(), "2");
  EXPECT_EQ(o.Find("c"), nullptr);
}

TEST(ValueTest, EraseReportsWhetherMemberExisted) {
  Value o = Value::Object();
  o.Set("a", Value());
  EXPECT_TRUE(o.Erase("a"));
  EXPECT_FALSE(o.Erase("a"));
  EXPECT_TRUE(o.members().empty());
}

TEST(ValueTest, StringAtIsEmptyForMissingOrNonString) {
  Value o = Value::Object();
  o.Set("s", Value::String("x"));
  o.Set("n", Value::Number("1"));
  EXPECT_EQ(o.StringAt("s"), "x");
  EXPECT_EQ(o.StringAt("n"), "");
  EXPECT_EQ(o.StringAt("missing"), "");
}

TEST(ValueTest, EqualityIgnoresMemberOrderButNotArrayOrder) {
  Value a = Value::Object();
  a.Set("x", Value::Number("1"));
  a.Set("y", Value::String("s"));
  Value b = Value::Object();
  b.Set("y", Value::String("s"));
  b.Set("x", Value::Number("1"));
  EXPECT_EQ(a, b);

  Value l1 = Value::Array();
  l1.Append(Value::Number("1"));
  l1.Append(Value::Number("2"));
  Value l2 = Value::Array();
  l2.Append(Value::Number("2"));
  l2.Append(Value::Number("1"));
  EXPECT_FALSE(l1 == l2);
}

TEST(ValueTest, NumbersCompareByTextSoPrecisionMatters) {
  EXPECT_FALSE(Value::Number("1.5") == Value::Number("1.50"));
  EXPECT_FALSE(Value::Number("1") == Value::String("1"));
}

TEST(ValueTest, CopiesAreIndependent) {
  Value a = Value::Object();
  a.Set("x", Value::Number("1"));
  Value b = a;
  b.Set("x", Value::Number("2"));
  EXPECT_EQ(a.Find("x")->text(), "1");
}

}  // namespace
}  // namespace clinshub::fhir
