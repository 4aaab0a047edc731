#include "access/pki/certificate_authority.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <system_error>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace clinshub::access::pki {
namespace {

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;
using CrlPtr = std::unique_ptr<X509_CRL, decltype(&X509_CRL_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using BnPtr = std::unique_ptr<BIGNUM, decltype(&BN_free)>;
using AsnIntPtr = std::unique_ptr<ASN1_INTEGER, decltype(&ASN1_INTEGER_free)>;
using AsnTimePtr = std::unique_ptr<ASN1_TIME, decltype(&ASN1_TIME_free)>;
using RevokedPtr = std::unique_ptr<X509_REVOKED, decltype(&X509_REVOKED_free)>;

constexpr int kCaDays = 3650;
constexpr int kServerDays = 825;  // the longest TLS server lifetime clients still accept

KeyPtr NewKey() {
  return KeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
}

std::string CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return {};
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string KeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return {};
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return UnavailableError("Cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes next to the target and renames, so readers (the server's CRL watcher) never see a
// half-written file.
Status ReplaceFile(const std::string& path, const std::string& contents) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << contents;
    if (!out.flush()) return UnavailableError("Cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return UnavailableError("Cannot replace " + path + ": " + ec.message());
  return Status::Ok();
}

bool AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

bool AddName(X509_NAME* name, const char* field, const std::string& value) {
  return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(value.c_str()), -1,
                                    -1, 0) == 1;
}

std::string NormalizeSerial(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ':') continue;
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  size_t first = out.find_first_not_of('0');
  return first == std::string::npos ? "0" : out.substr(first);
}

// 128 random bits with the top bit clear: positive, unguessable, unique in practice.
AsnIntPtr RandomSerial(std::string& hex) {
  unsigned char bytes[16];
  AsnIntPtr none(nullptr, &ASN1_INTEGER_free);
  if (RAND_bytes(bytes, sizeof bytes) != 1) return none;
  bytes[0] &= 0x7f;
  BnPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr), &BN_free);
  if (!bn) return none;
  char* h = BN_bn2hex(bn.get());
  hex = NormalizeSerial(h);  // BN_bn2hex pads to whole bytes; `cert list` shows no padding
  OPENSSL_free(h);
  return AsnIntPtr(BN_to_ASN1_INTEGER(bn.get(), nullptr), &ASN1_INTEGER_free);
}

std::string Iso8601(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::time_t ParseIso8601(const std::string& s) {
  std::tm tm{};
  if (strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) return 0;
  return timegm(&tm);
}

std::string SubjectOf(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free);
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace

struct CertificateAuthority::Keys {
  KeyPtr key{nullptr, &EVP_PKEY_free};
  CertPtr cert{nullptr, &X509_free};
};

bool IsValidInstitutionCode(const std::string& code) {
  static const std::regex kPattern("^[0-4][0-9][1-3][0-9]{7}$");
  return std::regex_match(code, kPattern);
}

Status WriteNewFile(const std::string& path, const std::string& contents, unsigned mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) {
      return Status::Error(ErrorCode::kConflict, "conflict", path + " already exists");
    }
    return UnavailableError("Cannot create " + path + ": " + std::strerror(errno));
  }
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return UnavailableError("Cannot write " + path);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return UnavailableError("Cannot write " + path);
  return Status::Ok();
}

Status WriteClientBundle(const std::string& out_dir, const IssuedCertificate& issued,
                         const std::string& ca_pem) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return UnavailableError("Cannot create " + out_dir + ": " + ec.message());
  // The key first: if it cannot be created fresh, nothing else is touched.
  CLINSHUB_RETURN_IF_ERROR(WriteNewFile(out_dir + "/key.pem", issued.private_key_pem, 0600));
  CLINSHUB_RETURN_IF_ERROR(ReplaceFile(out_dir + "/cert.pem", issued.certificate_pem));
  return ReplaceFile(out_dir + "/ca.pem", ca_pem);
}

CertificateAuthority::CertificateAuthority(std::string dir, const Clock& clock,
                                           std::unique_ptr<Keys> keys)
    : dir_(std::move(dir)), clock_(clock), keys_(std::move(keys)) {}

CertificateAuthority::~CertificateAuthority() = default;

bool CertificateAuthority::Exists(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::exists(dir + "/ca.pem", ec) && std::filesystem::exists(dir + "/ca.key", ec);
}

Result<std::unique_ptr<CertificateAuthority>> CertificateAuthority::Create(
    const std::string& dir, const Clock& clock) {
  if (Exists(dir)) return MalformedError("A CA already exists in " + dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return UnavailableError("Cannot create " + dir + ": " + ec.message());
  // Only the operator reads this directory; keys are 0600 regardless.
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);

  auto keys = std::make_unique<Keys>();
  keys->key = NewKey();
  keys->cert = CertPtr(X509_new(), &X509_free);
  if (!keys->key || !keys->cert) return InternalError("Cannot generate the CA key");
  X509* cert = keys->cert.get();
  std::string serial_hex;
  AsnIntPtr serial = RandomSerial(serial_hex);
  std::time_t now = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(clock.Now()));
  bool ok = serial && X509_set_version(cert, 2) == 1 &&
            X509_set_serialNumber(cert, serial.get()) == 1 &&
            X509_time_adj_ex(X509_getm_notBefore(cert), 0, 0, &now) != nullptr &&
            X509_time_adj_ex(X509_getm_notAfter(cert), kCaDays, 0, &now) != nullptr &&
            X509_set_pubkey(cert, keys->key.get()) == 1 &&
            AddName(X509_get_subject_name(cert), "C", "JP") &&
            AddName(X509_get_subject_name(cert), "O", "clinshub") &&
            AddName(X509_get_subject_name(cert), "CN", "clinshub hub CA") &&
            X509_set_issuer_name(cert, X509_get_subject_name(cert)) == 1 &&
            AddExt(cert, cert, NID_basic_constraints, "critical,CA:TRUE") &&
            AddExt(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign") &&
            AddExt(cert, cert, NID_subject_key_identifier, "hash") &&
            X509_sign(cert, keys->key.get(), EVP_sha256()) > 0;
  if (!ok) return InternalError("Cannot build the CA certificate");
  CLINSHUB_RETURN_IF_ERROR(WriteNewFile(dir + "/ca.key", KeyToPem(keys->key.get()), 0600));
  CLINSHUB_RETURN_IF_ERROR(ReplaceFile(dir + "/ca.pem", CertToPem(cert)));
  std::unique_ptr<CertificateAuthority> ca(new CertificateAuthority(dir, clock, std::move(keys)));
  CLINSHUB_RETURN_IF_ERROR(ca->WriteIndex({}));
  // An empty CRL from the start: the server always has one to check against.
  CLINSHUB_RETURN_IF_ERROR(ca->WriteCrl({}));
  return ca;
}

Result<std::unique_ptr<CertificateAuthority>> CertificateAuthority::Load(
    const std::string& dir, const Clock& clock) {
  if (!Exists(dir)) return NotFoundError("No CA in " + dir + " (run `clinshub cert init`)");
  auto keys = std::make_unique<Keys>();
  {
    FILE* f = std::fopen((dir + "/ca.pem").c_str(), "r");
    if (f == nullptr) return UnavailableError("Cannot read " + dir + "/ca.pem");
    keys->cert.reset(PEM_read_X509(f, nullptr, nullptr, nullptr));
    std::fclose(f);
  }
  {
    FILE* f = std::fopen((dir + "/ca.key").c_str(), "r");
    if (f == nullptr) return UnavailableError("Cannot read " + dir + "/ca.key");
    keys->key.reset(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
    std::fclose(f);
  }
  if (!keys->cert || !keys->key) return MalformedError("Unreadable CA files in " + dir);
  if (X509_check_private_key(keys->cert.get(), keys->key.get()) != 1) {
    return MalformedError("ca.key does not match ca.pem in " + dir);
  }
  return std::unique_ptr<CertificateAuthority>(
      new CertificateAuthority(dir, clock, std::move(keys)));
}

std::string CertificateAuthority::ca_certificate_pem() const {
  return CertToPem(keys_->cert.get());
}

Result<IssuedCertificate> CertificateAuthority::IssueInstitution(
    const InstitutionCertificateRequest& request) {
  if (!IsValidInstitutionCode(request.institution_code)) {
    return MalformedError("Institution code '" + request.institution_code +
                          "' is not a 10-digit 保険医療機関番号 (^[0-4][0-9][1-3][0-9]{7}$)");
  }
  return Issue("institution", request.institution_code, request.institution_name, "",
               request.not_before_offset, request.days);
}

Result<IssuedCertificate> CertificateAuthority::IssueRole(const std::string& kind,
                                                          const std::string& name, int days,
                                                          std::chrono::seconds not_before_offset) {
  if (kind != "portal" && kind != "operator") {
    return MalformedError("Certificate kind '" + kind + "' is not portal or operator");
  }
  constexpr size_t kMaxName = 64;
  bool valid = !name.empty() && name.size() <= kMaxName &&
               std::all_of(name.begin(), name.end(), [](char c) {
                 return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                        c == '-';
               });
  if (!valid) {
    return MalformedError("The " + kind + " name '" + name +
                          "' must be 1-64 letters, digits, '.', '_' or '-'");
  }
  return Issue(kind, kind + ":" + name, "clinshub", "", not_before_offset, days);
}

Result<IssuedCertificate> CertificateAuthority::IssueServer(
    const std::vector<std::string>& extra_names, int days) {
  std::string san = "DNS:localhost,IP:127.0.0.1";
  for (const std::string& name : extra_names) {
    if (name.empty() || name == "localhost" || name == "127.0.0.1") continue;
    bool ip = name.find_first_not_of("0123456789.:abcdefABCDEF") == std::string::npos &&
              (name.find('.') != std::string::npos || name.find(':') != std::string::npos);
    san += (ip ? ",IP:" : ",DNS:") + name;
  }
  return Issue("server", "localhost", "clinshub", san, std::chrono::seconds(0), days);
}

Status CertificateAuthority::EnsureServerCertificate(const std::vector<std::string>& extra_names) {
  std::error_code ec;
  if (std::filesystem::exists(server_cert_path(), ec) &&
      std::filesystem::exists(server_key_path(), ec)) {
    return Status::Ok();
  }
  Result<IssuedCertificate> issued = IssueServer(extra_names, kServerDays);
  if (!issued.ok()) return issued.take_status();
  std::filesystem::remove(server_key_path(), ec);  // a lone key without its certificate
  CLINSHUB_RETURN_IF_ERROR(WriteNewFile(server_key_path(), issued->private_key_pem, 0600));
  return ReplaceFile(server_cert_path(), issued->certificate_pem);
}

Result<IssuedCertificate> CertificateAuthority::Issue(const std::string& kind,
                                                      const std::string& cn,
                                                      const std::string& org,
                                                      const std::string& san,
                                                      std::chrono::seconds not_before_offset,
                                                      int days) {
  if (days <= 0) return MalformedError("Validity must be at least one day");
  KeyPtr key = NewKey();
  CertPtr cert(X509_new(), &X509_free);
  if (!key || !cert) return InternalError("Cannot generate a key");
  X509* c = cert.get();
  X509* ca = keys_->cert.get();
  IssuedCertificate out;
  AsnIntPtr serial = RandomSerial(out.serial_hex);
  std::time_t start = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(clock_.Now())) +
                      static_cast<std::time_t>(not_before_offset.count());
  X509_NAME* name = X509_get_subject_name(c);
  bool ok = serial && X509_set_version(c, 2) == 1 && X509_set_serialNumber(c, serial.get()) == 1 &&
            X509_time_adj_ex(X509_getm_notBefore(c), 0, 0, &start) != nullptr &&
            X509_time_adj_ex(X509_getm_notAfter(c), days, 0, &start) != nullptr &&
            X509_set_pubkey(c, key.get()) == 1 && AddName(name, "C", "JP") &&
            (org.empty() || AddName(name, "O", org)) && AddName(name, "CN", cn) &&
            X509_set_issuer_name(c, X509_get_subject_name(ca)) == 1 &&
            AddExt(c, ca, NID_basic_constraints, "critical,CA:FALSE") &&
            AddExt(c, ca, NID_key_usage, "critical,digitalSignature") &&
            AddExt(c, ca, NID_ext_key_usage, kind == "server" ? "serverAuth" : "clientAuth") &&
            AddExt(c, ca, NID_subject_key_identifier, "hash") &&
            AddExt(c, ca, NID_authority_key_identifier, "keyid:always") &&
            (san.empty() || AddExt(c, ca, NID_subject_alt_name, san)) &&
            X509_sign(c, keys_->key.get(), EVP_sha256()) > 0;
  if (!ok) return InternalError("Cannot build the " + kind + " certificate");
  out.certificate_pem = CertToPem(c);
  out.private_key_pem = KeyToPem(key.get());

  // Recorded before anyone holds the certificate, so every certificate in use can be revoked.
  Result<std::vector<IndexEntry>> entries = List();
  if (!entries.ok()) return entries.take_status();
  std::time_t not_after = start + static_cast<std::time_t>(days) * 86400;
  entries->push_back({out.serial_hex, kind, SubjectOf(c), Iso8601(not_after), ""});
  CLINSHUB_RETURN_IF_ERROR(WriteIndex(*entries));
  return out;
}

Status CertificateAuthority::Revoke(const std::string& serial_hex) {
  Result<std::vector<IndexEntry>> entries = List();
  if (!entries.ok()) return entries.take_status();
  std::string wanted = NormalizeSerial(serial_hex);
  auto it = std::find_if(entries->begin(), entries->end(),
                         [&](const IndexEntry& e) { return NormalizeSerial(e.serial_hex) == wanted; });
  if (it == entries->end()) return NotFoundError("No certificate with serial " + wanted);
  if (!it->revoked_at.empty()) return Status::Ok();
  it->revoked_at = Iso8601(std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(clock_.Now())));
  // The CRL first: if the index write then fails, the certificate is still refused.
  CLINSHUB_RETURN_IF_ERROR(WriteCrl(*entries));
  return WriteIndex(*entries);
}

Result<std::vector<IndexEntry>> CertificateAuthority::List() const {
  Result<std::string> text = ReadFile(dir_ + "/index.tsv");
  if (!text.ok()) return text.take_status();
  std::vector<IndexEntry> out;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::istringstream fields(line);
    std::string field;
    while (std::getline(fields, field, '\t')) f.push_back(field);
    f.resize(5);
    out.push_back({f[0], f[1], f[2], f[3], f[4]});
  }
  return out;
}

Status CertificateAuthority::WriteIndex(const std::vector<IndexEntry>& entries) {
  std::string text = "# serial\tkind\tsubject\tnot_after\trevoked_at\n";
  for (const IndexEntry& e : entries) {
    text += e.serial_hex + "\t" + e.kind + "\t" + e.subject + "\t" + e.not_after + "\t" +
            e.revoked_at + "\n";
  }
  return ReplaceFile(dir_ + "/index.tsv", text);
}

Status CertificateAuthority::WriteCrl(const std::vector<IndexEntry>& entries) {
  CrlPtr crl(X509_CRL_new(), &X509_CRL_free);
  if (!crl) return InternalError("Cannot allocate a CRL");
  std::time_t now = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(clock_.Now()));
  AsnTimePtr last(ASN1_TIME_set(nullptr, now), &ASN1_TIME_free);
  // nextUpdate as far as the CA lives: the hub itself is the relying party and rereads the
  // file whenever it changes, so a short nextUpdate would only make an idle hub refuse
  // everyone once it passed.
  const ASN1_TIME* next = X509_get0_notAfter(keys_->cert.get());
  bool ok = last && X509_CRL_set_version(crl.get(), 1) == 1 &&
            X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(keys_->cert.get())) == 1 &&
            X509_CRL_set1_lastUpdate(crl.get(), last.get()) == 1 &&
            X509_CRL_set1_nextUpdate(crl.get(), next) == 1;
  for (const IndexEntry& e : entries) {
    if (!ok) break;
    if (e.revoked_at.empty()) continue;
    BIGNUM* raw = nullptr;
    if (BN_hex2bn(&raw, e.serial_hex.c_str()) == 0) return InternalError("Bad serial in index");
    BnPtr bn(raw, &BN_free);
    AsnIntPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr), &ASN1_INTEGER_free);
    AsnTimePtr when(ASN1_TIME_set(nullptr, ParseIso8601(e.revoked_at)), &ASN1_TIME_free);
    RevokedPtr revoked(X509_REVOKED_new(), &X509_REVOKED_free);
    ok = serial && when && revoked &&
         X509_REVOKED_set_serialNumber(revoked.get(), serial.get()) == 1 &&
         X509_REVOKED_set_revocationDate(revoked.get(), when.get()) == 1 &&
         X509_CRL_add0_revoked(crl.get(), revoked.get()) == 1;
    if (ok) revoked.release();  // now owned by the CRL
  }
  ok = ok && X509_CRL_sort(crl.get()) == 1 &&
       X509_CRL_sign(crl.get(), keys_->key.get(), EVP_sha256()) > 0;
  if (!ok) return InternalError("Cannot build the CRL");
  BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) {
    return InternalError("Cannot encode the CRL");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return ReplaceFile(crl_path(), std::string(data, static_cast<size_t>(n)));
}

}  // namespace clinshub::access::pki
