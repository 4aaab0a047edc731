// Retention end to end: a generated population is submitted through the HTTP API, the injected
// clock moves past each default period (100 days 処方, 1 year 検査 and unretrieved referral
// letters, 5 years 傷病名/アレルギー/薬剤禁忌/感染症/健診/退院時サマリー, 10 years LTS), a purge
// runs (PurgeAndAudit, as the server's job and `clinshub purge` do), and the patient's summary,
// the store and the raw Bundles show exactly what the periods leave. Also: the retention job
// thread purges and stops promptly, and `clinshub purge --dry-run` prints the store's counts.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <map>
#include <set>

#include "fhir/json.h"
#include "generator/generator.h"
#include "server/retention_job.h"
#include "server_fixture.h"

namespace clinshub {
namespace {

using generator::GeneratedSubmission;
using generator::SubmissionKind;
using testing::HttpResponse;
using std::chrono::hours;

constexpr hours kDay{24};

std::string PercentEncode(std::string_view s) {
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

// The store's item kind of a generated item (kDocument: not an item).
std::optional<clins::ItemKind> StoreKind(generator::ItemKind k) {
  switch (k) {
    case generator::ItemKind::kCondition: return clins::ItemKind::kCondition;
    case generator::ItemKind::kAllergy: return clins::ItemKind::kAllergy;
    case generator::ItemKind::kContraindication: return clins::ItemKind::kDrugContraindication;
    case generator::ItemKind::kLab: return clins::ItemKind::kLabResult;
    case generator::ItemKind::kInfection: return clins::ItemKind::kInfection;
    case generator::ItemKind::kPrescription: return clins::ItemKind::kPrescription;
    case generator::ItemKind::kDocument: return std::nullopt;
  }
  return std::nullopt;
}

const char* SummaryKind(clins::ItemKind k) {
  switch (k) {
    case clins::ItemKind::kCondition: return "condition";
    case clins::ItemKind::kAllergy: return "allergy";
    case clins::ItemKind::kDrugContraindication: return "contraindication";
    case clins::ItemKind::kLabResult: return "lab";
    case clins::ItemKind::kInfection: return "infection";
    case clins::ItemKind::kPrescription: return "prescription";
  }
  return "";
}

// The default period of an item (RetentionPolicy{}), LTS items 10 years.
hours PeriodOf(clins::ItemKind k, bool lts) {
  store::RetentionPolicy p;
  hours period = k == clins::ItemKind::kLabResult      ? p.labs
                 : k == clins::ItemKind::kPrescription ? p.prescriptions
                 : k == clins::ItemKind::kInfection    ? p.infections
                 : k == clins::ItemKind::kCondition    ? p.conditions
                                                       : p.allergies;
  return lts ? std::max(period, p.long_term) : period;
}

// One registered unit as the test expects it: its last submission and its Bundle's path.
struct SentUnit {
  GeneratedSubmission last;
  std::string path;  // "Bundle/<id>"
  int sends = 0;
};

class RetentionHttpTest : public testing::ServerFixture {
 protected:
  RetentionHttpTest() { clock_ = &clock_manual_; }
  ManualClock clock_manual_{Timestamp(std::chrono::microseconds(1767225600000000))};
  const Timestamp t0_ = clock_manual_.Now();

  void SetUp() override {
    ServerFixture::SetUp();
    if (HasFatalFailure()) return;
    EnrolPopulation(gen_);
  }

  void SubmitPersons(size_t count) {
    for (size_t p = 0; p < count; ++p) {
      const generator::Person& person = gen_.population().persons[p];
      for (const GeneratedSubmission& s : gen_.SubmissionsFor(person)) {
        HttpResponse r = Must(client_->SendJson("POST", "/Bundle", fhir::WriteJson(s.bundle),
                                                As(s.institution_code)));
        ASSERT_LT(r.status, 300) << r.body;
        std::string loc = r.Header("Location");
        std::string path = loc.substr(loc.find("/Bundle/") + 1);
        path = path.substr(0, path.find("/_history"));
        SentUnit& u = units_["P" + std::to_string(person.index)][s.bundle_identifier];
        u.last = s;
        u.path = path;
        ++u.sends;
      }
    }
  }

  // Moves the clock to t0 + `after` and purges with the default policy.
  store::PurgeReport PurgeAt(hours after) {
    clock_manual_.Advance(t0_ + after - clock_manual_.Now());
    auto r = server::PurgeAndAudit(app_->store(), store::RetentionPolicy{}, clock_manual_.Now(),
                                   false, "retention test");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : store::PurgeReport{};
  }

  // What the store must still hold per person and kind at t0 + `after` (the independent
  // expectation from the generator: each unit's last submission, each item's period).
  std::map<std::pair<std::string, clins::ItemKind>, int> ExpectedItems(hours after) {
    std::map<std::pair<std::string, clins::ItemKind>, int> want;
    for (const auto& [person, units] : units_) {
      for (const auto& [id, u] : units) {
        for (const generator::ExpectedItem& item : u.last.items) {
          std::optional<clins::ItemKind> k = StoreKind(item.kind);
          if (k && PeriodOf(*k, item.long_term) > after) ++want[{person, *k}];
        }
      }
    }
    return want;
  }
  std::map<std::pair<std::string, clins::ItemKind>, int> StoredItems() {
    std::map<std::pair<std::string, clins::ItemKind>, int> have;
    for (const auto& [person, units] : units_) {
      auto items = app_->store().ListItems(person);
      EXPECT_TRUE(items.ok());
      for (const store::StoredItem& i : *items) ++have[{person, i.item.kind}];
    }
    return have;
  }

  // The patient's own summary of one kind: how many entries.
  int SummaryCount(const std::string& person, clins::ItemKind kind) {
    const SentUnit& any = units_.at(person).begin()->second;
    HttpResponse r = Must(client_->Get(
        "/Patient/$summary?identifier=" +
            PercentEncode(any.last.patient_system + "|" + any.last.patient_identifier) +
            "&kind=" + SummaryKind(kind),
        AsPortal()));
    EXPECT_EQ(r.status, 200) << r.body;
    fhir::Value b = Json(r);
    const fhir::Value* entries = b.Find("entry");
    return entries == nullptr ? 0 : static_cast<int>(entries->items().size());
  }

  int BundleStatusForSender(const SentUnit& u) {
    return Must(client_->Get("/" + u.path, As(u.last.institution_code))).status;
  }

  // A purged unit's Bundle: the store has no version of it, and both the operator and its
  // former sender get 404 (a purged letter is simply not there any more).
  ::testing::AssertionResult Purged(const SentUnit& u) {
    const int sender = BundleStatusForSender(u);
    const int op = Must(client_->Get("/" + u.path, AsOperator())).status;
    auto read = app_->store().Read("Bundle", u.path.substr(7));
    if (sender == 404 && op == 404 && read.status().code() == ErrorCode::kNotFound) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << u.path << ": sender " << sender << ", operator "
                                         << op << ", store " << read.status().ToString();
  }

  void ExpectAfter(hours after) {
    SCOPED_TRACE("at t0 + " + std::to_string(after.count() / 24) + " days");
    std::map<std::pair<std::string, clins::ItemKind>, int> want = ExpectedItems(after);
    EXPECT_EQ(StoredItems(), want);
    for (const auto& [person, units] : units_) {
      for (clins::ItemKind k :
           {clins::ItemKind::kCondition, clins::ItemKind::kAllergy,
            clins::ItemKind::kDrugContraindication, clins::ItemKind::kLabResult,
            clins::ItemKind::kInfection, clins::ItemKind::kPrescription}) {
        const int left = want.count({person, k}) ? want.at({person, k}) : 0;
        // The summary shows at most what is stored (the patient sees no 未告知/未提供 items
        // and 検査/処方 through their windows), and nothing once every item of a kind expired.
        const int shown = SummaryCount(person, k);
        EXPECT_LE(shown, left) << person << " " << SummaryKind(k);
        if (left == 0) {
          EXPECT_EQ(shown, 0) << person << " " << SummaryKind(k);
        }
      }
    }
  }

  generator::Generator gen_{generator::GeneratorOptions{.seed = 7, .persons = 12}};
  std::map<std::string, std::map<std::string, SentUnit>> units_;  // person → identifier → unit
};

bool IsDocument(SubmissionKind k) {
  return k == SubmissionKind::kReferral || k == SubmissionKind::kDischargeSummary ||
         k == SubmissionKind::kCheckup;
}

bool HasLts(const SentUnit& u) {
  for (const generator::ExpectedItem& i : u.last.items) {
    if (i.long_term && StoreKind(i.kind)) return true;
  }
  return false;
}

TEST_F(RetentionHttpTest, ExpiredDataLeavesTheSummaryTheStoreAndTheRawBundles) {
  SubmitPersons(6);
  ASSERT_FALSE(HasFatalFailure());
  ExpectAfter(hours(0));
  std::map<SubmissionKind, int> kinds;
  int lts_units = 0;
  int64_t superseded = 0;  // Bundle versions below the current one
  for (const auto& [person, units] : units_) {
    for (const auto& [id, u] : units) {
      ++kinds[u.last.kind];
      lts_units += HasLts(u) ? 1 : 0;
      EXPECT_EQ(BundleStatusForSender(u), 200) << u.path;
      superseded += static_cast<int64_t>(app_->store().History("Bundle", u.path.substr(7), 10)->size()) - 1;
    }
  }
  ASSERT_GT(kinds[SubmissionKind::kObservation], 0);
  ASSERT_GT(kinds[SubmissionKind::kCondition], 0);
  ASSERT_GT(lts_units, 0) << "the generator made no LTS item for these persons";

  // 31 days: replaced units lost their superseded Bundle versions, nothing else went.
  store::PurgeReport r = PurgeAt(31 * kDay);
  EXPECT_EQ(r.bundle_versions, superseded);
  EXPECT_EQ(r.units, 0);
  EXPECT_EQ(r.items, 0);
  for (const auto& [person, units] : units_) {
    for (const auto& [id, u] : units) {
      auto history = app_->store().History("Bundle", u.path.substr(7), 10);
      ASSERT_TRUE(history.ok());
      EXPECT_EQ(history->size(), 1u) << u.path << " was sent " << u.sends << " times";
    }
  }
  ExpectAfter(31 * kDay);

  // 100 days: 処方 gone; 366 days: 検査 and never-retrieved referral letters gone.
  r = PurgeAt(100 * kDay);
  ExpectAfter(100 * kDay);
  r = PurgeAt(366 * kDay);
  ExpectAfter(366 * kDay);
  for (const auto& [person, units] : units_) {
    for (const auto& [id, u] : units) {
      if (u.last.kind == SubmissionKind::kReferral) {
        EXPECT_TRUE(Purged(u));
      } else if (IsDocument(u.last.kind)) {
        EXPECT_EQ(BundleStatusForSender(u), 200) << u.path << ": 健診 / 退院時サマリー stay 5 years";
      }
    }
  }

  // 5 years (+ leap day): everything but the LTS items and the units holding them.
  const hours five_years = 5 * 365 * kDay + 2 * kDay;
  r = PurgeAt(five_years);
  ExpectAfter(five_years);
  for (const auto& [person, units] : units_) {
    for (const auto& [id, u] : units) {
      if (!IsDocument(u.last.kind) && HasLts(u)) {
        EXPECT_EQ(BundleStatusForSender(u), 200) << u.path;
      } else {
        EXPECT_TRUE(Purged(u));
      }
    }
  }

  // 10 years: nothing is left of anyone.
  r = PurgeAt(10 * 365 * kDay + 3 * kDay);
  EXPECT_GT(r.units, 0);
  for (const auto& [person, units] : units_) {
    EXPECT_TRUE(app_->store().ListUnits(person)->empty());
    EXPECT_TRUE(app_->store().ListItems(person)->empty());
    for (const auto& [id, u] : units) EXPECT_TRUE(Purged(u));
  }

  // Every purge is audited, with counts and no content, and the chain stays intact.
  store::AuditQuery q;
  q.actor = "retention";
  auto events = app_->store().ListAudit(q);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 5u);
  for (const store::AuditEvent& e : *events) {
    EXPECT_EQ(e.actor_kind, "system");
    EXPECT_EQ(e.action, "purge");
    EXPECT_EQ(e.outcome, "permit");
    EXPECT_TRUE(e.person_key.empty());
    EXPECT_TRUE(e.items.empty());
    EXPECT_NE(e.reason.find("retention test: deleted "), std::string::npos) << e.reason;
  }
  auto verified = app_->store().VerifyAudit();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->intact) << verified->problem;
}

TEST_F(RetentionHttpTest, TheJobPurgesEveryIntervalAndStopsPromptly) {
  SubmitPersons(2);
  ASSERT_FALSE(HasFatalFailure());
  clock_manual_.Advance(20 * 365 * kDay);
  server::RetentionConfig config;
  config.purge_interval = std::chrono::milliseconds(20);
  server::RetentionJob job(app_->store(), clock_manual_, config, logger_);
  for (int i = 0; i < 500 && job.purges() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(job.purges(), 2);
  for (const auto& [person, units] : units_) EXPECT_TRUE(app_->store().ListUnits(person)->empty());
  const auto started = std::chrono::steady_clock::now();
  job.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  store::AuditQuery q;
  q.actor = "retention";
  auto events = app_->store().ListAudit(q);
  ASSERT_TRUE(events.ok());
  ASSERT_GE(events->size(), 2u);
  EXPECT_NE(events->front().reason.find("retention job: deleted "), std::string::npos);

  // Off: a zero interval starts no thread.
  config.purge_interval = std::chrono::milliseconds(0);
  server::RetentionJob off(app_->store(), clock_manual_, config, logger_);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(off.purges(), 0);
}

// Runs the clinshub binary; its exit code and stdout.
std::pair<int, std::string> RunCli(const std::string& args) {
  std::string command = std::string(CLINSHUB_BINARY_DIR) + "/clinshub " + args + " 2>&1";
  FILE* p = popen(command.c_str(), "r");
  std::string out;
  char buf[4096];
  while (p != nullptr && fgets(buf, sizeof buf, p) != nullptr) out += buf;
  int status = p == nullptr ? -1 : pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST_F(RetentionHttpTest, PurgeCommandDryRunPrintsWhatThePurgeWouldDelete) {
  SubmitPersons(3);
  ASSERT_FALSE(HasFatalFailure());
  const Timestamp at = t0_ + 400 * kDay;
  store::RetentionPolicy policy;
  policy.labs = 200 * kDay;
  auto expected = app_->store().Purge(policy, at, true);
  ASSERT_TRUE(expected.ok());
  ASSERT_GT(expected->items, 0);
  const std::string data = dir_.path() + "/data";
  auto [code, out] = RunCli("purge --dry-run --as-of " + FormatInstant(at) +
                            " --retention-labs-days 200 --data " + data);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("dry run: would delete " + server::DescribePurge(*expected)),
            std::string::npos)
      << out;
  // Nothing was deleted, and the dry run was audited as one.
  EXPECT_EQ(app_->store().Purge(policy, at, true)->items, expected->items);
  store::AuditQuery q;
  q.actor = "retention";
  auto events = app_->store().ListAudit(q);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_NE(events->front().reason.find("clinshub purge (dry run): would delete"),
            std::string::npos)
      << events->front().reason;

  // --as-of is for dry runs only. A real purge (at the real time, beside the running server)
  // leaves nothing that a dry run at the same time would still find.
  EXPECT_EQ(RunCli("purge --as-of 2040-01-01 --data " + data).first, 2);
  auto [real_code, real_out] = RunCli("purge --data " + data);
  EXPECT_EQ(real_code, 0) << real_out;
  EXPECT_EQ(real_out.rfind("deleted ", 0), 0u) << real_out;
  auto after = app_->store().Purge(store::RetentionPolicy{}, SystemClock().Now(), true);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(server::DescribePurge(*after), server::DescribePurge(store::PurgeReport{}));
  EXPECT_EQ(RunCli("purge --data " + dir_.path() + "/missing").first, 2);
}

}  // namespace
}  // namespace clinshub
