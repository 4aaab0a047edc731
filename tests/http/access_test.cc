// Who may read what, end to end through the real server: consent and its window, emergency
// access, referral letters and their consent states, the roster, the patient's view without
// 未告知 / 未提供 items, the access log and the audit chain.
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <sys/wait.h>

#include <cstdlib>
#include <set>

#include "fhir/json.h"
#include "generator/generator.h"
#include "server_fixture.h"

namespace clinshub {
namespace {

using generator::GeneratedSubmission;
using generator::SubmissionKind;
using testing::HeaderList;
using testing::HttpResponse;

constexpr char kMemberSystem[] = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";
constexpr char kReader[] = "1319999991";      // a clinic the patient visits
constexpr char kEmergency[] = "1319999992";   // an emergency hospital
constexpr char kStranger[] = "1319999993";    // no consent, no permission

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

class AccessTest : public testing::ServerFixture {
 protected:
  AccessTest() { clock_ = &clock_manual_; }
  // clinshub-gen's "now" (2026-01-01Z): generated dates lie before it.
  ManualClock clock_manual_{Timestamp(std::chrono::microseconds(1767225600000000))};

  void SetUp() override {
    ServerFixture::SetUp();
    EnrolPopulation(gen_);
    EnrolInstitution(kReader);
    EnrolInstitution(kEmergency, /*emergency=*/true);
    EnrolInstitution(kStranger);
  }

  static std::string SenderOf(const GeneratedSubmission& s) { return s.institution_code; }

  HttpResponse Submit(const GeneratedSubmission& s, HeaderList extra = {}) {
    return Must(client_->SendJson("POST", "/Bundle", fhir::WriteJson(s.bundle),
                                  As(SenderOf(s), std::move(extra))));
  }

  std::string PatientParam(const GeneratedSubmission& s) {
    return PercentEncode(s.patient_system + "|" + s.patient_identifier);
  }

  HttpResponse Summary(const GeneratedSubmission& s, const HeaderList& who) {
    return Must(client_->Get("/Patient/$summary?identifier=" + PatientParam(s), who));
  }

  HttpResponse RecordConsent(const GeneratedSubmission& s, const std::string& institution) {
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

  // The codes of the summary's entries.
  std::multiset<std::string> Codes(const HttpResponse& r) {
    std::multiset<std::string> codes;
    fhir::Value bundle = Json(r);
    const fhir::Value* entries = bundle.Find("entry");
    if (entries == nullptr) return codes;
    for (const fhir::Value& e : entries->items()) {
      const fhir::Value* code = e.Find("resource")->Find("code");
      if (code && code->Find("coding")) {
        for (const fhir::Value& c : code->Find("coding")->items()) {
          codes.insert(std::string(c.StringAt("code")));
        }
      }
    }
    return codes;
  }

  // Submissions of the first person that has a condition flagged `uninformed`/`undelivered`.
  std::vector<GeneratedSubmission> PersonWith(bool (*want)(const generator::ExpectedItem&)) {
    for (const generator::Person& p : gen_.population().persons) {
      std::vector<GeneratedSubmission> subs = gen_.SubmissionsFor(p);
      for (const GeneratedSubmission& s : subs) {
        for (const generator::ExpectedItem& item : s.items) {
          if (want(item)) return subs;
        }
      }
    }
    ADD_FAILURE() << "the generator made nobody with such an item";
    return {};
  }

  const GeneratedSubmission* First(const std::vector<GeneratedSubmission>& subs,
                                   SubmissionKind kind) {
    for (const GeneratedSubmission& s : subs) {
      if (s.kind == kind) return &s;
    }
    return nullptr;
  }

  generator::Generator gen_{generator::GeneratorOptions{.seed = 21, .persons = 40}};
};

TEST_F(AccessTest, ReadingNeedsConsentWhichLastsItsWindowAndCanBeRevoked) {
  std::vector<GeneratedSubmission> subs = gen_.SubmissionsFor(gen_.population().persons[0]);
  const GeneratedSubmission* conditions = First(subs, SubmissionKind::kCondition);
  ASSERT_NE(conditions, nullptr);
  ASSERT_EQ(Submit(*conditions).status, 201);

  HttpResponse denied = Summary(*conditions, As(kReader));
  EXPECT_EQ(denied.status, 403) << denied.body;
  EXPECT_NE(denied.body.find("deny.no-consent"), std::string::npos) << denied.body;
  EXPECT_EQ(denied.body.find("entry"), std::string::npos) << "a denial reveals no data";

  HttpResponse consent = RecordConsent(*conditions, kReader);
  ASSERT_EQ(consent.status, 201) << consent.body;
  std::string consent_id(Json(consent).StringAt("id"));
  HttpResponse allowed = Summary(*conditions, As(kReader));
  ASSERT_EQ(allowed.status, 200) << allowed.body;
  EXPECT_FALSE(Codes(allowed).empty());

  // 24 hours later the consent has lapsed.
  clock_manual_.Advance(std::chrono::hours(24) + std::chrono::seconds(1));
  EXPECT_EQ(Summary(*conditions, As(kReader)).status, 403);

  // A new card-reader consent, then revoked by the institution that recorded it.
  HttpResponse again = RecordConsent(*conditions, kReader);
  ASSERT_EQ(again.status, 201);
  std::string again_id(Json(again).StringAt("id"));
  EXPECT_EQ(Summary(*conditions, As(kReader)).status, 200);
  EXPECT_EQ(Must(client_->Send("DELETE", "/Consent/" + again_id, As(kStranger))).status, 403);
  HttpResponse revoked = Must(client_->Send("DELETE", "/Consent/" + again_id, As(kReader)));
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(Json(revoked).StringAt("status"), "inactive");
  EXPECT_EQ(Summary(*conditions, As(kReader)).status, 403);
  EXPECT_NE(consent_id, again_id);
}

TEST_F(AccessTest, EmergencyAccessNeedsThePermissionAndAStatedReason) {
  std::vector<GeneratedSubmission> subs = gen_.SubmissionsFor(gen_.population().persons[1]);
  const GeneratedSubmission* s = First(subs, SubmissionKind::kAllergy);
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(Submit(*s).status, 201);
  HeaderList etreat = {{"X-Purpose-Of-Use", "ETREAT"},
                       {"X-Emergency-Reason", "unconscious on arrival"}};
  EXPECT_EQ(Summary(*s, As(kStranger, etreat)).status, 403) << "no emergency permission";
  EXPECT_EQ(Summary(*s, As(kEmergency, {{"X-Purpose-Of-Use", "ETREAT"}})).status, 400)
      << "no reason";
  EXPECT_EQ(Summary(*s, As(kEmergency, {{"X-Purpose-Of-Use", "BOGUS"}})).status, 400);
  EXPECT_EQ(Summary(*s, As(kEmergency)).status, 403) << "permission alone is not consent";
  HttpResponse r = Summary(*s, As(kEmergency, etreat));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(Codes(r).empty());

  // The patient sees the emergency read, with its reason, in their access log.
  HttpResponse log = Must(
      client_->Get("/AuditEvent?patient.identifier=" + PatientParam(*s), AsPortal()));
  ASSERT_EQ(log.status, 200) << log.body;
  EXPECT_NE(log.body.find("ETREAT"), std::string::npos) << log.body;
  EXPECT_NE(log.body.find("unconscious on arrival"), std::string::npos);
  EXPECT_NE(log.body.find(kEmergency), std::string::npos);
  EXPECT_EQ(log.body.find(kStranger), std::string::npos) << "denials are not reads";
}

bool IsUninformed(const generator::ExpectedItem& i) { return i.uninformed; }
bool IsUndelivered(const generator::ExpectedItem& i) { return i.undelivered; }

TEST_F(AccessTest, PatientsNeverSeeUninformedOrUndeliveredItemsAnywhere) {
  for (auto want : {&IsUninformed, &IsUndelivered}) {
    std::vector<GeneratedSubmission> subs = PersonWith(want);
    ASSERT_FALSE(subs.empty());
    std::set<std::string> hidden_codes;
    size_t visible = 0;
    for (const GeneratedSubmission& s : subs) {
      ASSERT_LT(Submit(s).status, 300);
      for (const generator::ExpectedItem& item : s.items) {
        if (item.uninformed || item.undelivered) {
          hidden_codes.insert(item.code);
        }
      }
    }
    const GeneratedSubmission& any = subs.front();
    // An institution with consent reads, so the access log has entries with hidden items.
    ASSERT_EQ(RecordConsent(any, kReader).status, 201);
    HttpResponse institution_view = Summary(any, As(kReader));
    ASSERT_EQ(institution_view.status, 200);

    HttpResponse patient_view = Summary(any, AsPortal());
    ASSERT_EQ(patient_view.status, 200) << patient_view.body;
    HttpResponse log = Must(
        client_->Get("/AuditEvent?patient.identifier=" + PatientParam(any), AsPortal()));
    ASSERT_EQ(log.status, 200);
    fhir::Value bundle = Json(patient_view);
    for (const fhir::Value& e : bundle.Find("entry")->items()) {
      const fhir::Value& resource = *e.Find("resource");
      const fhir::Value* meta = resource.Find("meta");
      std::string tags = meta ? fhir::WriteJson(*meta) : "";
      EXPECT_EQ(tags.find("UNINFORMED"), std::string::npos) << tags;
      EXPECT_EQ(tags.find("UNDELIVERED"), std::string::npos) << tags;
      ++visible;
    }
    EXPECT_EQ(bundle.Find("total")->text(), std::to_string(visible));
    EXPECT_EQ(patient_view.body.find("uninformed"), std::string::npos);
    // The access log names no item the patient may not know of.
    fhir::Value inst = Json(institution_view);
    std::set<std::string> hidden_refs;
    for (const fhir::Value& e : inst.Find("entry")->items()) {
      std::string tags = e.Find("resource")->Find("meta")
                             ? fhir::WriteJson(*e.Find("resource")->Find("meta"))
                             : "";
      if (tags.find("UNINFORMED") != std::string::npos ||
          tags.find("UNDELIVERED") != std::string::npos) {
        std::string url(e.StringAt("fullUrl"));
        hidden_refs.insert(url);
      }
    }
    for (const std::string& ref : hidden_refs) {
      EXPECT_EQ(log.body.find(ref), std::string::npos) << ref;
      EXPECT_EQ(patient_view.body.find(ref), std::string::npos) << ref;
    }
    // Another institution never sees 未提供 items; it sees 未告知 ones marked.
    if (want == &IsUndelivered) {
      EXPECT_EQ(institution_view.body.find("UNDELIVERED"), std::string::npos);
    } else {
      EXPECT_NE(institution_view.body.find("\"uninformed\""), std::string::npos);
    }
  }
}

TEST_F(AccessTest, ReferralLettersReachOnlyTheirAddresseeAfterConsent) {
  std::vector<GeneratedSubmission> subs = gen_.SubmissionsFor(gen_.population().persons[2]);
  const GeneratedSubmission* letter = First(subs, SubmissionKind::kReferral);
  for (size_t p = 3; letter == nullptr && p < gen_.population().persons.size(); ++p) {
    subs = gen_.SubmissionsFor(gen_.population().persons[p]);
    letter = First(subs, SubmissionKind::kReferral);
  }
  ASSERT_NE(letter, nullptr);
  HttpResponse created = Submit(*letter);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string loc = created.Header("Location");
  std::string path = loc.substr(loc.find("/Bundle/") + 1);
  path = path.substr(0, path.find("/_history"));
  const std::string addressee = letter->addressee_code;

  // Pending (閲覧保留): listed in the inbox, not retrievable.
  HttpResponse inbox = Must(client_->Get("/Bundle/$inbox", As(addressee)));
  ASSERT_EQ(inbox.status, 200) << inbox.body;
  EXPECT_NE(inbox.body.find("\"pending\""), std::string::npos) << inbox.body;
  HttpResponse pending = Must(client_->Get("/" + path, As(addressee)));
  EXPECT_EQ(pending.status, 403);
  EXPECT_NE(pending.body.find("deny.referral-pending"), std::string::npos);
  // Another institution, even with the patient's consent, may not retrieve it.
  ASSERT_EQ(RecordConsent(*letter, kReader).status, 201);
  EXPECT_EQ(Must(client_->Get("/" + path, As(kReader))).status, 403);
  // An institution cannot set the patient's consent.
  std::string unit_query = "identifier=" +
                           PercentEncode(std::string(generator::kBundleIdentifierSystem) + "|" +
                                         letter->bundle_identifier) +
                           "&patient.identifier=" + PatientParam(*letter);
  EXPECT_EQ(Must(client_->Send("POST", "/Bundle/$referral-consent?" + unit_query,
                               As(addressee)))
                .status,
            403);
  // The patient consents in the portal: 閲覧可, then retrieval moves it to 取得済.
  HttpResponse consented =
      Must(client_->Send("POST", "/Bundle/$referral-consent?" + unit_query, AsPortal()));
  ASSERT_EQ(consented.status, 200) << consented.body;
  HttpResponse retrieved = Must(client_->Get("/" + path, As(addressee)));
  ASSERT_EQ(retrieved.status, 200) << retrieved.body;
  EXPECT_EQ(*Json(retrieved).Find("entry"), *letter->bundle.Find("entry"));
  HttpResponse status = Must(client_->Get("/Bundle/$status?" + unit_query, As(SenderOf(*letter))));
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_NE(status.body.find("\"retrieved\""), std::string::npos) << status.body;
  // The patient redirects the letter to another institution, which may then retrieve it.
  EXPECT_EQ(Must(client_->Send("POST",
                               "/Bundle/$referral-consent?" + unit_query + "&recipient=" + kStranger,
                               AsPortal()))
                .status,
            200);
  EXPECT_EQ(Must(client_->Get("/" + path, As(kStranger))).status, 200);
}

TEST_F(AccessTest, ACardReaderConsentAtTheAddresseeMakesPendingLettersViewable) {
  const GeneratedSubmission* letter = nullptr;
  std::vector<GeneratedSubmission> subs;
  for (const generator::Person& p : gen_.population().persons) {
    subs = gen_.SubmissionsFor(p);
    letter = First(subs, SubmissionKind::kReferral);
    if (letter) break;
  }
  ASSERT_NE(letter, nullptr);
  HttpResponse created = Submit(*letter);
  ASSERT_EQ(created.status, 201);
  std::string loc = created.Header("Location");
  std::string path = loc.substr(loc.find("/Bundle/") + 1);
  path = path.substr(0, path.find("/_history"));
  EXPECT_EQ(Must(client_->Get("/" + path, As(letter->addressee_code))).status, 403);
  EnrolInstitution(letter->addressee_code);
  ASSERT_EQ(RecordConsent(*letter, letter->addressee_code).status, 201);
  EXPECT_EQ(Must(client_->Get("/" + path, As(letter->addressee_code))).status, 200);
}

TEST_F(AccessTest, SenderMayStateOralConsentWithTheLetter) {
  const GeneratedSubmission* letter = nullptr;
  std::vector<GeneratedSubmission> subs;
  for (const generator::Person& p : gen_.population().persons) {
    subs = gen_.SubmissionsFor(p);
    letter = First(subs, SubmissionKind::kReferral);
    if (letter) break;
  }
  ASSERT_NE(letter, nullptr);
  EXPECT_EQ(Submit(*letter, {{"X-Referral-Consent", "maybe"}}).status, 400);
  HttpResponse created = Submit(*letter, {{"X-Referral-Consent", "viewable"}});
  ASSERT_EQ(created.status, 201);
  std::string loc = created.Header("Location");
  std::string path = loc.substr(loc.find("/Bundle/") + 1);
  path = path.substr(0, path.find("/_history"));
  EXPECT_EQ(Must(client_->Get("/" + path, As(letter->addressee_code))).status, 200);
}

TEST_F(AccessTest, SixInformationBundlesAreReadOnlyByTheirSender) {
  std::vector<GeneratedSubmission> subs = gen_.SubmissionsFor(gen_.population().persons[0]);
  const GeneratedSubmission* s = First(subs, SubmissionKind::kCondition);
  HttpResponse created = Submit(*s);
  ASSERT_EQ(created.status, 201);
  std::string loc = created.Header("Location");
  std::string path = loc.substr(loc.find("/Bundle/") + 1);
  path = path.substr(0, path.find("/_history"));
  EXPECT_EQ(Must(client_->Get("/" + path, As(SenderOf(*s)))).status, 200);
  ASSERT_EQ(RecordConsent(*s, kReader).status, 201);
  EXPECT_EQ(Must(client_->Get("/" + path, As(kReader))).status, 403)
      << "raw bundles carry flagged items: others read through $summary";
  EXPECT_EQ(Must(client_->Get("/" + path + "/_history", As(kReader))).status, 403);
  EXPECT_EQ(Must(client_->Get("/" + path, AsOperator())).status, 403);
  EXPECT_EQ(Must(client_->Get("/" + path, Anonymous())).status, 401);
}

TEST_F(AccessTest, NoIdentityNoDataAndTheOperatorReadsNoClinicalData) {
  std::vector<GeneratedSubmission> subs = gen_.SubmissionsFor(gen_.population().persons[0]);
  const GeneratedSubmission* s = First(subs, SubmissionKind::kCondition);
  ASSERT_EQ(Submit(*s).status, 201);
  EXPECT_EQ(Summary(*s, Anonymous()).status, 401);
  EXPECT_EQ(Summary(*s, AsOperator()).status, 403);
  EXPECT_EQ(Must(client_->SendJson("POST", "/Bundle", fhir::WriteJson(s->bundle), Anonymous()))
                .status,
            401);
  EXPECT_EQ(Must(client_->Get("/Bundle/$inbox", Anonymous())).status, 401);
  EXPECT_EQ(Must(client_->Get("/AuditEvent", Anonymous())).status, 401);
  EXPECT_EQ(Must(client_->Get("/AuditEvent", As(kReader))).status, 403);
  HttpResponse audit = Must(client_->Get("/AuditEvent?_count=5", AsOperator()));
  ASSERT_EQ(audit.status, 200) << audit.body;
  // Audit records hold references, never clinical content.
  for (const generator::ExpectedItem& item : s->items) {
    EXPECT_EQ(audit.body.find(item.text), std::string::npos) << item.text;
  }
  // An institution not in the directory, or inactive, is refused.
  EXPECT_EQ(Summary(*s, As("1318888888")).status, 403);
  EnrolInstitution(kReader, false, /*active=*/false);
  ASSERT_EQ(RecordConsent(*s, kReader).status, 403);
}

TEST_F(AccessTest, TheRosterDecidesWhoAPatientIs) {
  const generator::Person& person = gen_.population().persons[0];
  std::vector<GeneratedSubmission> subs = gen_.SubmissionsFor(person);
  const GeneratedSubmission* s = First(subs, SubmissionKind::kCondition);
  // Unknown identifier: the submission is refused and names the rule.
  fhir::Value unknown = s->bundle;
  std::string body = fhir::WriteJson(unknown);
  size_t at = body.find(s->patient_identifier);
  ASSERT_NE(at, std::string::npos);
  body.replace(at, s->patient_identifier.size(), "99999999:不明:1:01");
  HttpResponse refused = Must(client_->SendJson("POST", "/Bundle", body, As(SenderOf(*s))));
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("roster"), std::string::npos) << refused.body;
  EXPECT_EQ(Must(client_->Get("/Patient/$summary?identifier=" +
                                  PercentEncode(std::string(kMemberSystem) + "|99999999:x:1:01"),
                              As(kReader)))
                .status,
            404);

  // The person changes insurance: data registered under the old identifier follows them.
  ASSERT_EQ(Submit(*s).status, 201);
  const std::string person_key = "P" + std::to_string(person.index);
  EnrolPatient(s->patient_system, s->patient_identifier, person_key, "2000-01-01", "2025-12-31");
  EnrolPatient(kMemberSystem, "06999999:新:7:00", person_key, "2026-01-01", "");
  clock_manual_.Advance(std::chrono::hours(24 * 2));
  HttpResponse stale = Must(client_->SendJson("POST", "/Bundle", fhir::WriteJson(s->bundle),
                                              As(SenderOf(*s))));
  EXPECT_EQ(stale.status, 422) << "an ended identifier must be re-checked";
  EXPECT_NE(stale.body.find("2025-12-31"), std::string::npos) << stale.body;
  fhir::Value consent_target = fhir::Value::Object();
  GeneratedSubmission renewed = *s;
  renewed.patient_system = kMemberSystem;
  renewed.patient_identifier = "06999999:新:7:00";
  ASSERT_EQ(RecordConsent(renewed, kReader).status, 201);
  // Full-width digits name the same identifier.
  HttpResponse summary = Must(client_->Get(
      "/Patient/$summary?identifier=" + PercentEncode(std::string(kMemberSystem) +
                                                      "|06999999:新:７:00"),
      As(kReader)));
  ASSERT_EQ(summary.status, 200) << summary.body;
  EXPECT_FALSE(Codes(summary).empty());
}

TEST_F(AccessTest, EveryDecisionIsInAnIntactAuditChain) {
  std::vector<GeneratedSubmission> subs = gen_.SubmissionsFor(gen_.population().persons[0]);
  for (const GeneratedSubmission& s : subs) ASSERT_LT(Submit(s).status, 300);
  (void)Summary(subs[0], As(kReader));  // denied
  ASSERT_EQ(RecordConsent(subs[0], kReader).status, 201);
  ASSERT_EQ(Summary(subs[0], As(kReader)).status, 200);
  auto verified = app_->store().VerifyAudit();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->intact) << verified->problem;
  EXPECT_GE(verified->records, static_cast<int64_t>(subs.size()) + 3);
  store::AuditQuery q;
  q.person_key = "P0";
  auto events = app_->store().ListAudit(q);
  ASSERT_TRUE(events.ok());
  std::multiset<std::string> outcomes;
  for (const store::AuditEvent& e : *events) outcomes.insert(e.action + ":" + e.outcome);
  EXPECT_EQ(outcomes.count("summary:permit"), 1u);
  EXPECT_EQ(outcomes.count("consent:permit"), 1u);
  EXPECT_EQ(outcomes.count("submit:permit"), subs.size());
}

// Runs `clinshub audit verify` on the data directory; its exit code.
int VerifyWithCli(const std::string& data_dir) {
  std::string command = std::string(CLINSHUB_BINARY_DIR) + "/clinshub audit verify --data " +
                        data_dir + " > /dev/null";
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void Exec(const std::string& db_file, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_file.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

TEST_F(AccessTest, TamperingWithAnyAuditRecordIsDetectedByAuditVerify) {
  std::vector<GeneratedSubmission> subs = gen_.SubmissionsFor(gen_.population().persons[0]);
  for (const GeneratedSubmission& s : subs) ASSERT_LT(Submit(s).status, 300);
  ASSERT_EQ(RecordConsent(subs[0], kReader).status, 201);
  ASSERT_EQ(Summary(subs[0], As(kReader)).status, 200);
  app_.reset();  // the CLI reads the store while nothing writes
  const std::string data = dir_.path() + "/data";
  const std::string db = data + "/clinshub.sqlite3";
  ASSERT_EQ(VerifyWithCli(data), 0);

  // Hide who read: the altered record no longer matches its hash.
  Exec(db, "UPDATE audit SET actor = '1310000000' WHERE action = 'summary'");
  EXPECT_EQ(VerifyWithCli(data), 1);
  Exec(db, "UPDATE audit SET actor = '" + std::string(kReader) + "' WHERE action = 'summary'");
  ASSERT_EQ(VerifyWithCli(data), 0) << "restoring the original value restores the chain";

  // Remove a record from the middle: the next one no longer links.
  Exec(db, "DELETE FROM audit WHERE seq = 3");
  EXPECT_EQ(VerifyWithCli(data), 1);
}

}  // namespace
}  // namespace clinshub
