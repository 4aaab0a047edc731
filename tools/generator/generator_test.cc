#include "generator/generator.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "fhir/json.h"

#ifdef CLINSHUB_HAVE_CLINS
#include "clins/codes.h"
#include "clins/submission.h"
#endif

namespace clinshub::generator {
namespace {

using fhir::Value;

GeneratorOptions Options(uint64_t seed, int persons) {
  GeneratorOptions o;
  o.seed = seed;
  o.persons = persons;
  o.institutions = 20;
  return o;
}

std::vector<GeneratedSubmission> All(const Generator& g) {
  std::vector<GeneratedSubmission> out;
  for (const Person& p : g.population().persons)
    for (GeneratedSubmission& s : g.SubmissionsFor(p)) out.push_back(std::move(s));
  return out;
}

std::string Serialise(const std::vector<GeneratedSubmission>& subs) {
  std::string all;
  for (const auto& s : subs) all += fhir::WriteJson(s.bundle) + "\n";
  return all;
}

bool IsInstitutionCode(const std::string& s) {
  if (s.size() != 10) return false;
  for (char c : s) if (c < '0' || c > '9') return false;
  return s[0] <= '4' && s[2] >= '1' && s[2] <= '3';
}

TEST(Generator, SameSeedGivesByteIdenticalOutput) {
  Generator a(Options(42, 20)), b(Options(42, 20));
  EXPECT_EQ(Serialise(All(a)), Serialise(All(b)));
}

TEST(Generator, DifferentSeedGivesDifferentOutput) {
  Generator a(Options(42, 20)), b(Options(43, 20));
  EXPECT_NE(Serialise(All(a)), Serialise(All(b)));
}

TEST(Generator, PersonSubmissionsDoNotDependOnCallOrder) {
  Generator g(Options(7, 5));
  const auto& persons = g.population().persons;
  std::string later = Serialise(g.SubmissionsFor(persons[3]));
  (void)g.SubmissionsFor(persons[0]);
  EXPECT_EQ(later, Serialise(g.SubmissionsFor(persons[3])));
}

TEST(Generator, InstitutionDirectoryHasValidUniqueCodesAndEveryKind) {
  Generator g(Options(1, 1));
  std::set<std::string> codes;
  std::set<InstitutionKind> kinds;
  bool emergency = false;
  for (const Institution& i : g.population().institutions) {
    EXPECT_TRUE(IsInstitutionCode(i.code)) << i.code;
    EXPECT_TRUE(codes.insert(i.code).second) << "duplicate " << i.code;
    EXPECT_FALSE(i.name.empty());
    EXPECT_FALSE(i.kana.empty());
    EXPECT_EQ(i.postcode.size(), 8u);
    kinds.insert(i.kind);
    emergency |= i.emergency_permission;
  }
  EXPECT_EQ(kinds.size(), 3u);
  EXPECT_TRUE(emergency);
}

TEST(Generator, PopulationHasIdentifierHistoriesFullWidthAndPublicPayers) {
  Generator g(Options(3, 400));
  int history = 0, full_width = 0, public_payer = 0, no_branch = 0;
  for (const Person& p : g.population().persons) {
    ASSERT_FALSE(p.identifiers.empty());
    EXPECT_TRUE(p.current().to.empty());
    if (p.identifiers.size() > 1) {
      ++history;
      EXPECT_NE(p.identifiers[0].value, p.current().value);
      EXPECT_FALSE(p.identifiers[0].to.empty());
      EXPECT_FALSE(p.identifiers[0].reason.empty());
    }
    for (const HeldIdentifier& h : p.identifiers) {
      // 4 colon-separated parts; the first always 8 ASCII digits.
      std::vector<std::string> parts;
      size_t start = 0;
      for (size_t i = 0; i <= h.value.size(); ++i)
        if (i == h.value.size() || h.value[i] == ':') { parts.push_back(h.value.substr(start, i - start)); start = i + 1; }
      ASSERT_EQ(parts.size(), 4u) << h.value;
      EXPECT_EQ(parts[0].size(), 8u) << h.value;
      if (h.system == kPublicPayerMemberIdSystem) {
        ++public_payer;
        EXPECT_TRUE(parts[1].empty());
        EXPECT_EQ(parts[2].size(), 7u);
        EXPECT_TRUE(parts[3].empty());
      } else {
        if (parts[3].empty()) ++no_branch; else EXPECT_EQ(parts[3].size(), 2u);
        if (h.value.find("\xEF\xBC") != std::string::npos) ++full_width;
      }
#ifdef CLINSHUB_HAVE_CLINS
      if (h.system == kPublicPayerMemberIdSystem)
        EXPECT_FALSE(clins::PublicPayerMemberIdProblem(h.value).has_value()) << h.value;
      else
        EXPECT_FALSE(clins::InsuranceMemberIdProblem(h.value).has_value()) << h.value;
#endif
    }
  }
  EXPECT_GT(history, 40);
  EXPECT_GT(full_width, 40);
  EXPECT_GT(public_payer, 3);
  EXPECT_GT(no_branch, 10);
}

TEST(Generator, EveryPersonVisitsThreeInstitutionsAndGetsEveryKindOverall) {
  Generator g(Options(5, 60));
  std::set<SubmissionKind> kinds;
  for (const Person& p : g.population().persons) {
    std::set<std::string> institutions;
    for (const GeneratedSubmission& s : g.SubmissionsFor(p)) {
      kinds.insert(s.kind);
      if (s.kind == SubmissionKind::kCondition) institutions.insert(s.institution_code);
      EXPECT_EQ(s.patient_identifier, p.current().value);
    }
    EXPECT_GE(institutions.size(), 3u);
  }
  EXPECT_EQ(kinds.size(), 6u);
}

// Structural rules of the IG that the generator must honour, checked independently of the
// validator: Patient first (collections) / Composition first (documents), urn:uuid fullUrls,
// the bundle identifier format, the institution extension on every non-Patient resource,
// subject references that resolve to the Patient entry.
TEST(Generator, BundlesFollowTheIgShape) {
  Generator g(Options(11, 30));
  for (const GeneratedSubmission& s : All(g)) {
    const Value& b = s.bundle;
    const auto& entries = b.Find("entry")->items();
    ASSERT_GE(entries.size(), 2u);
    EXPECT_EQ(b.Find("identifier")->StringAt("system"), kBundleIdentifierSystem);
    EXPECT_EQ(b.Find("identifier")->StringAt("value"), s.bundle_identifier);
    EXPECT_EQ(s.bundle_identifier.substr(0, 11), s.institution_code + "^");
    bool document = s.kind == SubmissionKind::kReferral || s.kind == SubmissionKind::kDischargeSummary ||
                    s.kind == SubmissionKind::kCheckup;
    EXPECT_EQ(b.StringAt("type"), document ? "document" : "collection");
    const Value& first = *entries[0].Find("resource");
    EXPECT_EQ(first.StringAt("resourceType"), document ? "Composition" : "Patient");
    std::string patient_url;
    for (const Value& e : entries) {
      EXPECT_EQ(e.StringAt("fullUrl").substr(0, 9), "urn:uuid:");
      const Value& r = *e.Find("resource");
      if (r.StringAt("resourceType") == "Patient") { patient_url = std::string(e.StringAt("fullUrl")); continue; }
      const Value* ext = r.Find("extension");
      bool has = false;
      if (ext != nullptr)
        for (const Value& x : ext->items())
          if (x.StringAt("url") == "http://jpfhir.jp/fhir/clins/Extension/StructureDefinition/JP_eCS_InstitutionNumber")
            has = IsInstitutionCode(std::string(x.Find("valueIdentifier")->StringAt("value")));
      EXPECT_TRUE(has) << r.StringAt("resourceType") << " in " << s.bundle_identifier;
    }
    ASSERT_FALSE(patient_url.empty());
    for (const Value& e : entries) {
      const Value& r = *e.Find("resource");
      for (std::string_view key : {"subject", "patient"})
        if (const Value* ref = r.Find(key); ref != nullptr)
          EXPECT_EQ(ref->StringAt("reference"), patient_url);
    }
  }
}

TEST(Generator, EveryBundleParsesAsStrictFhirJson) {
  int n = 0;
  for (uint64_t seed : {1u, 2u, 3u, 99u}) {
    Generator g(Options(seed, 25));
    for (const GeneratedSubmission& s : All(g)) {
      std::string json = fhir::WriteJson(s.bundle);
      auto parsed = fhir::ParseResource(json);
      ASSERT_TRUE(parsed.ok()) << s.bundle_identifier << ": " << parsed.status().ToString();
      EXPECT_TRUE(*parsed == s.bundle);
      ++n;
    }
  }
  EXPECT_GT(n, 300);
}

TEST(Generator, ExpectedItemsCoverEveryFlagAndKind) {
  Generator g(Options(8, 120));
  int suspected = 0, ended = 0, uninformed = 0, undelivered = 0, lts_infection = 0;
  std::set<ItemKind> kinds;
  for (const GeneratedSubmission& s : All(g)) {
    for (const ExpectedItem& i : s.items) {
      kinds.insert(i.kind);
      suspected += i.suspected;
      ended += !i.end_date.empty() && i.kind == ItemKind::kCondition;
      uninformed += i.uninformed;
      undelivered += i.undelivered;
      lts_infection += i.long_term && i.kind == ItemKind::kInfection;
      // LTS on Observation only for designated infection items (R6031).
      if (i.long_term) EXPECT_TRUE(i.kind == ItemKind::kInfection || i.kind == ItemKind::kAllergy ||
                                   i.kind == ItemKind::kContraindication);
    }
  }
  EXPECT_EQ(kinds.size(), 7u);
  EXPECT_GT(suspected, 0);
  EXPECT_GT(ended, 0);
  EXPECT_GT(uninformed, 0);
  EXPECT_GT(undelivered, 0);
  EXPECT_GT(lts_infection, 0);
}

TEST(Generator, ResubmissionKeepsTheUnitAndChangesTheContent) {
  Generator g(Options(21, 3));
  const Person& p = g.population().persons[1];
  for (const GeneratedSubmission& s : g.SubmissionsFor(p)) {
    GeneratedSubmission r = g.Resubmission(p, s, 1);
    EXPECT_EQ(r.kind, s.kind);
    EXPECT_EQ(r.bundle_identifier, s.bundle_identifier);
    EXPECT_EQ(r.institution_code, s.institution_code);
    EXPECT_EQ(r.patient_identifier, s.patient_identifier);
    EXPECT_EQ(r.revision, 1);
    EXPECT_NE(fhir::WriteJson(r.bundle), fhir::WriteJson(s.bundle));
    EXPECT_EQ(fhir::WriteJson(r.bundle), fhir::WriteJson(g.Resubmission(p, s, 1).bundle));
    Withdrawal w = Generator::WithdrawalOf(s);
    EXPECT_EQ(w.bundle_identifier, s.bundle_identifier);
  }
}

TEST(Generator, ReferralNamesItsAddresseeInSection910) {
  Generator g(Options(4, 10));
  int seen = 0;
  for (const GeneratedSubmission& s : All(g)) {
    if (s.kind != SubmissionKind::kReferral) continue;
    ++seen;
    ASSERT_TRUE(IsInstitutionCode(s.addressee_code));
    EXPECT_NE(s.addressee_code, s.institution_code);
    std::string json = fhir::WriteJson(s.bundle);
    EXPECT_NE(json.find("\"910\""), std::string::npos);
    EXPECT_NE(json.find(s.addressee_code), std::string::npos);
  }
  EXPECT_EQ(seen, 10);
}

#ifdef CLINSHUB_HAVE_CLINS
TEST(Generator, DesignatedCodesAreOnTheClinsLists) {
  Generator g(Options(12, 80));
  for (const GeneratedSubmission& s : All(g))
    for (const ExpectedItem& i : s.items) {
      if (i.kind == ItemKind::kLab && i.system.find("CoreLabo") != std::string::npos)
        EXPECT_EQ(clins::FindJlac10(i.code), clins::LabList::kCoreLab) << i.code;
      if (i.kind == ItemKind::kInfection)
        EXPECT_EQ(clins::FindJlac10(i.code), clins::LabList::kInfection) << i.code;
      if (i.kind == ItemKind::kAllergy) EXPECT_TRUE(clins::FindJfagy(i.code).has_value()) << i.code;
    }
}

TEST(Generator, EveryBundlePassesTheClinsValidator) {
  int n = 0, failed = 0, warned = 0;
  for (uint64_t seed : {1u, 2u, 3u, 77u}) {
    GeneratorOptions o = Options(seed, 25);
    Generator g(o);
    clins::ValidationContext ctx;
    ctx.now = o.now;
    for (const Person& p : g.population().persons) {
      auto subs = g.SubmissionsFor(p);
      subs.push_back(g.Resubmission(p, subs.front(), 1));
      for (const GeneratedSubmission& s : subs) {
        ++n;
        auto facts = clins::ValidateSubmission(s.bundle, ctx);
        if (!facts.ok()) {
          if (++failed <= 5) ADD_FAILURE() << SubmissionKindName(s.kind) << " " << s.bundle_identifier << ": " << facts.status().ToString();
          continue;
        }
        EXPECT_EQ(facts->institution, s.institution_code);
        EXPECT_EQ(facts->patient_id_value, s.patient_identifier);
        if (s.kind == SubmissionKind::kReferral) {
          EXPECT_EQ(facts->addressee, s.addressee_code);
          EXPECT_EQ(facts->has_attached_discharge_summary, s.attached_discharge_summary);
        }
        for (const Issue& w : facts->warnings)
          if (++warned <= 5) ADD_FAILURE() << "warning on " << s.bundle_identifier << ": " << w.rule << " " << w.message;
      }
    }
  }
  EXPECT_EQ(failed, 0) << "of " << n;
  EXPECT_EQ(warned, 0) << "of " << n;
  EXPECT_GT(n, 300);
}
#endif

}  // namespace
}  // namespace clinshub::generator
