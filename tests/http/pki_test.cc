// The built-in CA end to end: `clinshub serve` without --plain-http or --tls-cert creates
// <data>/pki on first start and admits only clients holding an unrevoked, unexpired
// certificate that CA issued; everyone else is refused at the TLS handshake.
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <chrono>
#include <filesystem>
#include <sys/stat.h>

#include "access/pki/certificate_authority.h"
#include "common/japanese_text.h"
#include "fhir/json.h"
#include "generator/generator.h"
#include "server/server_app.h"
#include "support/http_client.h"
#include "support/temp_dir.h"

namespace clinshub {
namespace {

using access::pki::CertificateAuthority;
using access::pki::InstitutionCertificateRequest;
using testing::HttpClient;
using testing::TempDir;
using testing::TlsClientOptions;

class BuiltInPkiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServerConfig config;
    config.data_dir = dir_.path() + "/data";
    config.http.port = 0;
    config.http.io_threads = 2;
    config.http.worker_threads = 2;
    config.api.software_version = "test";
    auto app = server::ServerApp::Start(config, logger_);
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(app).value();
    ASSERT_EQ(app_->pki_dir(), config.data_dir + "/pki");
    auto ca = CertificateAuthority::Load(app_->pki_dir(), clock_);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = std::move(ca).value();
  }

  // Issues into a fresh directory and returns client options trusting the hub CA.
  TlsClientOptions Issue(CertificateAuthority& ca, const std::string& name,
                         std::chrono::seconds offset = {}, int days = 730,
                         std::string* serial = nullptr) {
    InstitutionCertificateRequest request;
    request.institution_code = "1312345678";
    request.not_before_offset = offset;
    request.days = days;
    auto issued = ca.IssueInstitution(request);
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    if (!issued.ok()) return {};
    if (serial != nullptr) *serial = issued->serial_hex;
    std::string out = dir_.path() + "/" + name;
    EXPECT_TRUE(access::pki::WriteClientBundle(out, *issued, ca.ca_certificate_pem()).ok());
    return {ca_->ca_cert_path(), out + "/cert.pem", out + "/key.pem"};
  }

  // Writes an issued certificate into a fresh directory; client options trusting the hub CA.
  TlsClientOptions Bundle(const std::string& name,
                          const Result<access::pki::IssuedCertificate>& issued) {
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    if (!issued.ok()) return {};
    std::string out = dir_.path() + "/" + name;
    EXPECT_TRUE(access::pki::WriteClientBundle(out, *issued, ca_->ca_certificate_pem()).ok());
    return {ca_->ca_cert_path(), out + "/cert.pem", out + "/key.pem"};
  }
  TlsClientOptions InstitutionCert(const std::string& name, const std::string& code) {
    InstitutionCertificateRequest request;
    request.institution_code = code;
    return Bundle(name, ca_->IssueInstitution(request));
  }

  Result<testing::HttpResponse> Metadata(const TlsClientOptions& tls) {
    HttpClient client("127.0.0.1", app_->port(), tls);
    return client.Get("/metadata");
  }

  TempDir dir_;
  SystemClock clock_;
  spdlog::logger logger_{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  std::unique_ptr<server::ServerApp> app_;
  std::unique_ptr<CertificateAuthority> ca_;
};

TEST_F(BuiltInPkiTest, FirstStartCreatesTheCaAndServerKeysReadableOnlyByTheOwner) {
  EXPECT_EQ(app_->url().rfind("https://", 0), 0u);
  for (const char* key : {"/ca.key", "/server.key"}) {
    struct stat st {};
    ASSERT_EQ(::stat((app_->pki_dir() + key).c_str(), &st), 0) << key;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << key;
  }
}

TEST_F(BuiltInPkiTest, ClientWithAnIssuedCertificateGetsMetadata) {
  auto r = Metadata(Issue(*ca_, "good"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
}

TEST_F(BuiltInPkiTest, ClientWithoutACertificateIsRefusedAtTheHandshake) {
  EXPECT_FALSE(Metadata(TlsClientOptions{ca_->ca_cert_path()}).ok());
}

TEST_F(BuiltInPkiTest, CertificateFromAnotherCaIsRefused) {
  auto other = CertificateAuthority::Create(dir_.path() + "/other-ca", clock_);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(Metadata(Issue(**other, "rogue")).ok());
}

TEST_F(BuiltInPkiTest, ExpiredCertificateIsRefused) {
  using std::chrono::hours;
  auto expired = Issue(*ca_, "expired", std::chrono::duration_cast<std::chrono::seconds>(hours(-72)), 1);
  EXPECT_FALSE(Metadata(expired).ok());
}

TEST_F(BuiltInPkiTest, RevokedCertificateIsRefusedOnTheNextConnection) {
  std::string serial;
  auto tls = Issue(*ca_, "revoked", {}, 730, &serial);
  auto before = Metadata(tls);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->status, 200);
  ASSERT_TRUE(ca_->Revoke(serial).ok());
  EXPECT_FALSE(Metadata(tls).ok());
  // Others are unaffected by the reloaded CRL.
  auto other = Metadata(Issue(*ca_, "still-good"));
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ(other->status, 200);
}

// Access end to end with real certificates: the certificate decides who the caller is.
TEST_F(BuiltInPkiTest, EveryCallerIsWhoItsCertificateSays) {
  generator::Generator gen(generator::GeneratorOptions{.seed = 5, .persons = 1});
  generator::GeneratedSubmission s = gen.SubmissionsFor(gen.population().persons[0]).at(0);
  store::WriteBatch seed;
  store::InstitutionRecord inst;
  inst.code = s.institution_code;
  inst.name = "病院";
  inst.kana = "ビョウイン";
  inst.kind = "hospital";
  seed.ops.emplace_back(store::PutInstitution{inst});
  seed.ops.emplace_back(store::PutRosterEntry{
      {s.patient_system, NormaliseIdentifier(s.patient_identifier), "P0", "2000-01-01", ""}});
  ASSERT_TRUE(app_->store().Commit(std::move(seed)).ok());
  const std::string body = fhir::WriteJson(s.bundle);
  const testing::HeaderList json = {{"Content-Type", "application/fhir+json"}};

  HttpClient sender("127.0.0.1", app_->port(), InstitutionCert("sender", s.institution_code));
  auto created = sender.Send("POST", "/Bundle", json, body);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->status, 201) << created->body;

  // A valid certificate of an institution the directory does not list: refused.
  HttpClient unlisted("127.0.0.1", app_->port(), InstitutionCert("unlisted", "1319999999"));
  auto refused = unlisted.Send("POST", "/Bundle", json, body);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 403) << refused->body;

  const std::string summary =
      "/Patient/$summary?identifier=" + s.patient_system + "|" + s.patient_identifier;
  HttpClient portal("127.0.0.1", app_->port(), Bundle("portal", ca_->IssueRole("portal", "myna")));
  auto own = portal.Get(summary);
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->status, 200) << own->body;
  HttpClient ops("127.0.0.1", app_->port(), Bundle("ops", ca_->IssueRole("operator", "alice")));
  auto clinical = ops.Get(summary);
  ASSERT_TRUE(clinical.ok());
  EXPECT_EQ(clinical->status, 403) << clinical->body;
  auto audit = ops.Get("/AuditEvent?_count=10");
  ASSERT_TRUE(audit.ok());
  EXPECT_EQ(audit->status, 200) << audit->body;
  auto not_ops = portal.Get("/AuditEvent?_count=10");
  ASSERT_TRUE(not_ops.ok());
  EXPECT_EQ(not_ops->status, 400) << "the portal's log names one patient";
}

TEST_F(BuiltInPkiTest, RestartReusesTheExistingCa) {
  std::string pem = ca_->ca_certificate_pem();
  std::string data = dir_.path() + "/data";
  app_.reset();
  server::ServerConfig config;
  config.data_dir = data;
  config.http.port = 0;
  config.http.io_threads = 1;
  config.http.worker_threads = 1;
  config.api.software_version = "test";
  auto app = server::ServerApp::Start(config, logger_);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  app_ = std::move(app).value();
  auto again = CertificateAuthority::Load(app_->pki_dir(), clock_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->ca_certificate_pem(), pem);
  auto r = Metadata(Issue(*ca_, "after-restart"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

}  // namespace
}  // namespace clinshub
