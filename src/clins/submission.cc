// Bundle-level acceptance of JP-CLINS submissions. The rules come from the JP-CLINS IG
// (clinical-core invariants/InvariantsRules.fsh, JP_Bundle_CLINS, the eReferral,
// eDischargeSummary and eCheckupReport bundle profiles); where versions disagree the newest
// rule wins (e.g. R1012 accepts a public-payer id, R1021 is anchored).
#include "clins/submission.h"

#include <string>
#include <unordered_map>
#include <unordered_set>

#include "clins/checks.h"
#include "clins/codes.h"

namespace clinshub::clins {
namespace internal {

void Issues::Add(const Rule& rule, std::string expression, std::string_view detail,
                 Severity severity) {
  std::string message;
  message.reserve(rule.key.size() + rule.en.size() + rule.ja.size() + detail.size() + 8);
  message.append(rule.key).append(": ").append(rule.en);
  if (!detail.empty()) message.append(" (").append(detail).append(")");
  message.append(" / ").append(rule.ja);
  if (severity == Severity::kError || severity == Severity::kFatal) ++errors_;
  issues_.push_back(Issue{severity, std::string(rule.code), std::move(expression),
                          std::string(rule.id), std::move(message)});
}

const fhir::Value* Member(const fhir::Value& v, std::string_view key) { return v.Find(key); }

std::string_view Str(const fhir::Value& v, std::string_view key) {
  const fhir::Value* m = v.Find(key);
  return m && m->is_string() ? std::string_view(m->text()) : std::string_view();
}

bool HasNonEmpty(const fhir::Value& v, std::string_view key) {
  const fhir::Value* m = v.Find(key);
  if (!m || m->is_null()) return false;
  if (m->is_string()) return !m->text().empty();
  if (m->is_array()) return !m->items().empty();
  if (m->is_object()) return !m->members().empty();
  return true;
}

std::string_view StripVersion(std::string_view url) {
  const auto bar = url.find('|');
  return bar == std::string_view::npos ? url : url.substr(0, bar);
}

bool HasProfile(const fhir::Value& resource, std::string_view url) {
  const fhir::Value* meta = resource.Find("meta");
  const fhir::Value* profiles = meta ? meta->Find("profile") : nullptr;
  if (!profiles) return false;
  for (const auto& p : profiles->items()) {
    if (p.is_string() && StripVersion(p.text()) == url) return true;
  }
  return false;
}

bool HasProfilePrefix(const fhir::Value& resource, std::string_view prefix) {
  const fhir::Value* meta = resource.Find("meta");
  const fhir::Value* profiles = meta ? meta->Find("profile") : nullptr;
  if (!profiles) return false;
  for (const auto& p : profiles->items()) {
    if (p.is_string() && p.text().starts_with(prefix)) return true;
  }
  return false;
}

const fhir::Value* FindExtension(const fhir::Value& v, std::string_view url, int* index) {
  const fhir::Value* exts = v.Find("extension");
  if (!exts) return nullptr;
  for (size_t i = 0; i < exts->items().size(); ++i) {
    if (Str(exts->items()[i], "url") == url) {
      if (index) *index = static_cast<int>(i);
      return &exts->items()[i];
    }
  }
  return nullptr;
}

std::string Idx(std::string_view base, std::string_view key, size_t i) {
  std::string out(base);
  out.append(".").append(key).append("[").append(std::to_string(i)).append("]");
  return out;
}

}  // namespace internal

namespace {

using internal::EntryContext;
using internal::Issues;
using internal::Shared;
using internal::Str;
namespace R = rules;

constexpr std::string_view kBundleIdentifierSystem = "http://jpfhir.jp/fhir/clins/bundle-identifier";
constexpr std::string_view kResourceTypeCs =
    "http://jpfhir.jp/fhir/clins/CodeSystem/BundleResourceType_CS";
constexpr std::string_view kPatientEcs = "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Patient_eCS";

struct ProfileKind {
  std::string_view url;
  enum { kClins, kReferral, kDischarge, kCheckup, kNotSubmission, kLegacy } what;
};
// Bundle profiles the hub knows. Only the JP-CLINS ones are submission types; the older
// stand-alone IG URLs are named so the sender learns what to change.
constexpr ProfileKind kBundleProfiles[] = {
    {"http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS", ProfileKind::kClins},
    {"http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eReferral", ProfileKind::kReferral},
    {"http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eDischargeSummary", ProfileKind::kDischarge},
    {"http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eCheckupGeneral", ProfileKind::kCheckup},
    {"http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_ePCS", ProfileKind::kNotSubmission},
    {"http://jpfhir.jp/fhir/eReferral/StructureDefinition/JP_Bundle_eReferral", ProfileKind::kLegacy},
    {"http://jpfhir.jp/fhir/eDischargeSummary/StructureDefinition/JP_Bundle_eDischargeSummary", ProfileKind::kLegacy},
    {"http://jpfhir.jp/fhir/eCheckup/StructureDefinition/JP_Bundle_eCheckupGeneral", ProfileKind::kLegacy},
};

const ProfileKind* ClassifyProfile(const fhir::Value& bundle, size_t* at) {
  const fhir::Value* meta = bundle.Find("meta");
  const fhir::Value* profiles = meta ? meta->Find("profile") : nullptr;
  if (!profiles) return nullptr;
  for (size_t i = 0; i < profiles->items().size(); ++i) {
    const auto& p = profiles->items()[i];
    if (!p.is_string()) continue;
    for (const auto& k : kBundleProfiles) {
      if (internal::StripVersion(p.text()) == k.url) {
        *at = i;
        return &k;
      }
    }
  }
  return nullptr;
}

// Documents whose bundle profile is missing are still classified by Composition.type so the
// sender gets every other problem in the same answer.
std::optional<SubmissionKind> KindFromComposition(const fhir::Value& bundle) {
  const fhir::Value* entries = bundle.Find("entry");
  if (!entries || entries->items().empty()) return std::nullopt;
  const fhir::Value* res = entries->items()[0].Find("resource");
  const fhir::Value* type = res ? res->Find("type") : nullptr;
  const fhir::Value* codings = type ? type->Find("coding") : nullptr;
  if (!codings) return std::nullopt;
  for (const auto& c : codings->items()) {
    const auto code = Str(c, "code");
    if (code == "57133-1") return SubmissionKind::kReferral;
    if (code == "18842-5") return SubmissionKind::kDischargeSummary;
    if (code == "53576-5") return SubmissionKind::kCheckup;
  }
  return std::nullopt;
}

// Walks every "reference" below `v`, checking it resolves: "#id" to a contained resource of
// the top-level entry ("#" alone to the container), anything else to the Patient's fullUrl
// (6 information) or to an entry fullUrl (documents).
class ReferenceWalker {
 public:
  ReferenceWalker(Shared& s, bool document, const std::unordered_map<std::string, int>& full_urls)
      : s_(s), document_(document), full_urls_(full_urls) {}

  void WalkEntry(const fhir::Value& resource, const std::string& path) {
    contained_ids_.clear();
    if (const auto* contained = resource.Find("contained")) {
      for (const auto& c : contained->items()) contained_ids_.insert(std::string(Str(c, "id")));
    }
    path_ = path;
    Walk(resource);
  }

 private:
  // The path is one buffer grown and shrunk as the walk descends, so a clean bundle costs no
  // allocation per element.
  void Walk(const fhir::Value& v) {
    const size_t mark = path_.size();
    if (v.is_array()) {
      for (size_t i = 0; i < v.items().size(); ++i) {
        path_.append("[").append(std::to_string(i)).append("]");
        Walk(v.items()[i]);
        path_.resize(mark);
      }
      return;
    }
    if (!v.is_object()) return;
    for (const auto& [key, child] : v.members()) {
      if (child.is_string() && key != "reference") continue;
      path_.append(".").append(key);
      if (key == "reference") {
        if (child.is_string()) Check(child.text(), path_);
      } else if (key != "div") {
        Walk(child);
      }
      path_.resize(mark);
    }
  }

  void Check(const std::string& ref, const std::string& path) {
    if (ref.starts_with("#")) {
      if (ref.size() > 1 && !contained_ids_.contains(ref.substr(1))) {
        s_.issues.Add(R::kContainedUnresolved, path, ref);
      }
      return;
    }
    if (document_) {
      if (!full_urls_.contains(ref)) s_.issues.Add(R::kDocReferenceTarget, path, ref);
    } else if (ref != s_.patient_full_url) {
      s_.issues.Add(R::kReferenceTarget, path, ref);
    }
  }

  Shared& s_;
  bool document_;
  const std::unordered_map<std::string, int>& full_urls_;
  std::unordered_set<std::string> contained_ids_;
  std::string path_;
};

void CheckIdentifier(Shared& s, const fhir::Value& bundle) {
  const fhir::Value* id = bundle.Find("identifier");
  if (!id || !id->is_object() || Str(*id, "system") != kBundleIdentifierSystem) {
    s.issues.Add(R::kIdentifierSystem, id ? "Bundle.identifier.system" : "Bundle.identifier",
                 id ? Str(*id, "system") : std::string_view());
    if (id) s.facts.bundle_id_system = std::string(Str(*id, "system"));
    return;
  }
  s.facts.bundle_id_system = std::string(kBundleIdentifierSystem);
  const auto value = Str(*id, "value");
  s.facts.bundle_id_value = std::string(value);
  if (!IsBundleIdentifierValue(value)) {
    s.issues.Add(R::kIdentifierValue, "Bundle.identifier.value", value);
    return;
  }
  s.facts.institution = std::string(value.substr(0, 10));
  if (!s.ctx.caller_institution.empty() && s.facts.institution != s.ctx.caller_institution) {
    s.issues.Add(R::kSenderMismatch, "Bundle.identifier.value",
                 "bundle " + s.facts.institution + ", sender " + s.ctx.caller_institution);
  }
}

// The 6 information: collection, Patient first, one tagged resource type.
void CheckCollection(Shared& s, const fhir::Value& bundle, const fhir::Value& entries) {
  const fhir::Value* meta = bundle.Find("meta");
  const fhir::Value* tags = meta ? meta->Find("tag") : nullptr;
  std::vector<std::pair<size_t, std::string_view>> type_tags;
  if (tags) {
    for (size_t i = 0; i < tags->items().size(); ++i) {
      if (Str(tags->items()[i], "system") == kResourceTypeCs) {
        type_tags.emplace_back(i, Str(tags->items()[i], "code"));
      }
    }
  }
  std::string_view tagged;
  if (type_tags.empty()) {
    s.issues.Add(R::kTagExists, "Bundle.meta.tag");
  } else if (type_tags.size() > 1) {
    s.issues.Add(R::kTagValid, internal::Idx("Bundle.meta", "tag", type_tags[1].first),
                 "more than one resource-type tag");
  } else {
    tagged = type_tags[0].second;
    if (tagged == "Condition") {
      s.facts.kind = SubmissionKind::kConditions;
    } else if (tagged == "AllergyIntolerance") {
      s.facts.kind = SubmissionKind::kAllergies;
    } else if (tagged == "Observation") {
      s.facts.kind = SubmissionKind::kObservations;
    } else {
      s.issues.Add(R::kTagValid, internal::Idx("Bundle.meta", "tag", type_tags[0].first) + ".code",
                   tagged);
      tagged = {};
    }
  }

  const auto& items = entries.items();
  const fhir::Value* first = items.empty() ? nullptr : items[0].Find("resource");
  if (!first || Str(*first, "resourceType") != "Patient") {
    s.issues.Add(R::kFirstEntryPatient, "Bundle.entry[0].resource");
  } else {
    s.facts.patient_entry = 0;
    s.patient_full_url = std::string(Str(items[0], "fullUrl"));
    if (!internal::HasProfile(*first, kPatientEcs)) {
      s.issues.Add(R::kPatientProfile, "Bundle.entry[0].resource.meta.profile");
    }
    CheckPatient(s, EntryContext{*first, "Bundle.entry[0].resource", 0, false});
  }

  int tagged_count = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    const fhir::Value* res = items[i].Find("resource");
    if (!res) continue;
    const std::string path = "Bundle.entry[" + std::to_string(i) + "].resource";
    const auto type = Str(*res, "resourceType");
    EntryContext e{*res, path, static_cast<int>(i), false};
    CheckInstitution(s, e, true);
    CheckFlags(s, e);
    if (type == "Patient") {
      s.issues.Add(R::kEntryTypeMismatch, path, "a second Patient");
      continue;
    }
    if (!tagged.empty() && type != tagged) {
      s.issues.Add(R::kEntryTypeMismatch, path + ".resourceType",
                   std::string(type) + " in a bundle tagged " + std::string(tagged));
      continue;
    }
    if (type == "Condition") {
      CheckCondition(s, e);
    } else if (type == "AllergyIntolerance") {
      CheckAllergy(s, e);
    } else if (type == "Observation") {
      CheckObservation(s, e);
    } else {
      s.issues.Add(R::kEntryTypeMismatch, path + ".resourceType", type);
      continue;
    }
    if (type == tagged) {
      ++tagged_count;
      s.facts.item_entries.push_back(static_cast<int>(i));
    }
  }
  if (!tagged.empty() && tagged_count == 0) s.issues.Add(R::kTagHasEntries, "Bundle.entry");
}

}  // namespace

std::string_view SubmissionKindName(SubmissionKind kind) {
  switch (kind) {
    case SubmissionKind::kConditions: return "conditions";
    case SubmissionKind::kAllergies: return "allergies";
    case SubmissionKind::kObservations: return "observations";
    case SubmissionKind::kReferral: return "referral";
    case SubmissionKind::kDischargeSummary: return "discharge-summary";
    case SubmissionKind::kCheckup: return "checkup";
  }
  return "unknown";
}

bool IsDocument(SubmissionKind kind) {
  return kind == SubmissionKind::kReferral || kind == SubmissionKind::kDischargeSummary ||
         kind == SubmissionKind::kCheckup;
}

Status CheckSubmissionSize(size_t bytes) {
  if (bytes <= kMaxSubmissionBytes) return Status::Ok();
  const Rule& r = rules::kSubmissionTooLarge;
  return Status::Error(ErrorCode::kPayloadTooLarge, std::string(r.code),
                       std::string(r.key) + ": " + std::string(r.en) + " / " + std::string(r.ja));
}

Result<SubmissionFacts> ValidateSubmission(const fhir::Value& bundle, const ValidationContext& ctx) {
  Issues issues;
  SubmissionFacts facts;
  Shared s{ctx, issues, facts, {}};
  auto reject = [&]() { return Status(ErrorCode::kUnprocessable, std::move(issues.all())); };

  if (!bundle.is_object() || Str(bundle, "resourceType") != "Bundle") {
    issues.Add(R::kNotBundle, "Bundle");
    return reject();
  }

  // 1. What is this submission?
  size_t profile_at = 0;
  const ProfileKind* profile = ClassifyProfile(bundle, &profile_at);
  const auto bundle_type = Str(bundle, "type");
  bool document = bundle_type == "document";
  if (profile && profile->what == ProfileKind::kNotSubmission) {
    issues.Add(R::kNotSubmissionType, internal::Idx("Bundle.meta", "profile", profile_at),
               profile->url);
    return reject();  // nothing else in it can be judged against a submission profile
  }
  if (profile && profile->what == ProfileKind::kLegacy) {
    issues.Add(R::kLegacyProfile, internal::Idx("Bundle.meta", "profile", profile_at), profile->url);
  }
  if (!profile || profile->what == ProfileKind::kLegacy) {
    if (!profile) issues.Add(R::kBundleProfile, "Bundle.meta.profile");
    const auto from_composition = document ? KindFromComposition(bundle) : std::nullopt;
    if (document && !from_composition) return reject();
    if (from_composition) facts.kind = *from_composition;
  } else {
    switch (profile->what) {
      case ProfileKind::kReferral: facts.kind = SubmissionKind::kReferral; break;
      case ProfileKind::kDischarge: facts.kind = SubmissionKind::kDischargeSummary; break;
      case ProfileKind::kCheckup: facts.kind = SubmissionKind::kCheckup; break;
      default: break;  // collection: the kind comes from the resource-type tag
    }
    const bool want_document = profile->what != ProfileKind::kClins;
    if (bundle_type != (want_document ? "document" : "collection")) {
      issues.Add(R::kBundleType, "Bundle.type",
                 std::string(bundle_type) + ", expected " + (want_document ? "document" : "collection"));
      document = want_document;
    }
  }

  // 2. Reporting unit and entries.
  CheckIdentifier(s, bundle);
  const fhir::Value* entries = bundle.Find("entry");
  if (!entries || !entries->is_array() || entries->items().empty()) {
    issues.Add(R::kNoEntries, "Bundle.entry");
    return reject();
  }
  internal::DocumentEntries doc_entries{{}, &bundle};
  for (size_t i = 0; i < entries->items().size(); ++i) {
    const auto& entry = entries->items()[i];
    const std::string path = internal::Idx("Bundle", "entry", i);
    const auto full_url = Str(entry, "fullUrl");
    if (!IsUrnUuid(full_url)) {
      issues.Add(R::kFullUrl, path + ".fullUrl", full_url);
    } else if (!doc_entries.by_full_url.emplace(std::string(full_url), static_cast<int>(i)).second) {
      issues.Add(R::kFullUrlUnique, path + ".fullUrl", full_url);
    }
    const fhir::Value* res = entry.Find("resource");
    if (!res || !res->is_object() || Str(*res, "resourceType").empty()) {
      issues.Add(R::kEntryResource, path + ".resource");
    }
  }

  // 3. Content.
  if (document) {
    if (!bundle.Find("timestamp")) issues.Add(R::kBundleTimestamp, "Bundle.timestamp");
    internal::CheckDocument(s, bundle, doc_entries);
  } else {
    CheckCollection(s, bundle, *entries);
  }

  // 4. References, now that the Patient's fullUrl is known.
  ReferenceWalker walker(s, document, doc_entries.by_full_url);
  for (size_t i = 0; i < entries->items().size(); ++i) {
    const fhir::Value* res = entries->items()[i].Find("resource");
    if (res && res->is_object()) walker.WalkEntry(*res, internal::Idx("Bundle", "entry", i) + ".resource");
  }

  if (issues.has_errors()) return reject();
  facts.warnings = std::move(issues.all());
  return facts;
}

}  // namespace clinshub::clins
