// The real server with a generated population enrolled and a manual clock at the generator's
// "now", plus the calls the reading tests make: submit / replace / withdraw units as their
// sender, record a card-reader consent, and name a patient in a query.
#pragma once

#include <cctype>
#include <set>
#include <string>
#include <string_view>

#include "fhir/json.h"
#include "generator/generator.h"
#include "server_fixture.h"

namespace clinshub::testing {

inline std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

class ReadingFixture : public ServerFixture {
 protected:
  static constexpr char kReader[] = "1319999991";     // a clinic the patient visits
  static constexpr char kEmergency[] = "1319999992";  // an emergency hospital
  static constexpr char kStranger[] = "1319999993";   // no consent, no permission

  explicit ReadingFixture(generator::GeneratorOptions options) : gen_(options) {
    clock_ = &clock_manual_;
  }

  void SetUp() override {
    ServerFixture::SetUp();
    EnrolPopulation(gen_);
    EnrolInstitution(kReader);
    EnrolInstitution(kEmergency, /*emergency=*/true);
    EnrolInstitution(kStranger);
  }

  HttpResponse Submit(const generator::GeneratedSubmission& s, HeaderList extra = {}) {
    return Must(client_->SendJson("POST", "/Bundle", fhir::WriteJson(s.bundle),
                                  As(s.institution_code, std::move(extra))));
  }

  HttpResponse Withdraw(const generator::Withdrawal& w) {
    return Must(client_->Send(
        "DELETE",
        "/Bundle?identifier=" +
            PercentEncode(std::string(generator::kBundleIdentifierSystem) + "|" +
                          w.bundle_identifier) +
            "&patient.identifier=" + PercentEncode(w.patient_system + "|" + w.patient_identifier),
        As(w.institution_code)));
  }

  static std::string PatientParam(const generator::GeneratedSubmission& s) {
    return PercentEncode(s.patient_system + "|" + s.patient_identifier);
  }

  HttpResponse RecordConsent(const generator::GeneratedSubmission& s,
                             const std::string& institution) {
    fhir::Value consent = fhir::ParseJson(R"({
      "resourceType": "Consent", "status": "active",
      "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                            "code": "patient-privacy"}]},
      "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
      "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                 "code": "OPTIN"}]},
      "patient": {"identifier": {"system": "", "value": ""}}})").value();
    fhir::Value* id = consent.FindMutable("patient")->FindMutable("identifier");
    id->Set("system", fhir::Value::String(s.patient_system));
    id->Set("value", fhir::Value::String(s.patient_identifier));
    return Must(client_->SendJson("POST", "/Consent", fhir::WriteJson(consent), As(institution)));
  }

  // "institution|system|code|date" for every coding of the entry's resource.
  static std::set<std::string> EntryKeys(const fhir::Value& entry) {
    std::set<std::string> keys;
    const fhir::Value& res = *entry.Find("resource");
    const std::string_view type = res.StringAt("resourceType");
    std::string_view date = type == "Observation"         ? res.StringAt("effectiveDateTime")
                            : type == "MedicationRequest" ? res.StringAt("authoredOn")
                                                          : res.StringAt("onsetDateTime");
    std::string institution;
    const fhir::Value& reg = entry.Find("extension")->items()[0];
    for (const fhir::Value& part : reg.Find("extension")->items()) {
      if (part.StringAt("url") == "institution") {
        institution = std::string(part.Find("valueIdentifier")->StringAt("value"));
      }
    }
    const fhir::Value* code =
        res.Find(type == "MedicationRequest" ? "medicationCodeableConcept" : "code");
    if (code == nullptr || code->Find("coding") == nullptr) return keys;
    for (const fhir::Value& c : code->Find("coding")->items()) {
      keys.insert(institution + "|" + std::string(c.StringAt("system")) + "|" +
                  std::string(c.StringAt("code")) + "|" + std::string(date));
    }
    return keys;
  }

  // clinshub-gen's "now" (2026-01-01Z): generated dates lie before it.
  ManualClock clock_manual_{Timestamp(std::chrono::microseconds(1767225600000000))};
  generator::Generator gen_;
};

}  // namespace clinshub::testing
