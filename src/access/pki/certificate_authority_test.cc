#include "access/pki/certificate_authority.h"

#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "support/temp_dir.h"

namespace clinshub::access::pki {
namespace {

using testing::TempDir;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

CertPtr ParsePem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  CertPtr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr), &X509_free);
  BIO_free(bio);
  return cert;
}

std::string Cn(X509* cert) {
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
  return buf;
}

unsigned Mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

// 0 when `cert` verifies against `ca` at the current time, else the X509_V_ERR code.
InstitutionCertificateRequest Request(std::string code, std::string name = {}) {
  InstitutionCertificateRequest r;
  r.institution_code = std::move(code);
  r.institution_name = std::move(name);
  return r;
}

int VerifyAgainst(X509* ca, X509* cert) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  int ok = X509_verify_cert(ctx);
  int err = ok == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return err;
}

class CertificateAuthorityTest : public ::testing::Test {
 protected:
  std::string pki_dir() const { return dir_.path() + "/pki"; }
  TempDir dir_;
  SystemClock clock_;
};

TEST_F(CertificateAuthorityTest, CreatedCaLoadsBackWithTheSameCertificateAndPrivateKey) {
  auto created = CertificateAuthority::Create(pki_dir(), clock_);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto loaded = CertificateAuthority::Load(pki_dir(), clock_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->ca_certificate_pem(), (*created)->ca_certificate_pem());
  EXPECT_EQ(Mode(pki_dir() + "/ca.key"), 0600u);
  CertPtr ca = ParsePem((*loaded)->ca_certificate_pem());
  ASSERT_TRUE(ca);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_FALSE(CertificateAuthority::Create(pki_dir(), clock_).ok());  // never overwritten
}

TEST_F(CertificateAuthorityTest, LoadingWhereThereIsNoCaIsNotFound) {
  auto loaded = CertificateAuthority::Load(pki_dir(), clock_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), ErrorCode::kNotFound);
}

TEST_F(CertificateAuthorityTest, InstitutionCertificateCarriesTheCodeAndChainsToTheCa) {
  auto ca = CertificateAuthority::Create(pki_dir(), clock_);
  ASSERT_TRUE(ca.ok());
  auto issued = (*ca)->IssueInstitution(Request("1312345678", "テスト病院"));
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  CertPtr cert = ParsePem(issued->certificate_pem);
  CertPtr root = ParsePem((*ca)->ca_certificate_pem());
  ASSERT_TRUE(cert && root);
  EXPECT_EQ(Cn(cert.get()), "1312345678");
  EXPECT_EQ(VerifyAgainst(root.get(), cert.get()), 0);
  EXPECT_EQ(X509_check_purpose(cert.get(), X509_PURPOSE_SSL_CLIENT, 0), 1);
  EXPECT_FALSE(issued->serial_hex.empty());
  EXPECT_LE(issued->serial_hex.size(), 32u);
  EXPECT_NE(issued->serial_hex[0], '0');

  std::string out = dir_.path() + "/client";
  ASSERT_TRUE(WriteClientBundle(out, *issued, (*ca)->ca_certificate_pem()).ok());
  EXPECT_EQ(Mode(out + "/key.pem"), 0600u);
  // A second bundle never overwrites the key already handed out.
  EXPECT_FALSE(WriteClientBundle(out, *issued, (*ca)->ca_certificate_pem()).ok());

  auto list = (*ca)->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].serial_hex, issued->serial_hex);
  EXPECT_EQ((*list)[0].kind, "institution");
  EXPECT_NE((*list)[0].subject.find("CN=1312345678"), std::string::npos);
}

TEST_F(CertificateAuthorityTest, InvalidInstitutionCodesAreRefused) {
  auto ca = CertificateAuthority::Create(pki_dir(), clock_);
  ASSERT_TRUE(ca.ok());
  for (const char* code : {"", "131234567", "13123456789", "5312345678", "1342345678",
                           "1302345678", "13123x5678", "１３１２３４５６７８"}) {
    auto issued = (*ca)->IssueInstitution(Request(code));
    ASSERT_FALSE(issued.ok()) << code;
    EXPECT_EQ(issued.status().code(), ErrorCode::kMalformed) << code;
  }
  auto list = (*ca)->List();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

TEST_F(CertificateAuthorityTest, PortalAndOperatorCertificatesNameTheirRole) {
  auto ca = CertificateAuthority::Create(pki_dir(), clock_);
  ASSERT_TRUE(ca.ok());
  CertPtr root = ParsePem((*ca)->ca_certificate_pem());
  for (const std::string kind : {"portal", "operator"}) {
    auto issued = (*ca)->IssueRole(kind, "main-1");
    ASSERT_TRUE(issued.ok()) << issued.status().ToString();
    CertPtr cert = ParsePem(issued->certificate_pem);
    ASSERT_TRUE(cert);
    EXPECT_EQ(Cn(cert.get()), kind + ":main-1");
    char org[64] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_organizationName, org,
                              sizeof org);
    EXPECT_STREQ(org, "clinshub");
    EXPECT_EQ(VerifyAgainst(root.get(), cert.get()), 0);
    EXPECT_EQ(X509_check_purpose(cert.get(), X509_PURPOSE_SSL_CLIENT, 0), 1);
  }
  auto list = (*ca)->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].kind, "portal");
  EXPECT_NE((*list)[1].subject.find("CN=operator:main-1"), std::string::npos);

  struct Bad {
    std::string kind, name;
  };
  for (const Bad& bad : std::vector<Bad>{{"institution", "x"},
                                         {"server", "x"},
                                         {"portal", ""},
                                         {"portal", "a,b"},
                                         {"operator", "a:b"},
                                         {"operator", "名前"},
                                         {"operator", std::string(65, 'a')}}) {
    auto issued = (*ca)->IssueRole(bad.kind, bad.name);
    EXPECT_EQ(issued.status().code(), ErrorCode::kMalformed) << bad.kind << " " << bad.name;
  }
  EXPECT_EQ((*ca)->IssueRole("portal", "x", 0).status().code(), ErrorCode::kMalformed);
}

TEST_F(CertificateAuthorityTest, RevocationIsRecordedInTheIndexAndTheSignedCrl) {
  auto ca = CertificateAuthority::Create(pki_dir(), clock_);
  ASSERT_TRUE(ca.ok());
  auto issued = (*ca)->IssueInstitution(Request("1312345678"));
  ASSERT_TRUE(issued.ok());
  std::string lower = issued->serial_hex;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  ASSERT_TRUE((*ca)->Revoke("00:" + lower).ok());  // separators and padding are ignored
  EXPECT_TRUE((*ca)->Revoke(issued->serial_hex).ok());  // idempotent
  EXPECT_EQ((*ca)->Revoke("DEADBEEF").code(), ErrorCode::kNotFound);

  auto list = (*ca)->List();
  ASSERT_TRUE(list.ok());
  EXPECT_FALSE((*list)[0].revoked_at.empty());

  FILE* f = std::fopen((*ca)->crl_path().c_str(), "r");
  ASSERT_NE(f, nullptr);
  X509_CRL* crl = PEM_read_X509_CRL(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  ASSERT_NE(crl, nullptr);
  CertPtr root = ParsePem((*ca)->ca_certificate_pem());
  EXPECT_EQ(X509_CRL_verify(crl, X509_get0_pubkey(root.get())), 1);
  CertPtr cert = ParsePem(issued->certificate_pem);
  X509_REVOKED* entry = nullptr;
  EXPECT_EQ(X509_CRL_get0_by_cert(crl, &entry, cert.get()), 1);
  X509_CRL_free(crl);
}

}  // namespace
}  // namespace clinshub::access::pki
