// JP-CLINS reporting units through the real server: POST /Bundle registers, replaces and
// resends idempotently; DELETE withdraws; $restore undoes a document withdrawal; $status
// reports; bad submissions are refused whole and store nothing.
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <set>
#include <thread>

#include "common/gzip.h"
#include "fhir/json.h"
#include "generator/generator.h"
#include "server/server_app.h"
#include "store/sqlite/sqlite_store.h"
#include "support/http_client.h"
#include "support/temp_dir.h"
#include "server_fixture.h"

namespace clinshub {
namespace {

using generator::GeneratedSubmission;
using generator::SubmissionKind;
using testing::HeaderList;
using testing::HttpClient;
using testing::HttpResponse;
using testing::TempDir;

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

class SubmissionTest : public testing::ServerFixture {
 protected:
  void Configure(server::ServerConfig& config) override { config.http.worker_threads = 8; }
  void SetUp() override {
    ServerFixture::SetUp();
    EnrolPopulation(gen_);
  }

  // The sender named by Bundle.identifier.value ("<10-digit code>^year^id").
  static std::string SenderOf(const fhir::Value& bundle) {
    const fhir::Value* identifier = bundle.Find("identifier");
    std::string value = identifier ? std::string(identifier->StringAt("value")) : "";
    return value.size() >= 10 ? value.substr(0, 10) : testing::kDefaultInstitution;
  }

  // Submits as the bundle's sender, and goes on acting as that institution (the unit
  // operations and reads that follow are the sender's).
  HttpResponse Submit(const fhir::Value& bundle) {
    client_->SetDefaultHeaders(As(SenderOf(bundle)));
    return Must(client_->SendJson("POST", "/Bundle", fhir::WriteJson(bundle)));
  }
  static std::string UnitQuery(const GeneratedSubmission& s) {
    return "identifier=" + PercentEncode(std::string(generator::kBundleIdentifierSystem) + "|" +
                                         s.bundle_identifier) +
           "&patient.identifier=" + PercentEncode(s.patient_system + "|" + s.patient_identifier);
  }
  // "Bundle/<id>" from a Content-Location ".../Bundle/<id>/_history/<v>".
  static std::string BundlePath(const HttpResponse& r) {
    std::string loc = r.Header("Content-Location");
    size_t at = loc.find("/Bundle/");
    size_t hist = loc.find("/_history/");
    if (at == std::string::npos || hist == std::string::npos) return "";
    return loc.substr(at + 1, hist - at - 1);
  }
  const GeneratedSubmission& FirstOfKind(SubmissionKind kind) {
    for (const GeneratedSubmission& s : submissions_) {
      if (s.kind == kind) return s;
    }
    ADD_FAILURE() << "generator produced no " << generator::SubmissionKindName(kind);
    return submissions_.front();
  }

  generator::Generator gen_{generator::GeneratorOptions{.seed = 7, .persons = 3}};
  std::vector<GeneratedSubmission> submissions_ =
      gen_.SubmissionsFor(gen_.population().persons[0]);
};

TEST_F(SubmissionTest, EveryKindOfSubmissionIsRegisteredAndReadBack) {
  std::set<SubmissionKind> kinds;
  for (const GeneratedSubmission& s : submissions_) {
    HttpResponse r = Submit(s.bundle);
    ASSERT_EQ(r.status, 201) << generator::SubmissionKindName(s.kind) << ": " << r.body;
    EXPECT_EQ(r.Header("ETag"), "W/\"1\"");
    EXPECT_NE(r.Header("Location").find("/Bundle/"), std::string::npos);
    kinds.insert(s.kind);

    HttpResponse read = Must(client_->Get("/" + BundlePath(r)));
    ASSERT_EQ(read.status, 200) << read.body;
    fhir::Value stored = Json(read);
    // What was submitted comes back: same entries, Japanese text untouched.
    EXPECT_EQ(*stored.Find("entry"), *s.bundle.Find("entry"));
    EXPECT_EQ(*stored.Find("identifier"), *s.bundle.Find("identifier"));
  }
  EXPECT_EQ(kinds.size(), 6u) << "the generator should cover all six submission kinds";
}

// Content codings both ways: a gzip-coded submission is the submission; the read-back comes
// gzip-coded to a client that asks; a coding the hub does not speak is 415, a body that is
// not what its coding says is 400, and neither stores anything.
TEST_F(SubmissionTest, GzipCodedSubmissionsAndReadsAndRefusedCodings) {
  const GeneratedSubmission& s = FirstOfKind(SubmissionKind::kObservation);
  const std::string json = fhir::WriteJson(s.bundle);
  client_->SetDefaultHeaders(As(SenderOf(s.bundle)));
  const HeaderList fhir_json = {{"Content-Type", "application/fhir+json"}};
  auto with = [&](HeaderList more) {
    HeaderList h = fhir_json;
    h.insert(h.end(), more.begin(), more.end());
    return h;
  };
  HttpResponse brotli = Must(client_->Send("POST", "/Bundle", with({{"Content-Encoding", "br"}}),
                                           json));
  EXPECT_EQ(brotli.status, 415) << brotli.body;
  EXPECT_NE(brotli.body.find("Content-Encoding"), std::string::npos);
  HttpResponse lying = Must(client_->Send("POST", "/Bundle",
                                          with({{"Content-Encoding", "gzip"}}), json));
  EXPECT_EQ(lying.status, 400) << lying.body;
  EXPECT_EQ(Json(lying).StringAt("resourceType"), "OperationOutcome");
  HttpResponse truncated = Must(client_->Send(
      "POST", "/Bundle", with({{"Content-Encoding", "gzip"}}), Gzip(json).substr(0, 100)));
  EXPECT_EQ(truncated.status, 400) << truncated.body;
  HttpResponse nothing = Must(client_->Get("/Bundle/$status?" + UnitQuery(s)));
  EXPECT_EQ(nothing.status, 404) << "a refused body stored something: " << nothing.body;

  HttpResponse created = Must(client_->Send("POST", "/Bundle",
                                            with({{"Content-Encoding", "gzip"}}), Gzip(json)));
  ASSERT_EQ(created.status, 201) << created.body;
  HttpResponse plain = Must(client_->Get("/" + BundlePath(created)));
  HttpResponse coded = Must(client_->Get("/" + BundlePath(created),
                                         {{"Accept-Encoding", "gzip"}}));
  ASSERT_EQ(coded.status, 200);
  EXPECT_EQ(coded.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(plain.Header("Content-Encoding"), "");
  Result<std::string> text = Gunzip(coded.body, 64 << 20);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, plain.body);
  EXPECT_EQ(*Json(plain).Find("entry"), *s.bundle.Find("entry"));
}

TEST_F(SubmissionTest, IdenticalResendIsIdempotent) {
  const GeneratedSubmission& s = FirstOfKind(SubmissionKind::kCondition);
  HttpResponse first = Submit(s.bundle);
  ASSERT_EQ(first.status, 201) << first.body;
  HttpResponse again = Submit(s.bundle);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.Header("ETag"), "W/\"1\"");
  EXPECT_EQ(BundlePath(again), BundlePath(first));
  HttpResponse history = Must(client_->Get("/" + BundlePath(first) + "/_history"));
  EXPECT_EQ(Json(history).Find("entry")->items().size(), 1u);
}

TEST_F(SubmissionTest, ResendWithChangedContentReplacesTheUnit) {
  const GeneratedSubmission& s = FirstOfKind(SubmissionKind::kObservation);
  HttpResponse first = Submit(s.bundle);
  ASSERT_EQ(first.status, 201) << first.body;
  GeneratedSubmission changed = gen_.Resubmission(gen_.population().persons[0], s, 1);
  HttpResponse second = Submit(changed.bundle);
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.Header("ETag"), "W/\"2\"");
  EXPECT_EQ(BundlePath(second), BundlePath(first));
  fhir::Value current = Json(Must(client_->Get("/" + BundlePath(first))));
  EXPECT_EQ(*current.Find("entry"), *changed.bundle.Find("entry"));
  fhir::Value status = Json(Must(client_->Get("/Bundle/$status?" + UnitQuery(s))));
  EXPECT_EQ(status.Find("parameter")->items()[0].StringAt("valueCode"), "registered");
}

TEST_F(SubmissionTest, InvalidSubmissionIsRejectedWholeWithRuleIdsAndStoresNothing) {
  const GeneratedSubmission& s = FirstOfKind(SubmissionKind::kCondition);
  fhir::Value broken = s.bundle;
  // Move the Patient away from entry[0] (R0211) and break the bundle identifier (R02152).
  auto& entries = broken.FindMutable("entry")->mutable_items();
  std::swap(entries[0], entries[1]);
  broken.FindMutable("identifier")->Set("value", fhir::Value::String("bad^id"));
  HttpResponse r = Submit(broken);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("R0211"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("R02152"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("Bundle.identifier.value"), std::string::npos) << r.body;
  HttpResponse status = Must(client_->Get("/Bundle/$status?" + UnitQuery(s)));
  EXPECT_EQ(status.status, 404) << status.body;
}

TEST_F(SubmissionTest, MalformedOrWrongResourceBodiesGet4xx) {
  EXPECT_EQ(Must(client_->SendJson("POST", "/Bundle", "{\"resourceType\":\"Bundle\",")).status,
            400);
  EXPECT_EQ(Must(client_->SendJson("POST", "/Bundle",
                                   R"({"resourceType":"Patient","active":true})"))
                .status,
            400);
  EXPECT_EQ(Must(client_->SendJson("POST", "/Bundle",
                                   R"({"resourceType":"Bundle","type":"collection"})"))
                .status,
            422);
  EXPECT_EQ(Must(client_->Send("POST", "/Bundle", {{"Content-Type", "text/plain"}}, "x")).status,
            415);
  EXPECT_EQ(Must(client_->Send("POST", "/Bundle", {}, "{}")).status, 415) << "body, no type";
}

TEST_F(SubmissionTest, WithdrawRemovesTheUnitAndASecondWithdrawIsGone) {
  const GeneratedSubmission& s = FirstOfKind(SubmissionKind::kAllergy);
  HttpResponse created = Submit(s.bundle);
  ASSERT_EQ(created.status, 201) << created.body;
  HttpResponse withdrawn = Must(client_->Send("DELETE", "/Bundle?" + UnitQuery(s)));
  ASSERT_EQ(withdrawn.status, 200) << withdrawn.body;
  EXPECT_EQ(Must(client_->Get("/" + BundlePath(created))).status, 410);
  fhir::Value status = Json(Must(client_->Get("/Bundle/$status?" + UnitQuery(s))));
  EXPECT_EQ(status.Find("parameter")->items()[0].StringAt("valueCode"), "withdrawn");
  EXPECT_EQ(Must(client_->Send("DELETE", "/Bundle?" + UnitQuery(s))).status, 410);
  // A 6-information unit is not restored; it is sent again.
  EXPECT_EQ(Must(client_->Send("POST", "/Bundle/$restore?" + UnitQuery(s))).status, 422);
  HttpResponse resent = Submit(s.bundle);
  EXPECT_EQ(resent.status, 200) << resent.body;
  EXPECT_EQ(resent.Header("ETag"), "W/\"3\"");
}

TEST_F(SubmissionTest, WithdrawnDocumentIsRestoredByUndo) {
  const GeneratedSubmission& s = FirstOfKind(SubmissionKind::kReferral);
  HttpResponse created = Submit(s.bundle);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Must(client_->Send("POST", "/Bundle/$restore?" + UnitQuery(s))).status, 409);
  ASSERT_EQ(Must(client_->Send("DELETE", "/Bundle?" + UnitQuery(s))).status, 200);
  HttpResponse restored = Must(client_->Send("POST", "/Bundle/$restore?" + UnitQuery(s)));
  ASSERT_EQ(restored.status, 200) << restored.body;
  EXPECT_EQ(restored.Header("ETag"), "W/\"3\"");
  HttpResponse read = Must(client_->Get("/" + BundlePath(created)));
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(*Json(read).Find("entry"), *s.bundle.Find("entry"));
  fhir::Value status = Json(Must(client_->Get("/Bundle/$status?" + UnitQuery(s))));
  EXPECT_EQ(status.Find("parameter")->items()[0].StringAt("valueCode"), "registered");
}

TEST_F(SubmissionTest, UnitOperationsRejectBadParameters) {
  EXPECT_EQ(Must(client_->Send("DELETE", "/Bundle")).status, 400);
  EXPECT_EQ(Must(client_->Send("DELETE", "/Bundle?identifier=novalue")).status, 400);
  EXPECT_EQ(Must(client_->Send("DELETE", "/Bundle?identifier=a|b&color=red")).status, 400);
  EXPECT_EQ(Must(client_->Get("/Bundle/$status?identifier=a|b")).status, 404);
  EXPECT_EQ(Must(client_->Get("/Bundle/$status?identifier=a'%3B%20DROP%20TABLE%20unit--|b"))
                .status,
            404);
}

TEST_F(SubmissionTest, ConcurrentSendsOfOneUnitEndInOneOfThem) {
  const GeneratedSubmission& s = FirstOfKind(SubmissionKind::kCondition);
  std::vector<GeneratedSubmission> variants;
  for (int i = 1; i <= 6; ++i) {
    variants.push_back(gen_.Resubmission(gen_.population().persons[0], s, i));
  }
  std::vector<int> statuses(variants.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < variants.size(); ++i) {
    threads.emplace_back([&, i] {
      HttpClient client("127.0.0.1", app_->port());
      auto r = client.SendJson("POST", "/Bundle", fhir::WriteJson(variants[i].bundle),
                               As(SenderOf(variants[i].bundle)));
      statuses[i] = r.ok() ? r->status : -1;
    });
  }
  for (auto& t : threads) t.join();
  for (int status : statuses) EXPECT_TRUE(status == 200 || status == 201) << status;
  client_->SetDefaultHeaders(As(SenderOf(s.bundle)));
  fhir::Value status = Json(Must(client_->Get("/Bundle/$status?" + UnitQuery(s))));
  const fhir::Value* bundle_ref = nullptr;
  for (const fhir::Value& p : status.Find("parameter")->items()) {
    if (p.StringAt("name") == "bundle") bundle_ref = p.Find("valueReference");
  }
  ASSERT_NE(bundle_ref, nullptr);
  std::string path(bundle_ref->StringAt("reference"));
  path = path.substr(0, path.find("/_history/"));
  fhir::Value current = Json(Must(client_->Get("/" + path)));
  int matches = 0;
  for (const GeneratedSubmission& v : variants) {
    if (*current.Find("entry") == *v.bundle.Find("entry")) ++matches;
  }
  EXPECT_GE(matches, 1) << "the stored unit must be exactly one of the sent variants";
}

TEST_F(SubmissionTest, ItemsAreExtractedPerPersonAndReplacedWithTheUnit) {
  const GeneratedSubmission& s = FirstOfKind(SubmissionKind::kCondition);
  ASSERT_EQ(Submit(s.bundle).status, 201);
  GeneratedSubmission changed = gen_.Resubmission(gen_.population().persons[0], s, 1);
  ASSERT_EQ(Submit(changed.bundle).status, 200);
  app_.reset();

  ManualClock clock(Timestamp{});
  store::SqliteOptions options;
  options.path = dir_.path() + "/data";
  auto store = store::OpenSqliteStore(options, clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto unit = (*store)->FindUnits(generator::kBundleIdentifierSystem, s.bundle_identifier);
  ASSERT_TRUE(unit.ok());
  ASSERT_EQ(unit->size(), 1u);
  auto items = (*store)->ListItems(unit->at(0).key.person_key);
  ASSERT_TRUE(items.ok()) << items.status().ToString();
  EXPECT_EQ(items->size(), changed.items.size());
  std::multiset<std::string> got, want;
  for (const auto& item : *items) got.insert(item.item.code);
  for (const auto& item : changed.items) want.insert(item.code);
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace clinshub
