// FHIR search on Condition, AllergyIntolerance, Observation and MedicationRequest for one
// patient, and GET /Bundle?type=document: every supported parameter and prefix against an
// expectation computed from the generator's ExpectedItems, paging through a snapshot while
// units change, rejection (or lenient reporting) of unsupported parameters, and no leak of
// hidden items — not in entries, totals, includes or links.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>

#include "reading_fixture.h"

namespace clinshub {
namespace {

using generator::ExpectedItem;
using generator::GeneratedSubmission;
using generator::ItemKind;
using generator::SubmissionKind;
using testing::HeaderList;
using testing::HttpResponse;
using testing::PercentEncode;

constexpr char kMedis[] = "http://medis.or.jp/CodeSystem/master-disease-keyNumber";

std::string TypeOf(ItemKind kind) {
  switch (kind) {
    case ItemKind::kCondition: return "Condition";
    case ItemKind::kAllergy:
    case ItemKind::kContraindication: return "AllergyIntolerance";
    case ItemKind::kLab:
    case ItemKind::kInfection: return "Observation";
    case ItemKind::kPrescription: return "MedicationRequest";
    case ItemKind::kDocument: break;
  }
  return "";
}

// One visible item as the generator describes it, with its unit's registration time.
struct Seen {
  std::string type;
  std::string key;  // institution|system|code|date, as EntryKeys spells it
  const ExpectedItem* item;
  std::string institution;
  Timestamp registered;
  std::string Day() const { return item->date.substr(0, 10); }  // Japan date
};

class SearchTest : public testing::ReadingFixture {
 protected:
  SearchTest() : ReadingFixture({.seed = 9, .persons = 10}) {}

  // Registers every unit of the person: the first half now, the rest two days later (so
  // _lastUpdated has something to tell apart); then kReader records a consent.
  void Load(size_t person_index) {
    person_ = &gen_.population().persons[person_index];
    subs_ = gen_.SubmissionsFor(*person_);
    for (size_t i = 0; i < subs_.size(); ++i) {
      if (i == subs_.size() / 2) clock_manual_.Advance(std::chrono::hours(48));
      HttpResponse r = Submit(subs_[i]);
      ASSERT_EQ(r.status, 201) << r.body;
      registered_.push_back(clock_manual_.Now());
    }
    later_day_ = "2026-01-03";  // the first half at 2026-01-01T09:00 Japan time
    ASSERT_EQ(RecordConsent(subs_[0], kReader).status, 201);
    for (size_t u = 0; u < subs_.size(); ++u) {
      for (const ExpectedItem& item : subs_[u].items) {
        if (item.kind == ItemKind::kDocument || item.undelivered) continue;
        seen_.push_back({TypeOf(item.kind),
                         subs_[u].institution_code + "|" + item.system + "|" + item.code + "|" +
                             item.date,
                         &item, subs_[u].institution_code, registered_[u]});
        universe_.insert(seen_.back().key);
      }
    }
  }

  std::string Patient() const { return PatientParam(subs_[0]); }

  // Follows `next` links from the first page; every page is checked for a consistent total.
  std::vector<fhir::Value> All(const std::string& type, const std::string& query,
                               const HeaderList& who, std::vector<HttpResponse>* pages = nullptr) {
    std::vector<fhir::Value> entries;
    std::string target = "/" + type + "?patient.identifier=" + Patient() + query;
    std::string total;
    for (int guard = 0; guard < 200 && !target.empty(); ++guard) {
      HttpResponse r = Must(client_->Get(target, who));
      EXPECT_EQ(r.status, 200) << target << " " << r.body;
      if (r.status != 200) break;
      fhir::Value bundle = Json(r);
      if (total.empty()) total = bundle.Find("total")->text();
      EXPECT_EQ(bundle.Find("total")->text(), total) << "the total is the snapshot's";
      if (const fhir::Value* e = bundle.Find("entry")) {
        for (const fhir::Value& entry : e->items()) {
          if (entry.Find("search")->StringAt("mode") == "match") entries.push_back(entry);
        }
      }
      target.clear();
      for (const fhir::Value& link : bundle.Find("link")->items()) {
        if (link.StringAt("relation") == "next") {
          std::string url(link.StringAt("url"));
          target = url.substr(url.find("/" + type + "?"));
        }
      }
      if (pages) pages->push_back(std::move(r));
    }
    EXPECT_EQ(total, std::to_string(entries.size()));
    return entries;
  }

  // The expectation's key for an entry (the key among its codings the generator describes).
  std::string KeyOf(const fhir::Value& entry) const {
    std::set<std::string> keys = EntryKeys(entry);
    for (const std::string& k : keys) {
      if (universe_.contains(k)) return k;
    }
    return keys.empty() ? "?" : *keys.begin();
  }

  std::multiset<std::string> Keys(const std::vector<fhir::Value>& entries) const {
    std::multiset<std::string> out;
    for (const fhir::Value& e : entries) out.insert(KeyOf(e));
    return out;
  }

  std::multiset<std::string> Expect(const std::string& type,
                                    const std::function<bool(const Seen&)>& want) const {
    std::multiset<std::string> out;
    for (const Seen& s : seen_) {
      if (s.type == type && want(s)) out.insert(s.key);
    }
    return out;
  }

  const Seen* FirstOf(ItemKind kind) const {
    for (const Seen& s : seen_) {
      if (s.item->kind == kind) return &s;
    }
    return nullptr;
  }

  const generator::Person* person_ = nullptr;
  std::vector<GeneratedSubmission> subs_;
  std::vector<Timestamp> registered_;
  std::vector<Seen> seen_;
  std::set<std::string> universe_;
  std::string later_day_;
};

TEST_F(SearchTest, EveryParameterAndPrefixMatchesTheGeneratorsAccount) {
  Load(0);
  const Seen* cond = FirstOf(ItemKind::kCondition);
  const Seen* lab = FirstOf(ItemKind::kLab);
  const Seen* rx = FirstOf(ItemKind::kPrescription);
  ASSERT_TRUE(cond && lab && rx) << "person 0 should have conditions, labs and prescriptions";
  const std::string d = cond->Day(), month = d.substr(0, 7), year = d.substr(0, 4);
  const std::string ld = lab->Day(), lmonth = ld.substr(0, 7);
  auto any = [](const Seen&) { return true; };
  auto code_is = [](const Seen* x) {
    return [x](const Seen& s) { return s.item->code == x->item->code; };
  };
  struct Case {
    std::string type, query;
    std::function<bool(const Seen&)> want;
  };
  const std::vector<Case> cases = {
      {"Condition", "", any},
      {"Condition", "&code=" + std::string(kMedis) + "|" + cond->item->code, code_is(cond)},
      {"Condition", "&code=" + cond->item->code, code_is(cond)},
      {"Condition", "&code=%7C" + cond->item->code, [](const Seen&) { return false; }},
      {"Condition", "&code=" + std::string(kMedis) + "%7C", any},
      {"Condition", "&code=nothing," + cond->item->code, code_is(cond)},
      {"Condition", "&code=" + cond->item->code + "&code=nothing",
       [](const Seen&) { return false; }},
      {"Condition", "&clinical-status=active",
       [](const Seen& s) { return s.item->end_date.empty(); }},
      {"Condition",
       "&clinical-status=http://terminology.hl7.org/CodeSystem/condition-clinical%7Cresolved",
       [](const Seen& s) { return !s.item->end_date.empty(); }},
      {"Condition", "&category=encounter-diagnosis", any},
      {"Condition", "&category=problem-list-item", [](const Seen&) { return false; }},
      {"Condition", "&onset-date=" + d, [&](const Seen& s) { return s.Day() == d; }},
      {"Condition", "&onset-date=eq" + d, [&](const Seen& s) { return s.Day() == d; }},
      {"Condition", "&onset-date=ne" + d, [&](const Seen& s) { return s.Day() != d; }},
      {"Condition", "&onset-date=lt" + d, [&](const Seen& s) { return s.Day() < d; }},
      {"Condition", "&onset-date=le" + d, [&](const Seen& s) { return s.Day() <= d; }},
      {"Condition", "&onset-date=gt" + d, [&](const Seen& s) { return s.Day() > d; }},
      {"Condition", "&onset-date=ge" + d, [&](const Seen& s) { return s.Day() >= d; }},
      {"Condition", "&onset-date=eq" + month,
       [&](const Seen& s) { return s.Day().substr(0, 7) == month; }},
      {"Condition", "&onset-date=gt" + month,
       [&](const Seen& s) { return s.Day().substr(0, 7) > month; }},
      {"Condition", "&onset-date=lt" + year,
       [&](const Seen& s) { return s.Day().substr(0, 4) < year; }},
      {"Condition", "&onset-date=ge" + year + "&onset-date=le" + month,
       [&](const Seen& s) { return s.Day().substr(0, 4) >= year && s.Day().substr(0, 7) <= month; }},
      {"Condition", "&_lastUpdated=ge" + later_day_,
       [&](const Seen& s) { return s.registered > clock_manual_.Now() - std::chrono::hours(1); }},
      {"Condition", "&_lastUpdated=lt" + later_day_,
       [&](const Seen& s) { return s.registered < clock_manual_.Now() - std::chrono::hours(1); }},
      {"AllergyIntolerance", "", any},
      {"AllergyIntolerance", "&category=medication",
       [](const Seen& s) { return s.item->kind == ItemKind::kContraindication; }},
      {"AllergyIntolerance", "&category=food,environment",
       [](const Seen& s) { return s.item->kind == ItemKind::kAllergy; }},
      {"AllergyIntolerance", "&clinical-status=active", any},
      {"Observation", "", any},
      {"Observation", "&category=laboratory",
       [](const Seen& s) { return s.item->kind == ItemKind::kLab; }},
      {"Observation", "&category=infection",
       [](const Seen& s) { return s.item->kind == ItemKind::kInfection; }},
      {"Observation", "&code=" + lab->item->system + "%7C" + lab->item->code, code_is(lab)},
      {"Observation", "&date=" + ld, [&](const Seen& s) { return s.Day() == ld; }},
      {"Observation", "&date=lt" + ld, [&](const Seen& s) { return s.Day() < ld; }},
      {"Observation", "&date=gt" + ld, [&](const Seen& s) { return s.Day() > ld; }},
      {"Observation", "&date=le" + lmonth,
       [&](const Seen& s) { return s.Day().substr(0, 7) <= lmonth; }},
      {"Observation", "&date=ge" + lmonth,
       [&](const Seen& s) { return s.Day().substr(0, 7) >= lmonth; }},
      {"Observation", "&date=eq" + PercentEncode(lab->item->date),
       [&](const Seen& s) { return s.item->date == lab->item->date; }},
      {"MedicationRequest", "", any},
      {"MedicationRequest", "&code=" + rx->item->code, code_is(rx)},
      {"MedicationRequest", "&date=ge" + rx->Day(),
       [&](const Seen& s) { return s.Day() >= rx->Day(); }},
      {"MedicationRequest", "&date=lt" + rx->Day(),
       [&](const Seen& s) { return s.Day() < rx->Day(); }},
  };
  int nonempty = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.type + "?" + c.query);
    std::multiset<std::string> want = Expect(c.type, c.want);
    nonempty += !want.empty();
    EXPECT_EQ(Keys(All(c.type, c.query + "&_count=7", As(kReader))), want);
    // _summary=count gives the same total without entries.
    HttpResponse count = Must(client_->Get(
        "/" + c.type + "?patient.identifier=" + Patient() + c.query + "&_summary=count",
        As(kReader)));
    ASSERT_EQ(count.status, 200) << count.body;
    EXPECT_EQ(Json(count).Find("total")->text(), std::to_string(want.size()));
    EXPECT_EQ(Json(count).Find("entry"), nullptr);
  }
  EXPECT_GT(nonempty, 30) << "the cases should mostly select something";

  // patient= names the patient by the same identifier token.
  HttpResponse by_patient =
      Must(client_->Get("/Condition?patient=" + Patient() + "&_summary=count", As(kReader)));
  ASSERT_EQ(by_patient.status, 200) << by_patient.body;
  EXPECT_EQ(Json(by_patient).Find("total")->text(),
            std::to_string(Expect("Condition", any).size()));
}

TEST_F(SearchTest, SortsByDateEitherWayAndIncludesThePatientOnEveryPage) {
  Load(1);
  for (const std::string sort : {"date", "-date"}) {
    std::vector<fhir::Value> entries = All("Observation", "&_sort=" + sort + "&_count=4", As(kReader));
    ASSERT_GT(entries.size(), 4u);
    for (size_t i = 1; i < entries.size(); ++i) {
      auto when = [&](size_t k) {
        return *ParseFhirDateTime(entries[k].Find("resource")->StringAt("effectiveDateTime"));
      };
      if (sort == "date") EXPECT_LE(when(i - 1), when(i));
      else EXPECT_GE(when(i - 1), when(i));
    }
  }
  std::vector<fhir::Value> by_registration =
      All("Observation", "&_sort=_lastUpdated&_count=100", As(kReader));
  ASSERT_GT(by_registration.size(), 1u);

  std::vector<HttpResponse> pages;
  All("Condition", "&_include=Condition:patient&_count=2", As(kReader), &pages);
  ASSERT_GT(pages.size(), 1u);
  for (const HttpResponse& page : pages) {
    fhir::Value bundle = Json(page);
    int includes = 0;
    for (const fhir::Value& e : bundle.Find("entry")->items()) {
      if (e.Find("search")->StringAt("mode") != "include") continue;
      ++includes;
      const fhir::Value& patient = *e.Find("resource");
      EXPECT_EQ(patient.StringAt("resourceType"), "Patient");
      EXPECT_EQ(patient.Find("identifier")->items()[0].StringAt("value"),
                NormaliseIdentifier(person_->current().value));
    }
    EXPECT_EQ(includes, 1);
  }
}

TEST_F(SearchTest, PagesComeFromASnapshotWhileUnitsChange) {
  Load(2);
  const std::string first_target =
      "/Observation?patient.identifier=" + Patient() + "&_count=3&_sort=date";
  std::multiset<std::string> before = Keys(All("Observation", "&_count=3&_sort=date", As(kReader)));
  ASSERT_GT(before.size(), 6u);
  HttpResponse page1 = Must(client_->Get(first_target, As(kReader)));
  ASSERT_EQ(page1.status, 200);
  fhir::Value bundle1 = Json(page1);
  std::string next;
  for (const fhir::Value& l : bundle1.Find("link")->items()) {
    if (l.StringAt("relation") == "next") next = std::string(l.StringAt("url"));
  }
  ASSERT_FALSE(next.empty()) << page1.body;
  next = next.substr(next.find("/Observation?"));
  EXPECT_NE(next.find("_page_token="), std::string::npos);

  // Between pages: every Observation unit is replaced or withdrawn.
  bool withdraw = false;
  for (const GeneratedSubmission& s : subs_) {
    if (s.kind != SubmissionKind::kObservation) continue;
    if (withdraw) {
      ASSERT_EQ(Withdraw(generator::Generator::WithdrawalOf(s)).status, 200);
    } else {
      ASSERT_EQ(Submit(gen_.Resubmission(*person_, s, 1)).status, 200);
    }
    withdraw = !withdraw;
  }
  std::multiset<std::string> paged;
  for (const fhir::Value& e : bundle1.Find("entry")->items()) paged.insert(KeyOf(e));
  while (!next.empty()) {
    HttpResponse r = Must(client_->Get(next, As(kReader)));
    ASSERT_EQ(r.status, 200) << r.body;
    fhir::Value b = Json(r);
    EXPECT_EQ(b.Find("total")->text(), std::to_string(before.size()));
    for (const fhir::Value& e : b.Find("entry")->items()) paged.insert(KeyOf(e));
    next.clear();
    for (const fhir::Value& l : b.Find("link")->items()) {
      if (l.StringAt("relation") == "next") {
        next = std::string(l.StringAt("url"));
        next = next.substr(next.find("/Observation?"));
      }
    }
  }
  EXPECT_EQ(paged, before) << "pages 2.. are the snapshot of page 1";
  // A new search sees the change.
  EXPECT_NE(Keys(All("Observation", "&_count=3", As(kReader))), before);

  // The token is the caller's alone, and expires.
  std::string again;
  fhir::Value fresh = Json(Must(client_->Get(first_target, As(kReader))));
  for (const fhir::Value& l : fresh.Find("link")->items()) {
    if (l.StringAt("relation") == "next") again = std::string(l.StringAt("url"));
  }
  ASSERT_FALSE(again.empty());
  again = again.substr(again.find("/Observation?"));
  ASSERT_EQ(RecordConsent(subs_[0], kStranger).status, 201);
  EXPECT_EQ(Must(client_->Get(again, As(kStranger))).status, 403) << "another institution";
  EXPECT_EQ(Must(client_->Get(again, AsPortal())).status, 403) << "the patient's portal";
  EXPECT_EQ(Must(client_->Get(again, As(kReader))).status, 200);
  EXPECT_EQ(Must(client_->Get(again + "&code=x", As(kReader))).status, 400);
  clock_manual_.Advance(std::chrono::minutes(16));
  HttpResponse expired = Must(client_->Get(again, As(kReader)));
  EXPECT_EQ(expired.status, 410) << expired.body;
  EXPECT_NE(expired.body.find("run the search again"), std::string::npos) << expired.body;
  // A new search gives a new snapshot.
  EXPECT_EQ(Must(client_->Get(first_target, As(kReader))).status, 200);
}

TEST_F(SearchTest, UnsupportedParametersAreRejectedOrReportedWhenLenient) {
  Load(3);
  const std::string p = "patient.identifier=" + Patient();
  struct Bad {
    std::string target, names;
  };
  const std::vector<Bad> bad = {
      {"/Condition?" + p + "&severity=high", "severity"},
      {"/Observation?" + p + "&clinical-status=active", "clinical-status"},
      {"/Observation?" + p + "&onset-date=2024", "onset-date"},
      {"/Condition?" + p + "&date=2024", "date"},
      {"/MedicationRequest?" + p + "&category=laboratory", "category"},
      {"/Condition?" + p + "&onset-date=sa2024", "onset-date"},
      {"/Condition?" + p + "&onset-date=2024-13", "onset-date"},
      {"/Condition?" + p + "&onset-date=2024-05-01T10:00:00", "onset-date"},
      {"/Observation?" + p + "&category=vital-signs", "category"},
      {"/AllergyIntolerance?" + p + "&category=drug", "category"},
      {"/Condition?" + p + "&_sort=code", "_sort"},
      {"/Condition?" + p + "&_include=Condition:subject", "_include"},
      {"/Condition?" + p + "&_summary=true", "_summary"},
      {"/Condition?" + p + "&_count=0", "_count"},
      {"/Condition?" + p + "&_offset=10", "_offset"},
      {"/Condition?" + p + "&code=", "code"},
      {"/Condition?" + p + "&patient=" + Patient(), "patient"},
      {"/Condition?code=x", "patient.identifier"},
  };
  for (const Bad& b : bad) {
    HttpResponse r = Must(client_->Get(b.target, As(kReader)));
    EXPECT_EQ(r.status, 400) << b.target << " " << r.body;
    EXPECT_NE(r.body.find("\"" + b.names + "\""), std::string::npos) << b.target << " " << r.body;
  }
  // Lenient: unknown parameters are ignored and listed; bad values of known ones still fail.
  HeaderList lenient = As(kReader, {{"Prefer", "handling=lenient"}});
  HttpResponse r = Must(client_->Get("/Condition?" + p + "&severity=high&_elements=code", lenient));
  ASSERT_EQ(r.status, 200) << r.body;
  fhir::Value bundle = Json(r);
  int outcomes = 0;
  for (const fhir::Value& e : bundle.Find("entry")->items()) {
    if (e.Find("search")->StringAt("mode") != "outcome") continue;
    ++outcomes;
    std::string text = fhir::WriteJson(e);
    EXPECT_NE(text.find("severity"), std::string::npos);
    EXPECT_NE(text.find("_elements"), std::string::npos);
  }
  EXPECT_EQ(outcomes, 1);
  EXPECT_EQ(bundle.Find("total")->text(),
            std::to_string(Expect("Condition", [](const Seen&) { return true; }).size()));
  EXPECT_EQ(Must(client_->Get("/Condition?" + p + "&onset-date=xx", lenient)).status, 400);
  // Other read rules hold: no consent, no search; emergency with a reason.
  EXPECT_EQ(Must(client_->Get("/Condition?" + p, As(kStranger))).status, 403);
  EXPECT_EQ(Must(client_->Get("/Condition?" + p,
                              As(kEmergency, {{"X-Purpose-Of-Use", "ETREAT"},
                                              {"X-Emergency-Reason", "意識障害で搬送"}})))
                .status,
            200);
  EXPECT_EQ(Must(client_->Get("/Condition?" + p, AsOperator())).status, 403);
}

TEST_F(SearchTest, APatientsSearchNeverRevealsHiddenItemsOrTheirCount) {
  // A person with an uninformed or undelivered condition.
  size_t chosen = 0;
  for (size_t i = 0; i < gen_.population().persons.size(); ++i) {
    for (const GeneratedSubmission& s : gen_.SubmissionsFor(gen_.population().persons[i])) {
      for (const ExpectedItem& item : s.items) {
        if (item.uninformed && chosen == 0) chosen = i + 1;
      }
    }
  }
  ASSERT_GT(chosen, 0u) << "the generator made nobody with an uninformed condition";
  Load(chosen - 1);
  size_t visible = 0, uninformed = 0;
  for (const Seen& s : seen_) {
    if (s.type != "Condition") continue;
    if (s.item->uninformed) ++uninformed;
    else ++visible;
  }
  ASSERT_GT(uninformed, 0u);
  std::vector<HttpResponse> pages;
  std::vector<fhir::Value> mine = All("Condition", "&_count=1&_include=Condition:patient",
                                      AsPortal(), &pages);
  EXPECT_EQ(mine.size(), visible);
  EXPECT_EQ(pages.size(), std::max<size_t>(visible, 1)) << "no page for a hidden item";
  for (const HttpResponse& page : pages) {
    EXPECT_EQ(page.body.find("UNINFORMED"), std::string::npos);
    EXPECT_EQ(page.body.find("UNDELIVERED"), std::string::npos);
    EXPECT_EQ(page.body.find("uninformed"), std::string::npos);
  }
  HttpResponse count = Must(client_->Get(
      "/Condition?patient.identifier=" + Patient() + "&_summary=count", AsPortal()));
  EXPECT_EQ(Json(count).Find("total")->text(), std::to_string(visible));
  // Searching for exactly the hidden item's code finds nothing, and says nothing.
  for (const Seen& s : seen_) {
    if (!s.item->uninformed) continue;
    HttpResponse r = Must(client_->Get("/Condition?patient.identifier=" + Patient() +
                                           "&code=" + s.item->code + "&_summary=count",
                                       AsPortal()));
    size_t same_code_visible = Expect("Condition", [&](const Seen& v) {
                                 return !v.item->uninformed && v.item->code == s.item->code;
                               }).size();
    EXPECT_EQ(Json(r).Find("total")->text(), std::to_string(same_code_visible));
  }
  // An institution sees them, marked; the patient's access log does not name them.
  std::vector<fhir::Value> theirs = All("Condition", "&_count=2", As(kReader));
  EXPECT_EQ(theirs.size(), visible + uninformed);
  size_t marked = 0;
  std::vector<std::string> hidden_urls;
  for (const fhir::Value& e : theirs) {
    if (fhir::WriteJson(*e.Find("extension")).find("\"uninformed\"") != std::string::npos) {
      ++marked;
      hidden_urls.emplace_back(e.StringAt("fullUrl"));
    }
  }
  EXPECT_EQ(marked, uninformed);
  HttpResponse log = Must(
      client_->Get("/AuditEvent?patient.identifier=" + Patient(), AsPortal()));
  ASSERT_EQ(log.status, 200);
  EXPECT_NE(log.body.find(kReader), std::string::npos) << "the institution's searches are logged";
  for (const std::string& url : hidden_urls) EXPECT_EQ(log.body.find(url), std::string::npos);
}

// The 未告知 mark says the patient has not been told; everyone who sees the item sees it,
// the institution that sent it included, and search and $summary agree on it.
TEST_F(SearchTest, TheSenderSeesItsOwnUninformedItemsMarkedInSearchAsInTheSummary) {
  size_t chosen = 0;
  for (size_t i = 0; i < gen_.population().persons.size() && chosen == 0; ++i) {
    for (const GeneratedSubmission& s : gen_.SubmissionsFor(gen_.population().persons[i])) {
      for (const ExpectedItem& item : s.items) {
        if (item.uninformed && !item.undelivered && chosen == 0) chosen = i + 1;
      }
    }
  }
  ASSERT_GT(chosen, 0u) << "the generator made nobody with an uninformed condition";
  Load(chosen - 1);
  std::string sender;
  for (const Seen& s : seen_) {
    if (s.item->uninformed && sender.empty()) sender = s.institution;
  }
  ASSERT_FALSE(sender.empty());
  const GeneratedSubmission* sent = nullptr;
  for (const GeneratedSubmission& s : subs_) {
    if (s.institution_code == sender) sent = &s;
  }
  ASSERT_NE(sent, nullptr);
  if (sender != kReader) ASSERT_EQ(RecordConsent(*sent, sender).status, 201);
  auto marked = [](const fhir::Value& entry) {
    const fhir::Value* ext = entry.Find("extension");
    return ext != nullptr && fhir::WriteJson(*ext).find("\"uninformed\"") != std::string::npos;
  };
  std::multiset<std::string> in_search;
  for (const fhir::Value& e : All("Condition", "&_count=50", As(sender))) {
    if (marked(e)) in_search.insert(KeyOf(e));
  }
  const std::multiset<std::string> expected =
      Expect("Condition", [](const Seen& s) { return s.item->uninformed; });
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(in_search, expected) << "search marks every uninformed condition it shows";
  HttpResponse summary =
      Must(client_->Get("/Patient/$summary?identifier=" + Patient(), As(sender)));
  ASSERT_EQ(summary.status, 200) << summary.body;
  std::multiset<std::string> in_summary;
  const fhir::Value bundle = Json(summary);
  for (const fhir::Value& e : bundle.Find("entry")->items()) {
    if (e.Find("resource")->StringAt("resourceType") == "Condition" && marked(e)) {
      in_summary.insert(KeyOf(e));
    }
  }
  EXPECT_EQ(in_summary, in_search) << "$summary and search mark the same items";
}

TEST_F(SearchTest, DocumentsAreListedAsSubmittedWithReferralLettersOnlyForTheirRecipients) {
  // A person with a referral letter and a checkup report.
  size_t chosen = 0;
  for (size_t i = 0; i < gen_.population().persons.size() && chosen == 0; ++i) {
    bool referral = false, checkup = false;
    for (const GeneratedSubmission& s : gen_.SubmissionsFor(gen_.population().persons[i])) {
      referral |= s.kind == SubmissionKind::kReferral;
      checkup |= s.kind == SubmissionKind::kCheckup;
    }
    if (referral && checkup) chosen = i + 1;
  }
  ASSERT_GT(chosen, 0u);
  Load(chosen - 1);
  const GeneratedSubmission* letter = nullptr;
  std::vector<const GeneratedSubmission*> others;
  for (const GeneratedSubmission& s : subs_) {
    if (s.kind == SubmissionKind::kReferral && letter == nullptr) letter = &s;
    if (s.kind == SubmissionKind::kDischargeSummary || s.kind == SubmissionKind::kCheckup) {
      others.push_back(&s);
    }
  }
  ASSERT_NE(letter, nullptr);
  const std::string list = "/Bundle?type=document&patient.identifier=" + Patient();

  auto bundles = [&](const HttpResponse& r) {
    std::vector<fhir::Value> out;
    EXPECT_EQ(r.status, 200) << r.body;
    fhir::Value b = Json(r);
    if (const fhir::Value* e = b.Find("entry")) {
      for (const fhir::Value& entry : e->items()) out.push_back(*entry.Find("resource"));
    }
    EXPECT_EQ(b.Find("total")->text(), std::to_string(out.size()));
    return out;
  };
  auto contains = [](const std::vector<fhir::Value>& got, const GeneratedSubmission& s) {
    for (const fhir::Value& b : got) {
      if (*b.Find("entry") == *s.bundle.Find("entry")) return true;  // exactly as submitted
    }
    return false;
  };

  // An institution with consent: discharge summaries and checkups, not someone else's letter.
  std::vector<fhir::Value> reader = bundles(Must(client_->Get(list, As(kReader))));
  EXPECT_EQ(reader.size(), others.size());
  for (const GeneratedSubmission* s : others) EXPECT_TRUE(contains(reader, *s));
  EXPECT_FALSE(contains(reader, *letter));
  // The addressee with consent: the letter too — and listing it retrieves it (取得済).
  EnrolInstitution(letter->addressee_code);
  ASSERT_EQ(RecordConsent(*letter, letter->addressee_code).status, 201);
  std::vector<fhir::Value> addressee = bundles(Must(client_->Get(list, As(letter->addressee_code))));
  EXPECT_TRUE(contains(addressee, *letter));
  HttpResponse status = Must(client_->Get(
      "/Bundle/$status?identifier=" +
          PercentEncode(std::string(generator::kBundleIdentifierSystem) + "|" +
                        letter->bundle_identifier) +
          "&patient.identifier=" + Patient(),
      As(letter->institution_code)));
  EXPECT_NE(status.body.find("\"retrieved\""), std::string::npos) << status.body;
  // kind filters.
  std::vector<fhir::Value> letters =
      bundles(Must(client_->Get(list + "&kind=referral", As(letter->addressee_code))));
  for (const fhir::Value& b : letters) {
    EXPECT_EQ(fhir::WriteJson(b).find("53576-5"), std::string::npos) << "no checkup";
  }
  // The portal: the patient's own checkups (newest first), never the letters.
  std::vector<fhir::Value> portal =
      bundles(Must(client_->Get(list + "&kind=checkup", AsPortal())));
  std::vector<std::string> dates;
  for (const fhir::Value& b : portal) {
    dates.emplace_back(b.Find("entry")->items()[0].Find("resource")->StringAt("date"));
  }
  EXPECT_FALSE(portal.empty());
  EXPECT_TRUE(std::is_sorted(dates.rbegin(), dates.rend())) << "most recent first";
  EXPECT_FALSE(contains(bundles(Must(client_->Get(list, AsPortal()))), *letter));
  // Rules as elsewhere.
  EXPECT_EQ(Must(client_->Get(list, As(kStranger))).status, 403);
  EXPECT_EQ(Must(client_->Get(list + "&type=collection", As(kReader))).status, 400);
  EXPECT_EQ(Must(client_->Get(list + "&kind=letter", As(kReader))).status, 400);
  EXPECT_EQ(Must(client_->Get(list + "&author=x", As(kReader))).status, 400);
  EXPECT_EQ(Must(client_->Get("/Bundle?type=document", As(kReader))).status, 400);
}

}  // namespace
}  // namespace clinshub
