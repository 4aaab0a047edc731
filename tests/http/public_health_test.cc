// Public health end to end (docs/public-health.md): 感染症発生届 drafted from the institution's
// own data, submitted, and delivered through the durable outbox to a real HTTP receiver on
// loopback that fails, delays and drops on purpose — exactly once per idempotency key at the
// receiver despite failures, duplicates, restarts and kill -9; and the minister's export
// behind two operators: cohort, pseudonymisation, 未提供 exclusion, audit and access log.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "fhir/json.h"
#include "generator/generator.h"
#include "server_fixture.h"
#include "store/sqlite/sqlite_store.h"

namespace clinshub {
namespace {

using namespace std::chrono_literals;
using testing::HeaderList;
using testing::HttpResponse;

constexpr char kMemberSystem[] = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";
constexpr char kInstitutionSystem[] =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
constexpr char kDoctor[] = "1311234567";   // the diagnosing institution (fixture default)
constexpr char kOther[] = "1319999991";    // another institution in Tokyo
constexpr char kOsaka[] = "2719999992";    // an institution in prefecture 27

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

// ---- A surveillance receiver on loopback that misbehaves on purpose -------------------------
//
// It "processes" a notification the first time it sees its Idempotency-Key (as a real system
// would commit it), then may still fail to acknowledge: `drop` closes the connection without an
// answer, `delay` answers after the sender gave up. Requests with `fail` left get 503 and are
// not processed. A repeated key is a duplicate: acknowledged, never processed again.
class Receiver {
 public:
  Receiver() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 64);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~Receiver() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/notify"; }

  std::atomic<int> fail{0};      // next requests answered 503, unprocessed
  std::atomic<int> drop{0};      // next new notifications processed, connection dropped
  std::atomic<int> delay_ms{0};  // answer delay of the next new notifications (beyond the
  std::atomic<int> delay_count{0};  // sender's timeout: it sends a duplicate)

  std::map<std::string, int> Processed() {
    std::lock_guard lock(mu_);
    return processed_;
  }
  std::map<std::string, int> Received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  int total_received() {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& [k, v] : received_) n += v;
    return n;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      Handle(c);
      close(c);
    }
  }
  void Handle(int c) {
    std::string data;
    char buf[4096];
    size_t header_end = std::string::npos;
    size_t need = 0;
    while (true) {
      pollfd p{c, POLLIN, 0};
      if (poll(&p, 1, 2000) <= 0) return;
      ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) return;
      data.append(buf, static_cast<size_t>(n));
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end == std::string::npos) continue;
        need = header_end + 4 + static_cast<size_t>(std::stoul(Header(data, "content-length")));
      }
      if (data.size() >= need) break;
    }
    const std::string key = Header(data, "idempotency-key");
    int status = 200;
    bool respond = true;
    bool delayed = false;
    {
      std::lock_guard lock(mu_);
      ++received_[key];
      if (fail > 0) {
        --fail;
        status = 503;
      } else if (processed_.count(key) == 0) {
        processed_[key] = 1;  // the one and only processing of this key
        if (drop > 0) {
          --drop;
          respond = false;
        } else if (delay_count > 0) {
          --delay_count;
          delayed = true;
        }
      }
    }
    if (!respond) return;
    if (delayed) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
    std::string reply = "HTTP/1.1 " + std::to_string(status) +
                        " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)!send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
  }
  static std::string Header(const std::string& data, const std::string& name) {
    std::string lower = data.substr(0, data.find("\r\n\r\n"));
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    size_t at = lower.find("\r\n" + name + ":");
    if (at == std::string::npos) return "0";
    size_t start = at + 2 + name.size() + 1;
    size_t end = lower.find("\r\n", start);
    std::string v = data.substr(start, end - start);
    v.erase(0, v.find_first_not_of(' '));
    return v;
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::map<std::string, int> received_, processed_;
  std::thread thread_;
};

// A complete, valid notification of `disease` for the patient, filed by `institution`.
std::string NotificationJson(const std::string& institution, const std::string& id,
                             const std::string& system, const std::string& value,
                             const std::string& disease = "measles") {
  fhir::Value b = fhir::ParseJson(R"({
    "resourceType": "Bundle", "type": "collection",
    "identifier": {"system": "http://clinshub.example/fhir/notification-identifier"},
    "entry": [
      {"fullUrl": "urn:uuid:patient", "resource": {"resourceType": "Patient",
        "identifier": [{"system": "", "value": ""}]}},
      {"fullUrl": "urn:uuid:condition", "resource": {"resourceType": "Condition",
        "code": {"coding": [{"system": "http://clinshub.example/fhir/CodeSystem/notifiable-disease",
                              "code": ""}]},
        "subject": {"reference": "urn:uuid:patient"},
        "onsetDateTime": "2026-01-03", "recordedDate": "2026-01-05",
        "evidence": [{"code": [{"text": "PCR 陽性"}]}]}},
      {"fullUrl": "urn:uuid:practitioner", "resource": {"resourceType": "Practitioner",
        "name": [{"text": "厚労 太郎"}]}},
      {"fullUrl": "urn:uuid:org", "resource": {"resourceType": "Organization",
        "identifier": [{"system": "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no",
                        "value": ""}]}}]})").value();
  b.FindMutable("identifier")->Set("value", fhir::Value::String(institution + "^2026^" + id));
  fhir::Value& entries = *b.FindMutable("entry");
  fhir::Value& pid = entries.mutable_items()[0].FindMutable("resource")->FindMutable("identifier")->mutable_items()[0];
  pid.Set("system", fhir::Value::String(system));
  pid.Set("value", fhir::Value::String(value));
  entries.mutable_items()[1].FindMutable("resource")->FindMutable("code")->FindMutable("coding")
      ->mutable_items()[0].Set("code", fhir::Value::String(disease));
  entries.mutable_items()[3].FindMutable("resource")->FindMutable("identifier")
      ->mutable_items()[0].Set("value", fhir::Value::String(institution));
  return fhir::WriteJson(b);
}

std::string Param(const fhir::Value& parameters, std::string_view name) {
  for (const fhir::Value& p : parameters.Find("parameter")->items()) {
    if (p.StringAt("name") != name) continue;
    for (const auto& [k, v] : p.members()) {
      if (k.rfind("value", 0) == 0) return v.text();
    }
  }
  return "";
}

// ---- Notifications through the in-process server ----------------------------------------

class NotificationTest : public testing::ServerFixture {
 protected:
  void Configure(server::ServerConfig& config) override {
    config.outbox.endpoint_url = receiver_.url();
    config.outbox.base_backoff = 20ms;
    config.outbox.max_backoff = 200ms;
    config.outbox.poll_interval = 10ms;
    config.outbox.lease = 1500ms;
    config.surveillance.timeout = 500ms;
    config.exports.poll_interval = 20ms;
  }
  void SetUp() override {
    ServerFixture::SetUp();
    EnrolInstitution(kOther);
    for (int i = 0; i < 10; ++i) EnrolPatient(kMemberSystem, Member(i), "P" + std::to_string(i));
  }
  static std::string Member(int i) { return "0001234" + std::to_string(i) + ":あ:" + std::to_string(100 + i) + ":01"; }

  HttpResponse Notify(const std::string& id, int person = 0, const std::string& as = kDoctor,
                      const std::string& disease = "measles") {
    return Must(client_->SendJson("POST", "/Bundle/$notify",
                                  NotificationJson(as, id, kMemberSystem, Member(person), disease),
                                  As(as)));
  }
  std::string StatusOf(const std::string& nid) {
    HttpResponse r = Must(client_->Get("/Bundle/$notification-status?id=" + nid));
    if (r.status != 200) return "http " + std::to_string(r.status);
    return Param(Json(r), "status");
  }
  // Waits (real time, bounded) until every id is delivered.
  void AwaitDelivered(const std::vector<std::string>& ids, std::chrono::seconds limit = 20s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (const std::string& id : ids) {
      while (StatusOf(id) != "delivered" && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
      }
      ASSERT_EQ(StatusOf(id), "delivered") << id;
    }
  }

  Receiver receiver_;
};

TEST_F(NotificationTest, SubmissionIsValidatedWithEveryProblemAtOnce) {
  fhir::Value bad = fhir::ParseJson(NotificationJson(kDoctor, "bad", kMemberSystem, Member(0),
                                                     "influenza")).value();
  // Drop the physician too.
  auto& entries = bad.FindMutable("entry")->mutable_items();
  entries.erase(entries.begin() + 2);
  HttpResponse r = Must(client_->SendJson("POST", "/Bundle/$notify", fhir::WriteJson(bad)));
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("not a notifiable disease"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("Practitioner.name"), std::string::npos) << r.body;

  // Another institution's identifier, an unknown patient.
  EXPECT_EQ(Must(client_->SendJson("POST", "/Bundle/$notify",
                                   NotificationJson(kOther, "x", kMemberSystem, Member(0))))
                .status,
            422);
  EXPECT_EQ(Must(client_->SendJson("POST", "/Bundle/$notify",
                                   NotificationJson(kDoctor, "y", kMemberSystem, "99999999:x:1:")))
                .status,
            422);
  // No credential, the portal, the operator: nobody but an institution files one.
  const std::string good = NotificationJson(kDoctor, "ok", kMemberSystem, Member(0));
  EXPECT_EQ(Must(client_->SendJson("POST", "/Bundle/$notify", good, testing::ServerFixture::Anonymous())).status, 401);
  EXPECT_EQ(Must(client_->SendJson("POST", "/Bundle/$notify", good, AsPortal())).status, 403);
  EXPECT_EQ(Must(client_->SendJson("POST", "/Bundle/$notify", good, AsOperator())).status, 403);
  EXPECT_TRUE(receiver_.Received().empty());
}

TEST_F(NotificationTest, DeliveredOnceAndStatusOnlyForTheNotifier) {
  HttpResponse r = Notify("n-1");
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string id = Param(Json(r), "id");
  ASSERT_FALSE(id.empty());
  EXPECT_NE(r.Header("Content-Location").find(id), std::string::npos);
  AwaitDelivered({id});
  HttpResponse status = Must(client_->Get("/Bundle/$notification-status?identifier=" +
                                          PercentEncode(std::string(kDoctor) + "^2026^n-1")));
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(Param(Json(status), "status"), "delivered");
  EXPECT_EQ(Param(Json(status), "attempts"), "1");
  EXPECT_EQ(Must(client_->Get("/Bundle/$notification-status?id=" + id, As(kOther))).status, 403);
  EXPECT_EQ(Must(client_->Get("/Bundle/$notification-status?id=" + id, AsPortal())).status, 403);

  // The identical resend is answered with the status and not queued again; different
  // content under the same identifier is a conflict.
  HttpResponse again = Notify("n-1");
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Notify("n-1", 1).status, 409);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(receiver_.Received().at(id), 1);
  EXPECT_EQ(receiver_.Processed().at(id), 1);
}

TEST_F(NotificationTest, ExactlyOncePerKeyDespiteFailuresDelaysAndDroppedAnswers) {
  receiver_.fail = 3;         // the first three attempts get 503
  receiver_.drop = 2;         // two notifications processed, answer lost
  receiver_.delay_ms = 900;   // one answer arrives after the hub's 500 ms timeout
  receiver_.delay_count = 1;
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    HttpResponse r = Notify("burst-" + std::to_string(i), i);
    ASSERT_EQ(r.status, 202) << r.body;
    ids.push_back(Param(Json(r), "id"));
  }
  AwaitDelivered(ids);
  std::map<std::string, int> processed = receiver_.Processed();
  ASSERT_EQ(processed.size(), ids.size());
  for (const std::string& id : ids) EXPECT_EQ(processed[id], 1) << id;
  EXPECT_GE(receiver_.total_received(), 6 + 3 + 2 + 1) << "the receiver saw the duplicates";
}

TEST_F(NotificationTest, AfterMaxAttemptsItIsAFailedDeadLetterWithItsLastError) {
  receiver_.fail = 1000;
  HttpResponse r = Notify("doomed");
  ASSERT_EQ(r.status, 202);
  const std::string id = Param(Json(r), "id");
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (StatusOf(id) != "failed" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  fhir::Value status = Json(Must(client_->Get("/Bundle/$notification-status?id=" + id)));
  EXPECT_EQ(Param(status, "status"), "failed");
  EXPECT_EQ(Param(status, "attempts"), "10") << "the default --surveillance-max-attempts";
  EXPECT_EQ(Param(status, "lastError"), "HTTP 503");
  EXPECT_EQ(receiver_.Received().at(id), 10);
  EXPECT_TRUE(receiver_.Processed().empty());
}

TEST_F(NotificationTest, QueuedNotificationsSurviveARestart) {
  receiver_.fail = 1000;  // nothing gets through before the restart
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(Param(Json(Notify("r-" + std::to_string(i), i)), "id"));
  std::this_thread::sleep_for(50ms);
  app_->Shutdown();
  app_.reset();
  receiver_.fail = 0;
  server::ServerConfig config;
  config.plain_http = true;
  config.data_dir = dir_.path() + "/data";
  config.http.port = 0;
  config.api.trusted_subject_header = testing::kSubjectHeader;
  Configure(config);
  auto app = server::ServerApp::Start(config, logger_, clock_);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  app_ = std::move(*app);
  client_ = std::make_unique<testing::HttpClient>("127.0.0.1", app_->port());
  client_->SetDefaultHeaders(As(kDoctor));
  AwaitDelivered(ids);
  for (const std::string& id : ids) EXPECT_EQ(receiver_.Processed()[id], 1);
}

TEST_F(NotificationTest, TheDraftUsesOnlyTheCallersOwnRegisteredData) {
  generator::Generator gen{generator::GeneratorOptions{.seed = 5, .persons = 30}};
  EnrolPopulation(gen);
  // A person with observations from some institution: that one is the doctor.
  const generator::GeneratedSubmission* obs = nullptr;
  std::vector<generator::GeneratedSubmission> subs;
  for (const generator::Person& p : gen.population().persons) {
    subs = gen.SubmissionsFor(p);
    for (const auto& s : subs) {
      bool infection = false;
      for (const auto& i : s.items) infection |= i.kind == generator::ItemKind::kInfection;
      if (s.kind == generator::SubmissionKind::kObservation && infection) obs = &s;
    }
    if (obs) break;
  }
  ASSERT_NE(obs, nullptr);
  for (const auto& s : subs) {
    EXPECT_EQ(Must(client_->SendJson("POST", "/Bundle", fhir::WriteJson(s.bundle),
                                     As(s.institution_code))).status / 100, 2);
  }
  const std::string patient = PercentEncode(obs->patient_system + "|" + obs->patient_identifier);
  HttpResponse draft = Must(client_->SendJson(
      "POST", "/Patient/$notification-draft?identifier=" + patient + "&disease=syphilis", "",
      As(obs->institution_code)));
  ASSERT_EQ(draft.status, 200) << draft.body;
  fhir::Value bundle = Json(draft);
  int observations = 0;
  for (const fhir::Value& e : bundle.Find("entry")->items()) {
    const fhir::Value* r = e.Find("resource");
    if (r->StringAt("resourceType") == "Observation") ++observations;
    // Every pre-filled clinical resource is the caller's own.
    if (r->StringAt("resourceType") == "Observation" || r->StringAt("resourceType") == "Condition") {
      const std::string json = fhir::WriteJson(*r);
      if (json.find("JP_eCS_InstitutionNumber") != std::string::npos) {
        EXPECT_NE(json.find(obs->institution_code), std::string::npos) << json;
      }
    }
  }
  EXPECT_GT(observations, 0) << draft.body;
  // Another institution (which registered nothing for the patient) gets an empty draft: no
  // consent needed, because nothing of anyone else's is in it.
  HttpResponse other = Must(client_->SendJson(
      "POST", "/Patient/$notification-draft?identifier=" + patient + "&disease=syphilis", "",
      As(kOther)));
  ASSERT_EQ(other.status, 200) << other.body;
  EXPECT_EQ(other.body.find("\"Observation\""), std::string::npos) << other.body;
  EXPECT_EQ(Must(client_->SendJson("POST", "/Patient/$notification-draft?identifier=" + patient +
                                       "&disease=syphilis", "", AsPortal())).status, 403);
  EXPECT_EQ(Must(client_->SendJson("POST", "/Patient/$notification-draft?identifier=" + patient +
                                       "&disease=nope", "", As(kOther))).status, 400);
}

// ---- The minister's export ---------------------------------------------------------------

HeaderList AsOp(const std::string& name) {
  return {{testing::kSubjectHeader, "CN=operator:" + name + ",O=clinshub,C=JP"}};
}

class ExportTest : public NotificationTest {
 protected:
  void Configure(server::ServerConfig& config) override {
    NotificationTest::Configure(config);
    config.exports.expiry = 2s;
  }
  void SetUp() override {
    NotificationTest::SetUp();
    EnrolInstitution(kOsaka);
    // P0: an HBs infection result in the period (Tokyo), an ordinary and a 未提供 condition.
    Put("P0", kDoctor, "u0", {{store::ItemKind::kInfection, "hbs", 0, Day(10)},
                              {store::ItemKind::kCondition, "b-hepatitis", 0, Day(12)},
                              {store::ItemKind::kCondition, "secret", clins::kFlagUndelivered, Day(12)}});
    Put("P1", kDoctor, "u1", {{store::ItemKind::kInfection, "hcv", 0, Day(10)}});   // other code
    Put("P2", kOsaka, "u2", {{store::ItemKind::kInfection, "hbs", 0, Day(10)}});    // Osaka
    Put("P3", kDoctor, "u3", {{store::ItemKind::kInfection, "hbs", 0, Day(400)}});  // later
  }
  static Timestamp Day(int n) {  // days after 2025-01-01 (Japan)
    return *ParseFhirDateTime("2025-01-01T12:00:00+09:00") + std::chrono::hours(24 * n);
  }
  struct It {
    store::ItemKind kind;
    std::string code;
    uint32_t flags;
    Timestamp date;
  };
  void Put(const std::string& person, const std::string& institution, const std::string& unit,
           std::vector<It> items) {
    store::PutUnit u;
    u.key = store::UnitKey{person, "http://jpfhir.jp/fhir/clins/bundle-identifier",
                           institution + "^2025^" + unit};
    u.institution = institution;
    u.kind = "Observation";
    u.content_hash = unit;
    u.bundle = fhir::ParseJson(R"({"resourceType":"Bundle","type":"collection"})").value();
    for (const It& i : items) {
      store::Item item;
      item.kind = i.kind;
      item.resource_type = i.kind == store::ItemKind::kCondition ? "Condition" : "Observation";
      item.code = i.code;
      item.code_system = "urn:test";
      item.clinical_date = i.date;
      item.flags = i.flags;
      item.json = R"({"resourceType":")" + item.resource_type +
                  R"(","code":{"text":")" + i.code +
                  R"("},"subject":{"reference":"urn:uuid:p"},"contained":[{"resourceType":"Practitioner","name":[{"text":"医師 名前"}]}]})";
      u.items.push_back(std::move(item));
    }
    Commit(std::move(u));
  }
  static std::string Request(bool identified = false, const std::string& authority = "") {
    std::string r = R"j({"legalPurpose":"感染症法第15条 積極的疫学調査 (test)",
      "dataKinds":["infection","condition"],
      "period":{"start":"2025-01-01","end":"2025-12-31"},
      "cohort":{"kinds":["infection"],"codes":["hbs"],"prefecture":"13"})j";
    if (identified) r += R"(,"identified":true)";
    if (!authority.empty()) r += R"(,"identifiedAuthority":")" + authority + "\"";
    return r + "}";
  }
  HttpResponse Post(const std::string& path, const std::string& body, const HeaderList& who) {
    HeaderList h = who;
    h.emplace_back("Content-Type", "application/json");
    return Must(client_->Send("POST", path, h, body));
  }
  // Request as alice, approve as bob, poll to completion; returns the manifest.
  fhir::Value RunExport(const std::string& body) {
    HttpResponse requested = Post("/$export-request", body, AsOp("alice"));
    EXPECT_EQ(requested.status, 201) << requested.body;
    const std::string id = std::string(Json(requested).StringAt("id"));
    HttpResponse approved = Post("/$export-request/" + id + "/$approve", "", AsOp("bob"));
    EXPECT_EQ(approved.status, 202) << approved.body;
    std::string status_url = approved.Header("Content-Location");
    status_url = status_url.substr(status_url.find("/$export-status/"));
    auto deadline = std::chrono::steady_clock::now() + 20s;
    HttpResponse status;
    do {
      status = Must(client_->Get(status_url, AsOp("carol")));
      if (status.status == 202) {
        EXPECT_FALSE(status.Header("X-Progress").empty());
        std::this_thread::sleep_for(20ms);
      }
    } while (status.status == 202 && std::chrono::steady_clock::now() < deadline);
    EXPECT_EQ(status.status, 200) << status.body;
    return Json(status);
  }
  std::map<std::string, std::vector<std::string>> Files(const fhir::Value& manifest) {
    std::map<std::string, std::vector<std::string>> files;
    for (const fhir::Value& o : manifest.Find("output")->items()) {
      std::string url(o.StringAt("url"));
      HttpResponse f = Must(client_->Get(url.substr(url.find("/$export-file/")), AsOp("bob")));
      EXPECT_EQ(f.status, 200);
      std::istringstream in(f.body);
      std::string line;
      while (std::getline(in, line)) files[std::string(o.StringAt("type"))].push_back(line);
      EXPECT_EQ(static_cast<int>(files[std::string(o.StringAt("type"))].size()),
                std::stoi(o.Find("count")->text()));
    }
    return files;
  }
};

TEST_F(ExportTest, NoInstitutionPortalOrSingleOperatorCanStartAnExport) {
  EXPECT_EQ(Post("/$export-request", Request(), As(kDoctor)).status, 403);
  EXPECT_EQ(Post("/$export-request", Request(), AsPortal()).status, 403);
  EXPECT_EQ(Post("/$export-request", Request(), testing::ServerFixture::Anonymous()).status, 401);
  HttpResponse requested = Post("/$export-request", Request(), AsOp("alice"));
  ASSERT_EQ(requested.status, 201) << requested.body;
  const std::string id = std::string(Json(requested).StringAt("id"));
  const std::string approve = "/$export-request/" + id + "/$approve";
  HttpResponse self = Post(approve, "", AsOp("alice"));
  EXPECT_EQ(self.status, 403);
  EXPECT_NE(self.body.find("deny.export-same-operator"), std::string::npos) << self.body;
  EXPECT_EQ(Post(approve, "", As(kDoctor)).status, 403);
  EXPECT_EQ(Post(approve, "", AsPortal()).status, 403);
  EXPECT_EQ(Must(client_->Get("/$export-status/" + id, As(kDoctor))).status, 403);
  HttpResponse pending = Must(client_->Get("/$export-status/" + id, AsOp("bob")));
  EXPECT_EQ(pending.status, 202);
  EXPECT_EQ(pending.Header("X-Progress"), "awaiting approval");
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(Must(client_->Get("/$export-status/" + id, AsOp("bob"))).status, 202)
      << "nothing runs without the second operator";
  // Bad requests are refused with every problem at once.
  HttpResponse bad = Post("/$export-request", R"({"dataKinds":["x"],"identified":true})",
                          AsOp("alice"));
  EXPECT_EQ(bad.status, 422);
  for (const char* what : {"legalPurpose", "dataKinds", "period", "identifiedAuthority"}) {
    EXPECT_NE(bad.body.find(what), std::string::npos) << what << " " << bad.body;
  }
}

TEST_F(ExportTest, CohortIsFilteredPseudonymisedWithoutUndeliveredItemsAndAudited) {
  fhir::Value manifest = RunExport(Request());
  auto files = Files(manifest);
  ASSERT_EQ(files["Patient"].size(), 1u) << "only P0 matches code, prefecture and period";
  ASSERT_EQ(files["Observation"].size(), 1u);
  ASSERT_EQ(files["Condition"].size(), 1u) << "the 未提供 condition never leaves the hub";
  EXPECT_EQ(files["Condition"][0].find("secret"), std::string::npos);
  fhir::Value patient = fhir::ParseJson(files["Patient"][0]).value();
  const fhir::Value& pid = patient.Find("identifier")->items()[0];
  EXPECT_EQ(pid.StringAt("system"), "urn:clinshub:pseudonym");
  EXPECT_EQ(pid.StringAt("value").size(), 64u);
  for (const auto& [type, lines] : files) {
    for (const std::string& line : lines) {
      EXPECT_EQ(line.find("\"P0\""), std::string::npos) << line;
      EXPECT_EQ(line.find(Member(0)), std::string::npos) << line;
      EXPECT_EQ(line.find("医師"), std::string::npos) << "no practitioner names: " << line;
      if (type != "Patient") {
        EXPECT_NE(line.find(std::string(pid.StringAt("value"))), std::string::npos) << line;
      }
    }
  }
  // The secret behind the pseudonyms is private to the hub.
  struct stat st {};
  ASSERT_EQ(::stat((dir_.path() + "/data/public-health.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The same person gets the same pseudonym in the next export.
  auto again = Files(RunExport(Request()));
  EXPECT_EQ(again["Patient"], files["Patient"]);

  // Audit: the request, its approver, the counts; one disclosure per affected person.
  auto events = app_->store().ListAudit(store::AuditQuery{.limit = 1000});
  ASSERT_TRUE(events.ok());
  std::multiset<std::string> per_person;
  bool requested = false, approved = false, completed = false;
  for (const store::AuditEvent& e : *events) {
    if (e.action == "public-health-export") per_person.insert(e.person_key);
    requested |= e.action == "export-request" && e.actor == "operator:alice";
    approved |= e.action == "export-approve" && e.actor == "operator:bob" && e.outcome == "permit";
    if (e.action == "export-completed") {
      completed = true;
      EXPECT_NE(e.reason.find("approved by operator:bob"), std::string::npos) << e.reason;
      EXPECT_NE(e.reason.find("Patient=1"), std::string::npos) << e.reason;
      EXPECT_NE(e.reason.find("未提供 items=1"), std::string::npos) << e.reason;
    }
  }
  EXPECT_TRUE(requested && approved && completed);
  EXPECT_EQ(per_person, (std::multiset<std::string>{"P0", "P0"}));
  // The patient sees the disclosure in their access log.
  HttpResponse log = Must(client_->Get(
      "/AuditEvent?patient.identifier=" + PercentEncode(std::string(kMemberSystem) + "|" + Member(0)),
      AsPortal()));
  ASSERT_EQ(log.status, 200) << log.body;
  EXPECT_NE(log.body.find("public-health-export"), std::string::npos) << log.body;
  HttpResponse other = Must(client_->Get(
      "/AuditEvent?patient.identifier=" + PercentEncode(std::string(kMemberSystem) + "|" + Member(1)),
      AsPortal()));
  EXPECT_EQ(other.body.find("public-health-export"), std::string::npos) << other.body;
}

TEST_F(ExportTest, IdentifiedDataNeedsAnAuthorityAndFilesExpire) {
  EXPECT_EQ(Post("/$export-request", Request(true), AsOp("alice")).status, 422);
  fhir::Value manifest = RunExport(Request(true, "大臣の指示 2025-001"));
  auto files = Files(manifest);
  ASSERT_EQ(files["Patient"].size(), 1u);
  EXPECT_NE(files["Patient"][0].find(kMemberSystem), std::string::npos) << files["Patient"][0];
  std::string url(manifest.Find("output")->items()[0].StringAt("url"));
  url = url.substr(url.find("/$export-file/"));
  const std::string job = url.substr(14, url.find('/', 14) - 14);
  std::this_thread::sleep_for(2500ms);  // expiry 2 s in this fixture
  EXPECT_EQ(Must(client_->Get(url, AsOp("bob"))).status, 410);
  EXPECT_EQ(Must(client_->Get("/$export-status/" + job, AsOp("bob"))).status, 410);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/data/exports/" + job));
}

// ---- kill -9 of the real binary mid-delivery ------------------------------------------

HeaderList AsInstitution(const std::string& code) {
  return {{testing::kSubjectHeader, "CN=" + code + ",O=Test,C=JP"}};
}

struct Served {
  pid_t pid = -1;
  uint16_t port = 0;
};

Served StartBinary(const std::string& data, const std::string& surveillance_url) {
  int out[2];
  if (pipe(out) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    std::string binary = std::string(CLINSHUB_BINARY_DIR) + "/clinshub";
    execl(binary.c_str(), binary.c_str(), "serve", "--port", "0", "--plain-http", "--bind",
          "127.0.0.1", "--trusted-subject-header", testing::kSubjectHeader, "--data",
          data.c_str(), "--surveillance-url", surveillance_url.c_str(),
          "--surveillance-backoff-ms", "20", "--surveillance-timeout-ms", "1000",
          "--outbox-poll-ms", "20", "--log-level", "error", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  FILE* f = fdopen(out[0], "r");
  char line[256] = {};
  Served s{pid, 0};
  if (fgets(line, sizeof line, f) != nullptr) {
    std::string text(line);
    const std::string prefix = "clinshub listening on http://127.0.0.1:";
    if (text.rfind(prefix, 0) == 0) s.port = static_cast<uint16_t>(std::stoi(text.substr(prefix.size())));
  }
  fclose(f);
  return s;
}

void Kill9(pid_t pid) {
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
}

TEST(PublicHealthBinaryTest, KillDashNineMidDeliveryLosesNothingAndDuplicatesNothing) {
  testing::TempDir dir;
  const std::string data = dir.path() + "/data";
  std::filesystem::create_directories(data);
  {
    SystemClock clock;
    auto store = store::OpenSqliteStore(store::SqliteOptions{.path = data}, clock);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store::WriteBatch b;
    store::InstitutionRecord inst;
    inst.code = kDoctor;
    inst.name = "テスト病院";
    inst.kind = "hospital";
    b.ops.push_back(store::PutInstitution{inst});
    for (int i = 0; i < 4; ++i) {
      b.ops.push_back(store::PutRosterEntry{{kMemberSystem,
                                             NormaliseIdentifier("0001234" + std::to_string(i) + ":あ:1:01"),
                                             "P" + std::to_string(i), "2000-01-01", ""}});
    }
    ASSERT_TRUE((*store)->Commit(std::move(b)).ok());
  }
  Receiver receiver;
  receiver.delay_ms = 800;  // within the 1 s timeout: the hub is waiting when it dies
  receiver.delay_count = 1000;
  Served first = StartBinary(data, receiver.url());
  ASSERT_NE(first.port, 0);
  std::vector<std::string> ids;
  {
    testing::HttpClient client("127.0.0.1", first.port);
    for (int i = 0; i < 4; ++i) {
      auto r = client.SendJson("POST", "/Bundle/$notify",
                               NotificationJson(kDoctor, "k" + std::to_string(i), kMemberSystem,
                                                "0001234" + std::to_string(i) + ":あ:1:01"),
                               AsInstitution(kDoctor));
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->status, 202) << r->body;
      ids.push_back(Param(fhir::ParseJson(r->body).value(), "id"));
    }
  }
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (receiver.total_received() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_GE(receiver.total_received(), 2);
  Kill9(first.pid);  // mid-delivery: a request is in flight, its answer never read
  const int before = static_cast<int>(receiver.Processed().size());
  EXPECT_LT(before, 4) << "the kill came before everything was delivered";

  receiver.delay_count = 0;
  Served second = StartBinary(data, receiver.url());
  ASSERT_NE(second.port, 0);
  testing::HttpClient client("127.0.0.1", second.port);
  deadline = std::chrono::steady_clock::now() + 30s;
  auto delivered = [&](const std::string& id) {
    auto r = client.Get("/Bundle/$notification-status?id=" + id, AsInstitution(kDoctor));
    return r.ok() && r->status == 200 &&
           Param(fhir::ParseJson(r->body).value(), "status") == "delivered";
  };
  for (const std::string& id : ids) {
    while (!delivered(id) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_TRUE(delivered(id)) << id;
  }
  Kill9(second.pid);
  std::map<std::string, int> processed = receiver.Processed();
  ASSERT_EQ(processed.size(), ids.size());
  for (const std::string& id : ids) EXPECT_EQ(processed[id], 1) << id;
  EXPECT_GT(receiver.total_received(), 4) << "the interrupted attempt was sent again";
}

}  // namespace
}  // namespace clinshub
