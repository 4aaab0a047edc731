// FHIR JSON rules through ParseResource (which runs ValidateResourceStructure).
#include "fhir/structure.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fhir/json.h"
#include "fhir/model.h"

namespace clinshub::fhir {
namespace {

TEST(ModelTest, LooksUpResourcesElementsAndChoices) {
  const model::TypeDef* patient = model::FindResourceType("Patient");
  ASSERT_NE(patient, nullptr);
  const model::ElementDef* name = model::FindElement(*patient, "name");
  ASSERT_NE(name, nullptr);
  EXPECT_TRUE(name->array);
  EXPECT_EQ(model::TypeAt(name->type).name, "HumanName");
  const model::ElementDef* deceased = model::FindElement(*patient, "deceasedDateTime");
  ASSERT_NE(deceased, nullptr);
  EXPECT_EQ(deceased->choice, "deceased");
  EXPECT_EQ(model::FindElement(*patient, "deceased[x]"), nullptr);
  EXPECT_EQ(model::FindResourceType("Resource"), nullptr);  // abstract
  EXPECT_EQ(model::FindResourceType("HumanName"), nullptr);  // a datatype
  EXPECT_EQ(model::TypeAt(model::FindElement(*patient, "id")->type).name, "id");
}

TEST(ModelTest, ContentReferencesPointAtTheReferencedBackbone) {
  const model::TypeDef* item = model::FindType("Questionnaire.item");
  ASSERT_NE(item, nullptr);
  const model::ElementDef* nested = model::FindElement(*item, "item");
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(&model::TypeAt(nested->type), item);
}

TEST(StructureTest, AcceptsAValidBundleWithContainedAndPrimitiveExtensions) {
  const char* json = R"({
    "resourceType": "Bundle", "id": "b1", "type": "collection",
    "meta": {"lastUpdated": "2024-05-01T10:00:00.123+09:00",
             "tag": [{"system": "http://example.org", "code": "Condition"}]},
    "entry": [{
      "fullUrl": "urn:uuid:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
      "resource": {
        "resourceType": "Patient", "id": "p1",
        "contained": [{"resourceType": "Practitioner", "id": "dr"}],
        "extension": [{"url": "http://example.org/x", "valueDecimal": 1.50},
                      {"url": "http://example.org/c",
                       "extension": [{"url": "a", "valueString": "ｱ"}]}],
        "name": [{"family": "山田", "given": ["太郎", null],
                  "_given": [null, {"extension": [{"url": "http://e", "valueCode": "IDE"}]}]}],
        "birthDate": "1970-02-28", "_birthDate": {"id": "x"},
        "deceasedBoolean": false, "multipleBirthInteger": 2,
        "photo": [{"data": "aGVsbG8="}]
      }
    }, {
      "resource": {"resourceType": "Observation", "status": "final",
                   "code": {"text": "BW"}, "valueQuantity": {"value": 60.0, "unit": "kg"},
                   "effectiveDateTime": "2024", "issued": "2024-05-01T01:02:03Z"}
    }, {
      "resource": {"resourceType": "Parameters",
                   "parameter": [{"name": "r", "resource": {"resourceType": "Basic",
                                  "code": {"text": "x"}}},
                                 {"name": "n", "valuePositiveInt": 2147483647}]}
    }]
  })";
  Result<Value> v = ParseResource(json);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
}

struct Case {
  const char* name;
  std::string json;
  std::string expression;
  std::string code;  // issue code
  std::string message_part;
};

std::string Patient(const std::string& members) {
  return R"({"resourceType":"Patient",)" + members + "}";
}

class StructureRejectTest : public testing::TestWithParam<Case> {};

TEST_P(StructureRejectTest, ReportsOneIssueAtTheExpectedLocation) {
  const Case& c = GetParam();
  Result<Value> v = ParseResource(c.json);
  ASSERT_FALSE(v.ok()) << c.name;
  EXPECT_EQ(v.status().code(), ErrorCode::kMalformed);
  ASSERT_EQ(v.status().issues().size(), 1u) << v.status().ToString();
  const Issue& issue = v.status().issues()[0];
  EXPECT_EQ(issue.expression, c.expression) << issue.message;
  EXPECT_EQ(issue.code, c.code) << issue.message;
  EXPECT_NE(issue.message.find(c.message_part), std::string::npos) << issue.message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, StructureRejectTest,
    testing::Values(
        Case{"RootNotObject", "[1]", "$", "structure", "must be a JSON object"},
        Case{"MissingResourceType", R"({"id":"x"})", "$", "structure", "missing resourceType"},
        Case{"ResourceTypeNotString", R"({"resourceType":1})", "$.resourceType", "structure",
             "must be a string"},
        Case{"UnknownResourceType", R"({"resourceType":"Patients"})", "Patients.resourceType",
             "structure", "not a FHIR R4 resource type"},
        Case{"DatatypeAsResourceType", R"({"resourceType":"HumanName"})",
             "HumanName.resourceType", "structure", "not a FHIR R4 resource type"},
        Case{"UnknownElement", Patient(R"("nmae":[{"family":"x"}])"), "Patient.nmae",
             "structure", "unknown element 'nmae' for Patient"},
        Case{"UnknownNestedElement", Patient(R"("name":[{"famly":"x"}])"),
             "Patient.name[0].famly", "structure", "unknown element 'famly' for HumanName"},
        Case{"UnexpandedChoice", Patient(R"("deceased[x]":true)"), "Patient.deceased[x]",
             "structure", "unknown element"},
        Case{"RepeatingElementNotArray", Patient(R"("name":{"family":"x"})"), "Patient.name",
             "structure", "must be an array"},
        Case{"SingleElementAsArray", Patient(R"("gender":["male"])"), "Patient.gender",
             "structure", "must not be an array"},
        Case{"EmptyObject", Patient(R"("maritalStatus":{})"), "Patient.maritalStatus",
             "structure", "empty object"},
        Case{"EmptyArray", Patient(R"("name":[])"), "Patient.name", "structure", "empty array"},
        Case{"EmptyString", Patient(R"("name":[{"family":""}])"), "Patient.name[0].family",
             "value", "empty string"},
        Case{"WhitespaceString", Patient(R"("name":[{"family":"  "}])"),
             "Patient.name[0].family", "value", "only whitespace"},
        // Found by the HTTP bad-input suite: an escaped NUL was stored.
        Case{"EscapedNulInString", Patient(R"("name":[{"family":"a\u0000b"}])"),
             "Patient.name[0].family", "value", "control character U+0000"},
        Case{"EscapedControlInCode", Patient(R"("gender":"male\u001b")"), "Patient.gender",
             "value", "control character U+001B"},
        Case{"NullSingle", Patient(R"("gender":null)"), "Patient.gender", "structure",
             "null is not allowed"},
        Case{"NullInArrayWithoutExtension", Patient(R"("name":[{"given":["a",null]}])"),
             "Patient.name[0].given[1]", "structure", "null is only allowed"},
        Case{"BooleanAsString", Patient(R"("active":"true")"), "Patient.active", "structure",
             "JSON boolean"},
        Case{"IntegerAsString", Patient(R"("multipleBirthInteger":"2")"),
             "Patient.multipleBirthInteger", "structure", "JSON number (integer)"},
        Case{"IntegerWithFraction", Patient(R"("multipleBirthInteger":2.0)"),
             "Patient.multipleBirthInteger", "value", "no fraction or exponent"},
        Case{"IntegerWithExponent", Patient(R"("multipleBirthInteger":1e2)"),
             "Patient.multipleBirthInteger", "value", "not a valid integer"},
        Case{"IntegerOutOfRange", Patient(R"("multipleBirthInteger":2147483648)"),
             "Patient.multipleBirthInteger", "value", "out of range"},
        Case{"PositiveIntZero",
             R"({"resourceType":"Parameters","parameter":[{"name":"n","valuePositiveInt":0}]})",
             "Parameters.parameter[0].valuePositiveInt", "value", "out of range for positiveInt"},
        Case{"UnsignedIntNegative",
             R"({"resourceType":"Parameters","parameter":[{"name":"n","valueUnsignedInt":-1}]})",
             "Parameters.parameter[0].valueUnsignedInt", "value", "out of range"},
        Case{"DecimalAsString",
             R"({"resourceType":"Observation","status":"final","code":{"text":"x"},)"
             R"("valueQuantity":{"value":"1.5"}})",
             "Observation.valueQuantity.value", "structure", "JSON number (decimal)"},
        Case{"StringAsNumber", Patient(R"("name":[{"family":1}])"), "Patient.name[0].family",
             "structure", "JSON string (string)"},
        Case{"BadDate", Patient(R"("birthDate":"1970-02-30")"), "Patient.birthDate", "value",
             "not a valid date"},
        Case{"DateWithTime", Patient(R"("birthDate":"1970-02-01T00:00:00Z")"),
             "Patient.birthDate", "value", "not a valid date"},
        Case{"DateTimeWithoutZone", Patient(R"("deceasedDateTime":"2024-01-01T10:00:00")"),
             "Patient.deceasedDateTime", "value", "not a valid dateTime"},
        Case{"DateTimeBadHour", Patient(R"("deceasedDateTime":"2024-01-01T24:00:00Z")"),
             "Patient.deceasedDateTime", "value", "not a valid dateTime"},
        Case{"InstantWithoutTime", R"({"resourceType":"Patient","meta":{"lastUpdated":"2024-01-01"}})",
             "Patient.meta.lastUpdated", "value", "not a valid instant"},
        Case{"BadTime",
             R"({"resourceType":"Parameters","parameter":[{"name":"t","valueTime":"25:00:00"}]})",
             "Parameters.parameter[0].valueTime", "value", "not a valid time"},
        Case{"BadId", R"({"resourceType":"Patient","id":"a b"})", "Patient.id", "value",
             "not a valid id"},
        Case{"TooLongId", R"({"resourceType":"Patient","id":")" + std::string(65, 'a') + R"("})",
             "Patient.id", "value", "not a valid id"},
        Case{"CodeWithDoubleSpace", Patient(R"("gender":"ma  le")"), "Patient.gender", "value",
             "not a valid code"},
        Case{"CodeWithLeadingSpace", Patient(R"("gender":" male")"), "Patient.gender", "value",
             "not a valid code"},
        Case{"UriWithSpace", Patient(R"("implicitRules":"http://a b")"), "Patient.implicitRules",
             "value", "not a valid uri"},
        Case{"BadOid",
             R"({"resourceType":"Parameters","parameter":[{"name":"o","valueOid":"1.2.3"}]})",
             "Parameters.parameter[0].valueOid", "value", "not a valid oid"},
        Case{"BadUuid",
             R"({"resourceType":"Parameters","parameter":[{"name":"u","valueUuid":"urn:uuid:X"}]})",
             "Parameters.parameter[0].valueUuid", "value", "not a valid uuid"},
        Case{"BadBase64", Patient(R"("photo":[{"data":"abc"}])"), "Patient.photo[0].data",
             "value", "not a valid base64Binary"},
        Case{"UnderscoreOnComplex", Patient(R"("_name":[{"id":"x"}])"), "Patient._name",
             "structure", "only allowed for primitive"},
        Case{"UnderscoreNotObject", Patient(R"("birthDate":"2000","_birthDate":"x")"),
             "Patient._birthDate", "structure", "must be an object"},
        Case{"UnderscoreUnknownMember", Patient(R"("birthDate":"2000","_birthDate":{"foo":1})"),
             "Patient._birthDate.foo", "structure", "unknown element 'foo' for date"},
        Case{"UnderscoreArrayMisaligned",
             Patient(R"("name":[{"given":["a","b"],"_given":[null]}])"), "Patient.name[0]._given",
             "structure", "as many entries"},
        Case{"UnderscoreArrayBothNull",
             Patient(R"("name":[{"given":["a",null],"_given":[{"id":"q"},null]}])"),
             "Patient.name[0].given[1]", "structure", "null is only allowed"},
        Case{"TwoChoices", Patient(R"("deceasedBoolean":true,"deceasedDateTime":"2020")"),
             "Patient.deceasedDateTime", "structure", "only one of deceased[x]"},
        Case{"ResourceTypeInsideDatatype", Patient(R"("name":[{"resourceType":"X","text":"a"}])"),
             "Patient.name[0].resourceType", "structure", "only allowed at the root"},
        Case{"ContainedUnknownType", Patient(R"("contained":[{"resourceType":"Nope"}])"),
             "Patient.contained[0].resourceType", "structure", "not a FHIR R4 resource type"},
        Case{"ContainedChecksItsOwnType",
             Patient(R"("contained":[{"resourceType":"Practitioner","gender":"x","birthDate":1}])"),
             "Patient.contained[0].birthDate", "structure", "JSON string (date)"},
        Case{"BundleEntryResourceChecked",
             R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":)"
             R"({"resourceType":"Patient","identifier":[{"value":""}]}}]})",
             "Bundle.entry[0].resource.identifier[0].value", "value", "empty string"},
        Case{"ParametersResourceChecked",
             R"({"resourceType":"Parameters","parameter":[{"name":"r","resource":)"
             R"({"resourceType":"Patient","active":1}}]})",
             "Parameters.parameter[0].resource.active", "structure", "JSON boolean"},
        Case{"ExtensionWithoutUrl", Patient(R"("extension":[{"valueString":"x"}])"),
             "Patient.extension[0]", "structure", "extension without url"},
        Case{"ExtensionWithoutValue", Patient(R"("extension":[{"url":"http://x"}])"),
             "Patient.extension[0]", "structure", "neither value[x] nor nested"},
        Case{"ExtensionWithValueAndNested",
             Patient(R"("extension":[{"url":"http://x","valueString":"a",)"
                     R"("extension":[{"url":"y","valueString":"b"}]}])"),
             "Patient.extension[0]", "structure", "both value[x] and nested"},
        Case{"ExtensionTwoValues",
             Patient(R"("modifierExtension":[{"url":"http://x","valueString":"a","valueCode":"b"}])"),
             "Patient.modifierExtension[0].valueCode", "structure", "only one of value[x]"},
        Case{"ExtensionUnknownValueType",
             Patient(R"("extension":[{"url":"http://x","valueFoo":"a"}])"),
             "Patient.extension[0].valueFoo", "structure", "unknown element"}),
    [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(StructureTest, ReportsEveryProblemNotJustTheFirst) {
  Result<Value> v = ParseResource(Patient(
      R"("id":"a b","active":"yes","name":[{"family":""}],"foo":1,"gender":["x"])"));
  ASSERT_FALSE(v.ok());
  std::vector<std::string> expressions;
  for (const Issue& i : v.status().issues()) expressions.push_back(i.expression);
  EXPECT_EQ(expressions, (std::vector<std::string>{"Patient.id", "Patient.active",
                                                   "Patient.name[0].family", "Patient.foo",
                                                   "Patient.gender"}));
}

TEST(StructureTest, CapsTheNumberOfIssues) {
  std::string members = R"("name":[)";
  for (int i = 0; i < 500; ++i) members += std::string(i ? "," : "") + R"({"family":""})";
  members += "]";
  Result<Value> v = ParseResource(Patient(members));
  ASSERT_FALSE(v.ok());
  const std::vector<Issue>& issues = v.status().issues();
  ASSERT_EQ(issues.size(), 101u);
  EXPECT_EQ(issues[99].expression, "Patient.name[99].family");
  EXPECT_EQ(issues[100].severity, Severity::kInformation);
  EXPECT_EQ(ValidateResourceStructure(*ParseJson(Patient(members)), 3).issues().size(), 4u);
}

std::string WithDeceased(const std::string& date_time) {
  return Patient("\"deceasedDateTime\":\"" + date_time + "\"");
}

TEST(StructureTest, DateTimeLexicalForms) {
  for (const char* dt : {"2024", "2024-02", "2024-02-29", "2024-02-29T23:59:60Z",
                         "2024-01-01T10:00:00.123456+09:00", "2024-01-01T00:00:00-14:00"}) {
    EXPECT_TRUE(ParseResource(WithDeceased(dt)).ok()) << dt;
  }
  for (const char* dt : {"24", "2023-02-29", "2024-13", "2024-01-01T10:00Z",
                         "2024-01-01T10:00:00+15:00", "2024-01-01T10:00:00.Z", "0000"}) {
    EXPECT_FALSE(ParseResource(WithDeceased(dt)).ok()) << dt;
  }
}

}  // namespace
}  // namespace clinshub::fhir
