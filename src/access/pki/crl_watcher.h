// Revocation checking for the TLS server: every client-certificate verification also checks
// the hub CA's CRL file, which is reread when it changes (a cheap stat() per handshake), so
// `clinshub cert revoke` takes effect on the next connection without a restart.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <memory>
#include <mutex>
#include <string>

#include <openssl/ssl.h>

#include "common/status.h"

namespace clinshub::access::pki {

class CrlWatcher {
 public:
  explicit CrlWatcher(std::string crl_path) : path_(std::move(crl_path)) {}
  CrlWatcher(const CrlWatcher&) = delete;
  CrlWatcher& operator=(const CrlWatcher&) = delete;

  // Loads the CRL now (kMalformed if it cannot be read) and installs the verification on
  // `ctx`, which already trusts the issuing CA. The watcher must outlive every handshake on
  // `ctx`. Once loaded, a CRL that later becomes unreadable is replaced by nothing: the last
  // good one stays in force, so deleting the file never un-revokes anyone.
  Status Install(SSL_CTX* ctx);

  // The current CRLs, reloaded if the file changed. Thread-safe.
  std::shared_ptr<STACK_OF(X509_CRL)> Current();

 private:
  static int Verify(X509_STORE_CTX* ctx, void* self);
  bool Reload();  // with mu_ held; false if the file cannot be read

  std::string path_;
  std::mutex mu_;
  std::shared_ptr<STACK_OF(X509_CRL)> crls_;
  ino_t inode_ = 0;
  off_t size_ = -1;
  timespec mtime_{};
};

}  // namespace clinshub::access::pki
