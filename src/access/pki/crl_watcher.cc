#include "access/pki/crl_watcher.h"

#include <sys/stat.h>

#include <cstdio>

#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

namespace clinshub::access::pki {
namespace {

void FreeCrls(STACK_OF(X509_CRL)* crls) { sk_X509_CRL_pop_free(crls, X509_CRL_free); }

}  // namespace

bool CrlWatcher::Reload() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return false;
  // The CA replaces the file by rename, so the inode changes even within one mtime tick.
  if (crls_ && st.st_ino == inode_ && st.st_size == size_ &&
      st.st_mtim.tv_sec == mtime_.tv_sec && st.st_mtim.tv_nsec == mtime_.tv_nsec) {
    return true;
  }
  FILE* f = std::fopen(path_.c_str(), "r");
  if (f == nullptr) return false;
  std::shared_ptr<STACK_OF(X509_CRL)> crls(sk_X509_CRL_new_null(), &FreeCrls);
  while (X509_CRL* crl = PEM_read_X509_CRL(f, nullptr, nullptr, nullptr)) {
    sk_X509_CRL_push(crls.get(), crl);
  }
  std::fclose(f);
  if (sk_X509_CRL_num(crls.get()) == 0) return false;
  crls_ = std::move(crls);
  inode_ = st.st_ino;
  size_ = st.st_size;
  mtime_ = st.st_mtim;
  return true;
}

std::shared_ptr<STACK_OF(X509_CRL)> CrlWatcher::Current() {
  std::lock_guard lock(mu_);
  Reload();
  return crls_;
}

Status CrlWatcher::Install(SSL_CTX* ctx) {
  {
    std::lock_guard lock(mu_);
    if (!Reload()) return MalformedError("Cannot read the CRL " + path_);
  }
  SSL_CTX_set_cert_verify_callback(ctx, &CrlWatcher::Verify, this);
  return Status::Ok();
}

int CrlWatcher::Verify(X509_STORE_CTX* ctx, void* self) {
  // Held until verification returns, even if another handshake swaps in a newer CRL.
  std::shared_ptr<STACK_OF(X509_CRL)> crls = static_cast<CrlWatcher*>(self)->Current();
  X509_STORE_CTX_set0_crls(ctx, crls.get());
  X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_CRL_CHECK);
  int ok = X509_verify_cert(ctx);
  X509_STORE_CTX_set0_crls(ctx, nullptr);
  return ok > 0 ? 1 : 0;
}

}  // namespace clinshub::access::pki
