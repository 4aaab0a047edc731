#include "fhir/model.h"

#include <algorithm>

namespace clinshub::fhir::model {
namespace {

#include "fhir/model_table.inc"

template <typename T>
const T* FindByName(std::span<const T> table, std::string_view name) {
  auto it = std::lower_bound(table.begin(), table.end(), name,
                             [](const T& t, std::string_view n) { return t.name < n; });
  return it != table.end() && it->name == name ? &*it : nullptr;
}

}  // namespace

const TypeDef* FindType(std::string_view name) {
  return FindByName(std::span<const TypeDef>(kTypes), name);
}

const TypeDef* FindResourceType(std::string_view name) {
  const TypeDef* t = FindType(name);
  return t != nullptr && t->kind == TypeKind::kResource ? t : nullptr;
}

const TypeDef& TypeAt(uint16_t index) { return kTypes[index]; }

std::span<const ElementDef> Elements(const TypeDef& type) {
  return std::span<const ElementDef>(kElements).subspan(type.first_element, type.element_count);
}

const ElementDef* FindElement(const TypeDef& type, std::string_view name) {
  return FindByName(Elements(type), name);
}

}  // namespace clinshub::fhir::model
