#include "support/test_pki.h"

#include <cstdio>
#include <memory>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace clinshub::testing {
namespace {

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

KeyPtr NewKey() { return KeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free); }

void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext != nullptr) {
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
}

// Signs a certificate for `key` with `issuer_key`; issuer == nullptr means self-signed.
CertPtr MakeCert(EVP_PKEY* key, const std::string& cn, const std::string& org, X509* issuer,
                 EVP_PKEY* issuer_key, bool ca, long serial, const char* san) {
  CertPtr cert(X509_new(), &X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600L * 24 * 30);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("JP"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(org.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (ca) {
    AddExt(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    AddExt(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExt(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    AddExt(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    AddExt(cert.get(), signer, NID_ext_key_usage, san ? "serverAuth" : "clientAuth");
  }
  AddExt(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (san != nullptr) AddExt(cert.get(), signer, NID_subject_alt_name, san);
  X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256());
  return cert;
}

bool WriteCert(const std::string& path, X509* cert) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  bool ok = PEM_write_X509(f, cert) == 1;
  std::fclose(f);
  return ok;
}

bool WriteKey(const std::string& path, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  bool ok = PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::fclose(f);
  return ok;
}

}  // namespace

Status GenerateTestPki(const std::string& dir, const std::string& client_cn, TestPki& out) {
  KeyPtr ca_key = NewKey(), server_key = NewKey(), client_key = NewKey();
  KeyPtr other_ca_key = NewKey(), rogue_key = NewKey();
  if (!ca_key || !server_key || !client_key || !other_ca_key || !rogue_key) {
    return InternalError("EC key generation failed");
  }
  CertPtr ca = MakeCert(ca_key.get(), "Test Operator CA", "Test Operator", nullptr, nullptr,
                        true, 1, nullptr);
  CertPtr server = MakeCert(server_key.get(), "localhost", "Test Hub", ca.get(), ca_key.get(),
                            false, 2, "DNS:localhost,IP:127.0.0.1");
  CertPtr client = MakeCert(client_key.get(), client_cn, "Test Hospital", ca.get(),
                            ca_key.get(), false, 3, nullptr);
  CertPtr other_ca = MakeCert(other_ca_key.get(), "Rogue CA", "Rogue", nullptr, nullptr, true,
                              4, nullptr);
  CertPtr rogue = MakeCert(rogue_key.get(), client_cn, "Test Hospital", other_ca.get(),
                           other_ca_key.get(), false, 5, nullptr);
  out.ca_cert = dir + "/ca.pem";
  out.server_cert = dir + "/server.pem";
  out.server_key = dir + "/server.key";
  out.client_cert = dir + "/client.pem";
  out.client_key = dir + "/client.key";
  out.other_ca_cert = dir + "/other-ca.pem";
  out.rogue_client_cert = dir + "/rogue.pem";
  out.rogue_client_key = dir + "/rogue.key";
  bool ok = WriteCert(out.ca_cert, ca.get()) && WriteCert(out.server_cert, server.get()) &&
            WriteKey(out.server_key, server_key.get()) &&
            WriteCert(out.client_cert, client.get()) &&
            WriteKey(out.client_key, client_key.get()) &&
            WriteCert(out.other_ca_cert, other_ca.get()) &&
            WriteCert(out.rogue_client_cert, rogue.get()) &&
            WriteKey(out.rogue_client_key, rogue_key.get());
  return ok ? Status::Ok() : InternalError("Cannot write PKI files into " + dir);
}

}  // namespace clinshub::testing
