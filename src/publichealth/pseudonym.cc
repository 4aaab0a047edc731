#include "publichealth/pseudonym.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace clinshub::publichealth {
namespace {

constexpr size_t kSecretBytes = 32;

std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 15]);
  }
  return out;
}

}  // namespace

Result<std::string> LoadOrCreateSecret(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    unsigned char bytes[kSecretBytes];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return InternalError("RAND_bytes failed");
    const std::string hex = Hex(bytes, sizeof bytes) + "\n";
    // O_EXCL: two processes racing to create it cannot both win with different secrets.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd >= 0) {
      bool ok = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) &&
                ::fsync(fd) == 0;
      ::close(fd);
      if (!ok) {
        std::remove(path.c_str());
        return UnavailableError("Cannot write the pseudonymisation secret " + path);
      }
    } else if (errno != EEXIST) {
      return UnavailableError("Cannot create the pseudonymisation secret " + path);
    }
    if (::stat(path.c_str(), &st) != 0) return UnavailableError("Cannot stat " + path);
  }
  if ((st.st_mode & 077) != 0) {
    return InternalError("The pseudonymisation secret " + path +
                         " is readable by group or others; chmod 600 it");
  }
  std::ifstream in(path);
  std::string secret;
  in >> secret;
  if (secret.size() != kSecretBytes * 2 ||
      secret.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return InternalError("The pseudonymisation secret " + path + " is damaged");
  }
  return secret;
}

std::string Pseudonym(const std::string& secret, const std::string& person_key) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(person_key.data()), person_key.size(), mac, &len);
  return Hex(mac, len);
}

}  // namespace clinshub::publichealth
