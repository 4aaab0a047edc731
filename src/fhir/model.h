// The FHIR R4 base model as a compiled-in table: for each resource, datatype and backbone
// element, its members, their types and whether they repeat. Generated from the core
// StructureDefinitions by tools/fhir_model (see its README); lookups are binary searches over
// constant sorted arrays, so they are cheap, allocation-free and thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace clinshub::fhir::model {

enum class TypeKind : uint8_t {
  kPrimitive,         // boolean, string, date, ...
  kComplex,           // datatypes: CodeableConcept, Extension, ...
  kResource,          // concrete resources: Patient, Bundle, ...
  kAbstractResource,  // Resource, DomainResource: "any resource", chosen by resourceType
  kBackbone,          // nested element types named by path: "Bundle.entry"
};

enum class Primitive : uint8_t {
  kNone, kBoolean, kInteger, kPositiveInt, kUnsignedInt, kDecimal, kString, kCode, kId, kUri,
  kUrl, kCanonical, kOid, kUuid, kDate, kDateTime, kInstant, kTime, kBase64Binary, kMarkdown,
  kXhtml,
};

struct ElementDef {
  std::string_view name;    // JSON member name; choices expanded ("valueQuantity")
  uint16_t type;            // index into the type table
  bool array;               // max cardinality > 1
  std::string_view choice;  // choice group ("value" for value[x]), empty if not a choice
};

struct TypeDef {
  std::string_view name;
  TypeKind kind;
  Primitive primitive;  // kNone unless kind == kPrimitive
  uint32_t first_element;
  uint32_t element_count;
};

// By exact name ("Patient", "Bundle.entry", "dateTime"); nullptr if unknown.
const TypeDef* FindType(std::string_view name);
// A concrete R4 resource type (what resourceType may name); nullptr otherwise.
const TypeDef* FindResourceType(std::string_view name);
const TypeDef& TypeAt(uint16_t index);
std::span<const ElementDef> Elements(const TypeDef& type);
// The member `name` of `type`; nullptr if the type has no such element.
const ElementDef* FindElement(const TypeDef& type, std::string_view name);

}  // namespace clinshub::fhir::model
