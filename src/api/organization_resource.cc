#include "api/organization_resource.h"

#include <map>

#include "access/bulk_load.h"
#include "common/clock.h"

namespace clinshub::api {
namespace {

using fhir::Value;

Value S(const std::string& s) { return Value::String(s); }

const Value* ExtensionOf(const Value& v, std::string_view url, size_t* index) {
  const Value* extensions = v.Find("extension");
  if (extensions == nullptr) return nullptr;
  for (size_t i = 0; i < extensions->items().size(); ++i) {
    if (extensions->items()[i].StringAt("url") == url) {
      *index = i;
      return &extensions->items()[i];
    }
  }
  return nullptr;
}

}  // namespace

Value OrganizationFromRecord(const store::InstitutionRecord& r) {
  Value o = Value::Object();
  o.Set("resourceType", S("Organization"));
  o.Set("id", S(r.code));
  o.Set("meta", Value::Object()).Set("lastUpdated", S(FormatInstant(r.updated)));
  Value& extension = o.Set("extension", Value::Array());
  Value emergency = Value::Object();
  emergency.Set("url", S(kEmergencyPermissionExtension));
  emergency.Set("valueBoolean", Value::Bool(r.emergency_permitted));
  extension.Append(std::move(emergency));
  Value identifier = Value::Object();
  identifier.Set("system", S(kInstitutionCodeSystem));
  identifier.Set("value", S(r.code));
  o.Set("identifier", Value::Array()).Append(std::move(identifier));
  o.Set("active", Value::Bool(r.active));
  Value coding = Value::Object();
  coding.Set("system", S(kInstitutionKindSystem));
  coding.Set("code", S(r.kind));
  Value type = Value::Object();
  type.Set("coding", Value::Array()).Append(std::move(coding));
  o.Set("type", Value::Array()).Append(std::move(type));
  o.Set("name", S(r.name));
  if (!r.kana.empty()) o.Set("alias", Value::Array()).Append(S(r.kana));
  if (!r.phone.empty()) {
    Value phone = Value::Object();
    phone.Set("system", S("phone"));
    phone.Set("value", S(r.phone));
    o.Set("telecom", Value::Array()).Append(std::move(phone));
  }
  if (!r.address.empty() || !r.postcode.empty()) {
    Value address = Value::Object();
    if (!r.address.empty()) address.Set("text", S(r.address));
    if (!r.postcode.empty()) address.Set("postalCode", S(r.postcode));
    address.Set("country", S("JP"));
    o.Set("address", Value::Array()).Append(std::move(address));
  }
  return o;
}

Result<store::InstitutionRecord> RecordFromOrganization(const Value& org,
                                                        const std::string& code) {
  std::string_view id = org.StringAt("id");
  if (!id.empty() && id != code) {
    return Status::Error(ErrorCode::kMalformed, "invalid",
                         "The resource id '" + std::string(id) + "' does not match the URL's '" +
                             code + "'",
                         "Organization.id");
  }
  std::vector<Issue> issues;
  auto problem = [&](std::string expression, std::string message) {
    issues.push_back(Issue{Severity::kError, "invalid", std::move(expression), {},
                           std::move(message)});
  };
  store::InstitutionRecord r;
  r.code = code;
  if (const Value* ids = org.Find("identifier")) {
    for (size_t i = 0; i < ids->items().size(); ++i) {
      const Value& identifier = ids->items()[i];
      if (identifier.StringAt("system") == kInstitutionCodeSystem &&
          identifier.StringAt("value") != code) {
        problem("Organization.identifier[" + std::to_string(i) + "].value",
                "The institution code '" + std::string(identifier.StringAt("value")) +
                    "' does not match the URL's '" + code + "'");
      }
    }
  }
  r.name = std::string(org.StringAt("name"));
  std::string kana_expression = "Organization.alias[0]";
  if (const Value* alias = org.Find("alias"); alias != nullptr && !alias->items().empty()) {
    r.kana = alias->items()[0].text();
  } else {
    size_t at = 0;
    if (const Value* ext = ExtensionOf(org, kNameKanaExtension, &at)) {
      r.kana = std::string(ext->StringAt("valueString"));
      kana_expression = "Organization.extension[" + std::to_string(at) + "].valueString";
    }
  }
  if (const Value* types = org.Find("type")) {
    for (const Value& type : types->items()) {
      const Value* codings = type.Find("coding");
      if (codings == nullptr) continue;
      for (const Value& coding : codings->items()) {
        if (coding.StringAt("system") == kInstitutionKindSystem) {
          r.kind = std::string(coding.StringAt("code"));
        }
      }
    }
  }
  if (const Value* active = org.Find("active")) r.active = active->bool_value();
  std::string phone_expression = "Organization.telecom";
  if (const Value* telecom = org.Find("telecom")) {
    for (size_t i = 0; i < telecom->items().size(); ++i) {
      if (telecom->items()[i].StringAt("system") == "phone") {
        r.phone = std::string(telecom->items()[i].StringAt("value"));
        phone_expression = "Organization.telecom[" + std::to_string(i) + "].value";
        break;
      }
    }
  }
  if (const Value* addresses = org.Find("address");
      addresses != nullptr && !addresses->items().empty()) {
    const Value& address = addresses->items()[0];
    r.postcode = std::string(address.StringAt("postalCode"));
    r.address = std::string(address.StringAt("text"));
    if (r.address.empty()) {
      r.address = std::string(address.StringAt("state")) + std::string(address.StringAt("city"));
      if (const Value* lines = address.Find("line")) {
        for (const Value& line : lines->items()) r.address += line.text();
      }
    }
  }
  size_t at = 0;
  if (const Value* ext = ExtensionOf(org, kEmergencyPermissionExtension, &at)) {
    const Value* flag = ext->Find("valueBoolean");
    if (flag == nullptr) {
      problem("Organization.extension[" + std::to_string(at) + "]",
              "The emergency-care-permission extension needs valueBoolean");
    } else {
      r.emergency_permitted = flag->bool_value();
    }
  }
  const std::map<std::string, std::string> expressions = {
      {"code", "Organization.identifier"},
      {"name", "Organization.name"},
      {"kana", kana_expression},
      {"kind", "Organization.type"},
      {"postcode", "Organization.address[0].postalCode"},
      {"address", "Organization.address[0].text"},
      {"phone", phone_expression},
  };
  for (const access::FieldProblem& p : access::CheckInstitution(r)) {
    std::string message = p.message;
    if (p.field == "kana" && message == "required") {
      message = "required: the name in kana as alias[0] (or the " +
                std::string(kNameKanaExtension) + " extension)";
    } else if (p.field == "kind" && message == "required") {
      message = "required: a type coding in " + std::string(kInstitutionKindSystem) +
                " (hospital, clinic or checkup)";
    }
    problem(expressions.at(p.field), p.field + ": " + message);
  }
  if (!issues.empty()) return Status(ErrorCode::kUnprocessable, std::move(issues));
  return r;
}

}  // namespace clinshub::api
