// Table-driven: a generated valid bundle, mutated to break exactly one JP-CLINS rule, is refused
// over HTTP with 422 naming that rule and where it broke — and nothing is stored.
#include <gtest/gtest.h>

#include <functional>

#include "fhir/json.h"
#include "generator/generator.h"
#include "server_fixture.h"

namespace clinshub {
namespace {

using generator::GeneratedSubmission;
using generator::SubmissionKind;
using testing::HttpResponse;

fhir::Value& Entry(fhir::Value& bundle, size_t i) {
  return bundle.FindMutable("entry")->mutable_items().at(i);
}
fhir::Value& Res(fhir::Value& bundle, size_t i) { return *Entry(bundle, i).FindMutable("resource"); }
fhir::Value Str(std::string s) { return fhir::Value::String(std::move(s)); }

struct RuleCase {
  const char* name;
  SubmissionKind kind;
  const char* rule;
  const char* expression;  // an issue with this rule must have exactly this expression
  std::function<void(fhir::Value&)> mutate;
};

void PrintTo(const RuleCase& c, std::ostream* os) { *os << c.name; }

const std::vector<RuleCase>& Cases() {
  static const std::vector<RuleCase> cases = {
      {"BundleProfile", SubmissionKind::kCondition, "R0213", "Bundle.meta.profile",
       [](fhir::Value& b) {
         b.FindMutable("meta")->Set("profile", fhir::Value::Array());
         b.FindMutable("meta")->FindMutable("profile")->Append(Str("http://example.org/Other"));
       }},
      {"ResourceTypeTagMissing", SubmissionKind::kCondition, "R02141", "Bundle.meta.tag",
       [](fhir::Value& b) { b.FindMutable("meta")->Erase("tag"); }},
      {"ResourceTypeTagInvalid", SubmissionKind::kCondition, "R02142", "Bundle.meta.tag[0].code",
       [](fhir::Value& b) {
         b.FindMutable("meta")->FindMutable("tag")->mutable_items()[0].Set("code",
                                                                            Str("Procedure"));
       }},
      {"PatientFirst", SubmissionKind::kCondition, "R0211", "Bundle.entry[0].resource",
       [](fhir::Value& b) {
         auto& e = b.FindMutable("entry")->mutable_items();
         std::swap(e[0], e[1]);
       }},
      {"BundleIdentifierSystem", SubmissionKind::kCondition, "R02151",
       "Bundle.identifier.system",
       [](fhir::Value& b) { b.FindMutable("identifier")->Set("system", Str("urn:example")); }},
      {"BundleIdentifierValue", SubmissionKind::kAllergy, "R02152", "Bundle.identifier.value",
       [](fhir::Value& b) { b.FindMutable("identifier")->Set("value", Str("1312345678^99^x")); }},
      {"InsuranceIdentifierFormat", SubmissionKind::kObservation, "R1013",
       "Bundle.entry[0].resource.identifier[1].value",
       [](fhir::Value& b) {
         for (fhir::Value& id : Res(b, 0).FindMutable("identifier")->mutable_items()) {
           if (id.StringAt("system") == generator::kInsuranceMemberIdSystem) {
             id.Set("value", Str("123:a:b:c"));
           }
         }
       }},
      {"InstitutionNumberMissing", SubmissionKind::kCondition, "R9011",
       "Bundle.entry[1].resource.extension",
       [](fhir::Value& b) { Res(b, 1).Erase("extension"); }},
      {"ConditionOnset", SubmissionKind::kCondition, "R9015C",
       "Bundle.entry[1].resource.onsetDateTime",
       [](fhir::Value& b) { Res(b, 1).Erase("onsetDateTime"); }},
      {"ObservationHasMember", SubmissionKind::kObservation, "R6081",
       "Bundle.entry[1].resource.hasMember",
       [](fhir::Value& b) {
         fhir::Value ref = fhir::Value::Object();
         ref.Set("reference", Str("#x"));
         fhir::Value list = fhir::Value::Array();
         list.Append(std::move(ref));
         Res(b, 1).Set("hasMember", std::move(list));
       }},
  };
  return cases;
}

class SubmissionRulesTest : public testing::ServerFixture,
                            public ::testing::WithParamInterface<RuleCase> {};

TEST_P(SubmissionRulesTest, BrokenRuleIsNamedWithItsPathAndNothingIsStored) {
  const RuleCase& c = GetParam();
  generator::Generator gen(generator::GeneratorOptions{.seed = 11, .persons = 2});
  const GeneratedSubmission* original = nullptr;
  std::vector<GeneratedSubmission> all = gen.SubmissionsFor(gen.population().persons[0]);
  for (const GeneratedSubmission& s : all) {
    if (s.kind == c.kind) {
      original = &s;
      break;
    }
  }
  ASSERT_NE(original, nullptr);
  fhir::Value bundle = original->bundle;
  c.mutate(bundle);

  HttpResponse r = Must(client_->SendJson("POST", "/Bundle", fhir::WriteJson(bundle)));
  ASSERT_EQ(r.status, 422) << r.body;
  fhir::Value outcome = Json(r);
  bool named = false;
  std::vector<std::string> seen;
  for (const fhir::Value& issue : outcome.Find("issue")->items()) {
    const fhir::Value* details = issue.Find("details");
    std::string rule = details && details->Find("coding")
                           ? std::string(details->Find("coding")->items()[0].StringAt("code"))
                           : "";
    std::string expression = issue.Find("expression")
                                 ? std::string(issue.Find("expression")->items()[0].text())
                                 : "";
    seen.push_back(rule + " @ " + expression);
    if (rule == c.rule && expression == c.expression) named = true;
  }
  EXPECT_TRUE(named) << "want " << c.rule << " @ " << c.expression << "; got:\n"
                     << ::testing::PrintToString(seen);

  // Nothing of the refused unit exists.
  HttpResponse status = Must(client_->Get(
      "/Bundle/$status?identifier=" + std::string(generator::kBundleIdentifierSystem) + "|" +
      std::string(bundle.Find("identifier")->StringAt("value"))));
  EXPECT_EQ(status.status, 404) << status.body;
}

INSTANTIATE_TEST_SUITE_P(Rules, SubmissionRulesTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace clinshub
