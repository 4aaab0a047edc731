// GET /Patient/$summary against an expectation computed independently of the hub: from the
// generator's ExpectedItems of what was sent, minus replaced and withdrawn units and the items
// the viewer may not see, with the 検査 / 処方 windows applied to the generator's dates. A
// generated population goes in through the real API; some units are replaced, some withdrawn.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/gzip.h"
#include "reading_fixture.h"

namespace clinshub {
namespace {

using generator::ExpectedItem;
using generator::GeneratedSubmission;
using generator::ItemKind;
using generator::SubmissionKind;
using testing::HeaderList;
using testing::HttpResponse;

// What a viewer should see of one item: who registered it, its code, its date, its text.
struct Expected {
  std::string institution;
  std::string system, code, date, text;
  bool uninformed = false;
  std::string Key() const { return institution + "|" + system + "|" + code + "|" + date; }
};

class SummaryTest : public testing::ReadingFixture {
 protected:
  SummaryTest() : ReadingFixture({.seed = 5, .persons = 12}) {}

  // Registers every unit of the person, replaces the first Condition and Observation units
  // (revision 1) and withdraws the first AllergyIntolerance unit and the first referral letter.
  // Returns the units as they now stand.
  std::vector<GeneratedSubmission> LoadPerson(const generator::Person& person) {
    std::vector<GeneratedSubmission> subs = gen_.SubmissionsFor(person);
    for (const GeneratedSubmission& s : subs) {
      HttpResponse r = Submit(s);
      EXPECT_EQ(r.status, 201) << r.body;
    }
    std::vector<GeneratedSubmission> current;
    std::set<SubmissionKind> replaced, withdrawn;
    for (const GeneratedSubmission& s : subs) {
      if ((s.kind == SubmissionKind::kCondition || s.kind == SubmissionKind::kObservation) &&
          replaced.insert(s.kind).second) {
        GeneratedSubmission next = gen_.Resubmission(person, s, 1);
        HttpResponse r = Submit(next);
        EXPECT_EQ(r.status, 200) << r.body;
        current.push_back(std::move(next));
        ++replaced_units_;
      } else if ((s.kind == SubmissionKind::kAllergy || s.kind == SubmissionKind::kReferral) &&
                 withdrawn.insert(s.kind).second) {
        HttpResponse r = Withdraw(generator::Generator::WithdrawalOf(s));
        EXPECT_EQ(r.status, 200) << r.body;
        ++withdrawn_units_;
      } else {
        current.push_back(s);
      }
    }
    return current;
  }

  // The summary a viewer should get, from the generator's account of the current units alone.
  static std::vector<Expected> Expectation(const std::vector<GeneratedSubmission>& units,
                                           bool patient_view, Timestamp now) {
    std::vector<std::pair<Expected, ItemKind>> all;
    for (const GeneratedSubmission& s : units) {
      for (const ExpectedItem& item : s.items) {
        if (item.kind == ItemKind::kDocument) continue;
        if (item.undelivered) continue;                 // nobody but its sender
        if (patient_view && item.uninformed) continue;  // never the patient
        all.push_back({Expected{s.institution_code, item.system, item.code, item.date,
                                item.text, item.uninformed},
                       item.kind});
      }
    }
    // 検査 for a year and 処方 for 100 days, or the 3 most recent per code if that is more.
    std::map<std::string, std::vector<std::pair<Timestamp, Expected>>> windowed;
    std::vector<Expected> out;
    for (auto& [e, kind] : all) {
      if (kind != ItemKind::kLab && kind != ItemKind::kPrescription) {
        out.push_back(e);
        continue;
      }
      std::optional<Timestamp> when = ParseFhirDateTime(e.date);
      EXPECT_TRUE(when) << e.date;
      windowed[std::to_string(static_cast<int>(kind)) + e.system + "|" + e.code].push_back(
          {when.value_or(Timestamp{}), e});
    }
    for (auto& [code, results] : windowed) {
      std::stable_sort(results.begin(), results.end(),
                       [](const auto& a, const auto& b) { return a.first > b.first; });
      const bool lab = code[0] == '0' + static_cast<int>(ItemKind::kLab);
      const auto window = lab ? std::chrono::hours(24 * 365) : std::chrono::hours(24 * 100);
      for (size_t i = 0; i < results.size(); ++i) {
        if (i < 3 || results[i].first >= now - window) out.push_back(results[i].second);
      }
    }
    return out;
  }

  // Matches the summary's entries one to one with the expectation; reports the differences.
  void ExpectSummary(const HttpResponse& r, std::vector<Expected> expected, bool patient_view) {
    ASSERT_EQ(r.status, 200) << r.body;
    fhir::Value bundle = Json(r);
    const fhir::Value* entries = bundle.Find("entry");
    const size_t n = entries ? entries->items().size() : 0;
    EXPECT_EQ(bundle.Find("total")->text(), std::to_string(n));
    std::vector<bool> used(n, false);
    for (const Expected& e : expected) {
      bool found = false;
      for (size_t i = 0; i < n && !found; ++i) {
        if (used[i]) continue;
        const fhir::Value& entry = entries->items()[i];
        if (EntryKeys(entry).contains(e.Key())) {
          used[i] = found = true;
          std::string ext = fhir::WriteJson(*entry.Find("extension"));
          EXPECT_EQ(ext.find("\"uninformed\"") != std::string::npos, e.uninformed) << e.Key();
          EXPECT_NE(fhir::WriteJson(entry).find(fhir::WriteJson(fhir::Value::String(e.text))),
                    std::string::npos)
              << "text as submitted: " << e.text;
        }
      }
      EXPECT_TRUE(found) << "missing from the summary: " << e.Key() << " " << e.text;
    }
    for (size_t i = 0; i < n; ++i) {
      if (!used[i]) {
        ADD_FAILURE() << "unexpected in the summary: "
                      << fhir::WriteJson(*entries->items()[i].Find("resource")).substr(0, 300);
      }
    }
    if (patient_view) {
      EXPECT_EQ(r.body.find("UNINFORMED"), std::string::npos);
      EXPECT_EQ(r.body.find("UNDELIVERED"), std::string::npos);
      EXPECT_EQ(r.body.find("uninformed"), std::string::npos);
    }
  }

  int replaced_units_ = 0, withdrawn_units_ = 0;
};

TEST_F(SummaryTest, ShowsWhatWasSubmittedMinusReplacedWithdrawnAndHiddenItems) {
  const Timestamp now = clock_manual_.Now();
  int checked = 0, windowed_out = 0;
  for (size_t p = 0; p < 6; ++p) {
    const generator::Person& person = gen_.population().persons[p];
    SCOPED_TRACE("person " + std::to_string(person.index));
    std::vector<GeneratedSubmission> units = LoadPerson(person);
    ASSERT_FALSE(units.empty());
    ASSERT_EQ(RecordConsent(units[0], kReader).status, 201);
    const std::string query = "/Patient/$summary?identifier=" + PatientParam(units[0]);

    std::vector<Expected> for_institution = Expectation(units, false, now);
    ExpectSummary(Must(client_->Get(query, As(kReader))), for_institution, false);
    std::vector<Expected> for_patient = Expectation(units, true, now);
    ExpectSummary(Must(client_->Get(query, AsPortal())), for_patient, true);

    size_t submitted = 0;
    for (const GeneratedSubmission& s : units) {
      for (const ExpectedItem& i : s.items) submitted += i.kind != ItemKind::kDocument;
    }
    windowed_out += static_cast<int>(submitted - for_institution.size());
    checked += static_cast<int>(for_institution.size());
  }
  // The population exercised what the test is about.
  EXPECT_GT(checked, 100);
  EXPECT_GT(windowed_out, 0) << "some items should be windowed out or hidden";
  EXPECT_GE(replaced_units_, 6);
  EXPECT_GT(withdrawn_units_, 0);
}

// A client sending Accept-Encoding: gzip gets the same summary gzip-coded: assembled from the
// entries deflated once and kept with the person's cached items (first request makes them,
// later ones splice them), per viewer and per filter, and made anew when the items change.
TEST_F(SummaryTest, GzipCodedSummaryIsThePlainSummaryForEveryViewerFilterAndChange) {
  const generator::Person& person = gen_.population().persons[2];
  std::vector<GeneratedSubmission> units = LoadPerson(person);
  ASSERT_EQ(RecordConsent(units[0], kReader).status, 201);
  const std::string query = "/Patient/$summary?identifier=" + PatientParam(units[0]);
  const HeaderList gzip = {{"Accept-Encoding", "gzip, deflate"}};
  auto expect_same = [&](const std::string& target, const HeaderList& viewer) {
    SCOPED_TRACE(target);
    HeaderList gzip_viewer = viewer;
    gzip_viewer.insert(gzip_viewer.end(), gzip.begin(), gzip.end());
    HttpResponse plain = Must(client_->Get(target, viewer));
    ASSERT_EQ(plain.status, 200) << plain.body;
    EXPECT_EQ(plain.Header("Content-Encoding"), "");
    EXPECT_EQ(plain.Header("Vary"), "Accept-Encoding");
    for (int round = 0; round < 2; ++round) {
      HttpResponse coded = Must(client_->Get(target, gzip_viewer));
      ASSERT_EQ(coded.status, 200);
      EXPECT_EQ(coded.Header("Content-Encoding"), "gzip");
      EXPECT_EQ(coded.Header("Vary"), "Accept-Encoding");
      EXPECT_LT(coded.body.size() * 4, plain.body.size()) << "round " << round;
      Result<std::string> text = Gunzip(coded.body, 64 << 20);
      ASSERT_TRUE(text.ok()) << text.status().ToString();
      EXPECT_EQ(*text, plain.body) << "round " << round;  // the clock does not move here
    }
  };
  expect_same(query, As(kReader));
  expect_same(query, AsPortal());  // a different selection: no 未告知 items
  expect_same(query + "&kind=condition,allergy", As(kReader));
  expect_same(query + "&_pretty=true", As(kReader));  // pretty, then coded whole

  // A replaced unit moves the person's item generation on: nothing kept may be served.
  GeneratedSubmission next = gen_.Resubmission(person, units[0], 7);
  ASSERT_EQ(Submit(next).status, 200);
  expect_same(query, As(kReader));
}

TEST_F(SummaryTest, KindFilterSelectsFromTheSameExpectation) {
  const generator::Person& person = gen_.population().persons[1];
  std::vector<GeneratedSubmission> units = LoadPerson(person);
  ASSERT_EQ(RecordConsent(units[0], kReader).status, 201);
  std::vector<Expected> all = Expectation(units, false, clock_manual_.Now());
  std::vector<Expected> conditions;
  std::set<std::string> condition_systems = {
      "http://medis.or.jp/CodeSystem/master-disease-keyNumber"};
  for (const Expected& e : all) {
    if (condition_systems.contains(e.system)) conditions.push_back(e);
  }
  ASSERT_FALSE(conditions.empty());
  ExpectSummary(Must(client_->Get("/Patient/$summary?kind=condition&identifier=" +
                                      PatientParam(units[0]),
                                  As(kReader))),
                conditions, false);
}

TEST_F(SummaryTest, TheSenderSeesItsOwnUndeliveredItems) {
  // The generator flags some conditions 未提供; find a unit with one.
  for (const generator::Person& person : gen_.population().persons) {
    for (const GeneratedSubmission& s : gen_.SubmissionsFor(person)) {
      bool undelivered = std::any_of(s.items.begin(), s.items.end(),
                                     [](const ExpectedItem& i) { return i.undelivered; });
      if (!undelivered) continue;
      ASSERT_EQ(Submit(s).status, 201);
      ASSERT_EQ(RecordConsent(s, s.institution_code).status, 201);
      ASSERT_EQ(RecordConsent(s, kReader).status, 201);
      const std::string query = "/Patient/$summary?identifier=" + PatientParam(s);
      HttpResponse own = Must(client_->Get(query, As(s.institution_code)));
      HttpResponse other = Must(client_->Get(query, As(kReader)));
      ASSERT_EQ(own.status, 200);
      ASSERT_EQ(other.status, 200);
      EXPECT_NE(own.body.find("UNDELIVERED"), std::string::npos);
      EXPECT_EQ(other.body.find("UNDELIVERED"), std::string::npos);
      // The sender's read is in the patient's access log, without naming the 未提供 item.
      std::vector<std::string> hidden;
      fhir::Value own_bundle = Json(own);
      for (const fhir::Value& e : own_bundle.Find("entry")->items()) {
        if (fhir::WriteJson(*e.Find("resource")).find("UNDELIVERED") != std::string::npos) {
          hidden.emplace_back(e.StringAt("fullUrl"));
        }
      }
      ASSERT_FALSE(hidden.empty());
      HttpResponse log = Must(
          client_->Get("/AuditEvent?patient.identifier=" + PatientParam(s), AsPortal()));
      ASSERT_EQ(log.status, 200) << log.body;
      EXPECT_NE(log.body.find(s.institution_code), std::string::npos);
      for (const std::string& url : hidden) EXPECT_EQ(log.body.find(url), std::string::npos);
      return;
    }
  }
  GTEST_SKIP() << "no undelivered item in this population";
}

}  // namespace
}  // namespace clinshub
