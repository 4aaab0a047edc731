// Throwaway X.509 material generated with OpenSSL at test time: a CA, a server certificate
// for 127.0.0.1/localhost and a client certificate, all as PEM files in a directory.
#pragma once

#include <string>

#include "common/status.h"

namespace clinshub::testing {

struct TestPki {
  std::string ca_cert;      // CA certificate (trust anchor for both sides)
  std::string server_cert;  // CN=localhost, SAN DNS:localhost, IP:127.0.0.1
  std::string server_key;
  std::string client_cert;  // subject `client_subject`
  std::string client_key;
  std::string other_ca_cert;   // an unrelated CA ...
  std::string rogue_client_cert;  // ... and a client certificate it issued
  std::string rogue_client_key;
};

// Writes the files into `dir` (which must exist). The client certificate's subject is
// "CN=<client_cn>,O=Test Hospital,C=JP".
Status GenerateTestPki(const std::string& dir, const std::string& client_cn, TestPki& out);

}  // namespace clinshub::testing
