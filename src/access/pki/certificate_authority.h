// The hub's own certificate authority. Institutions authenticate with client certificates
// (機関認証用 電子証明書) that this CA issues; the hub's TLS server certificate comes from it
// too, so a fresh install is secure by default without outside PKI.
//
// On disk, everything lives in one directory (DIR/pki for `clinshub serve --data DIR`):
//   ca.pem, ca.key        the CA certificate and its EC P-256 key (0600)
//   crl.pem               the CA-signed revocation list, rewritten on every revocation
//   index.tsv             one line per issued certificate: serial, kind, subject, notAfter,
//                         revocation time (empty while valid)
//   server.pem, server.key  the hub's server certificate (see EnsureServerCertificate)
//
// Not thread-safe: one CertificateAuthority per process at a time mutates the directory
// (the CLI or the server's first start). Errors: kMalformed for bad input (institution code,
// unknown serial), kUnavailable when files cannot be read or written, kInternal when OpenSSL
// fails.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace clinshub::access::pki {

// 都道府県2 + 点数表1 + 7 digits (SERVICE.md, "Actors").
bool IsValidInstitutionCode(const std::string& code);

struct InstitutionCertificateRequest {
  std::string institution_code;  // becomes the subject CN
  std::string institution_name;  // becomes the subject O when not empty
  // Validity starts at now + not_before_offset (negative values backdate, e.g. for tests of
  // expired certificates) and lasts `days`.
  std::chrono::seconds not_before_offset{0};
  int days = 730;
};

// A freshly issued certificate with its private key, both PEM.
struct IssuedCertificate {
  std::string serial_hex;  // upper-case hex, no leading zeros
  std::string certificate_pem;
  std::string private_key_pem;
};

struct IndexEntry {
  std::string serial_hex;
  std::string kind;  // "server", "institution", "portal" or "operator"
  std::string subject;  // RFC 2253
  std::string not_after;  // ISO 8601 UTC
  std::string revoked_at;  // ISO 8601 UTC, empty while valid
};

class CertificateAuthority {
 public:
  // Creates a new CA in `dir` (created if missing); kMalformed if one is already there.
  // `clock` must outlive the CA.
  static Result<std::unique_ptr<CertificateAuthority>> Create(const std::string& dir,
                                                              const Clock& clock);
  // Loads the CA in `dir`; kNotFound if there is none.
  static Result<std::unique_ptr<CertificateAuthority>> Load(const std::string& dir,
                                                            const Clock& clock);
  static bool Exists(const std::string& dir);
  ~CertificateAuthority();

  const std::string& dir() const { return dir_; }
  std::string ca_cert_path() const { return dir_ + "/ca.pem"; }
  std::string crl_path() const { return dir_ + "/crl.pem"; }
  std::string server_cert_path() const { return dir_ + "/server.pem"; }
  std::string server_key_path() const { return dir_ + "/server.key"; }
  std::string ca_certificate_pem() const;

  // kMalformed for an invalid institution code or a non-positive validity.
  Result<IssuedCertificate> IssueInstitution(const InstitutionCertificateRequest& request);
  // A client certificate for the patient portal (kind "portal") or an operator (kind
  // "operator"): subject CN "<kind>:<name>", O "clinshub" (access/identity.cc maps these CNs to
  // actors). `name` is 1–64 of A–Z a–z 0–9 . _ -; kMalformed for another kind or name, or a
  // non-positive validity.
  Result<IssuedCertificate> IssueRole(const std::string& kind, const std::string& name,
                                      int days = 730,
                                      std::chrono::seconds not_before_offset = {});
  // A serverAuth certificate with SANs for localhost, 127.0.0.1 and `extra_names` (DNS names
  // or IP addresses).
  Result<IssuedCertificate> IssueServer(const std::vector<std::string>& extra_names, int days);
  // Issues server.pem/server.key unless both exist already.
  Status EnsureServerCertificate(const std::vector<std::string>& extra_names);

  // Marks the serial revoked in the index and rewrites crl.pem. Case-insensitive hex; ':'
  // separators and leading zeros are ignored. kNotFound for a serial this CA never issued;
  // revoking twice is not an error.
  Status Revoke(const std::string& serial_hex);
  Result<std::vector<IndexEntry>> List() const;

 private:
  struct Keys;
  CertificateAuthority(std::string dir, const Clock& clock, std::unique_ptr<Keys> keys);
  Result<IssuedCertificate> Issue(const std::string& kind, const std::string& cn,
                                  const std::string& org, const std::string& san,
                                  std::chrono::seconds not_before_offset, int days);
  Status WriteCrl(const std::vector<IndexEntry>& entries);
  Status WriteIndex(const std::vector<IndexEntry>& entries);

  std::string dir_;
  const Clock& clock_;
  std::unique_ptr<Keys> keys_;
};

// Writes `contents` to a new file created with `mode` (0600 for private keys: the mode is set
// by open(), so the key is never readable by others, not even briefly). kConflict if the file
// exists, kUnavailable on IO errors.
Status WriteNewFile(const std::string& path, const std::string& contents, unsigned mode);

// Writes cert.pem, key.pem (0600) and ca.pem into `out_dir` (created if missing) for an
// institution's client. Refuses to overwrite an existing key.pem.
Status WriteClientBundle(const std::string& out_dir, const IssuedCertificate& issued,
                         const std::string& ca_pem);

}  // namespace clinshub::access::pki
