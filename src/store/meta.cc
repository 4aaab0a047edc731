#include "store/meta.h"

#include <algorithm>

namespace clinshub::store {

namespace {

constexpr size_t kMaxIdLength = 64;

bool IsFhirId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.';
  });
}

}  // namespace

Result<ResourceName> NameOf(const fhir::Value& resource) {
  if (!resource.is_object()) return MalformedError("a resource must be a JSON object");
  const fhir::Value* type = resource.Find("resourceType");
  if (type == nullptr || !type->is_string() || type->text().empty()) {
    return MalformedError("resource has no resourceType", "resourceType");
  }
  const fhir::Value* id = resource.Find("id");
  if (id == nullptr || !id->is_string() || !IsFhirId(id->text())) {
    return MalformedError("resource id must match [A-Za-z0-9\\-\\.]{1,64}",
                          type->text() + ".id");
  }
  return ResourceName{type->text(), id->text()};
}

Timestamp TruncateToMillis(Timestamp t) {
  return std::chrono::floor<std::chrono::milliseconds>(t);
}

Timestamp NextLastUpdated(Timestamp now, std::optional<Timestamp> previous) {
  const Timestamp truncated = TruncateToMillis(now);
  if (previous.has_value() && *previous > truncated) return *previous;
  return truncated;
}

void SetId(fhir::Value& resource, const std::string& id) {
  if (fhir::Value* existing = resource.FindMutable("id"); existing != nullptr) {
    *existing = fhir::Value::String(id);
    return;
  }
  auto& members = resource.mutable_members();
  auto after_type = std::find_if(members.begin(), members.end(),
                                 [](const auto& m) { return m.first == "resourceType"; });
  if (after_type != members.end()) ++after_type;
  members.insert(after_type, {"id", fhir::Value::String(id)});
}

Status StampMeta(fhir::Value& resource, int64_t version, Timestamp last_updated) {
  fhir::Value* meta = resource.FindMutable("meta");
  if (meta == nullptr) {
    auto& members = resource.mutable_members();
    auto after_id = std::find_if(members.begin(), members.end(),
                                 [](const fhir::Value::Member& m) { return m.first == "id"; });
    if (after_id != members.end()) ++after_id;
    meta = &members.insert(after_id, {"meta", fhir::Value::Object()})->second;
  } else if (!meta->is_object()) {
    return MalformedError("meta must be an object",
                          std::string(resource.StringAt("resourceType")) + ".meta");
  }
  meta->Set("versionId", fhir::Value::String(std::to_string(version)));
  meta->Set("lastUpdated", fhir::Value::String(FormatInstant(last_updated)));
  return Status::Ok();
}

}  // namespace clinshub::store
