// What the API serves; filled by src/server from the command line / config file.
#pragma once

#include <chrono>
#include <cstddef>
#include <set>
#include <string>

namespace clinshub::api {

// The service's 10 MB submission limit: on the bytes received (src/server) and on a
// gzip-coded body once decoded (content_coding.h).
inline constexpr size_t kMaxRequestBodyBytes = 10 * 1024 * 1024;

struct ApiConfig {
  std::string software_name = "clinshub";
  std::string software_version;
  // Absolute base URL ("https://hub.example.jp/fhir") for Location headers and Bundle
  // fullUrls. Empty: derived per request from the Host header and the transport.
  std::string base_url;
  // Resource types with the generic read / vread / history interactions.
  std::set<std::string> read_types = {"Bundle"};
  // Resource types with generic create / update / delete (none by default: clinical data is
  // written as JP-CLINS submissions, the directory by the operator).
  std::set<std::string> write_types = {};
  // Most versions one history request returns (_count is capped to it).
  size_t max_history_count = 100;
  // Behind a TLS-terminating proxy on the same host that verifies client certificates against
  // the hub's CA: the header carrying the verified subject DN (RFC 2253), honoured only on
  // plain-HTTP requests. Empty (the default): identities come from our own TLS only. The
  // server refuses to start with it unless bound to loopback.
  std::string trusted_subject_header;
  // How long a card-reader consent lets an institution read (SERVICE.md: 24 hours).
  std::chrono::seconds consent_window{24 * 3600};
  // Where the minister's export runner writes its NDJSON files (src/publichealth); the
  // operator downloads them from GET /$export-file/{job}/{file}. Empty: exports are off.
  std::string export_dir;
  // Memory for the persons' items kept rendered for $summary (item_cache.h); 0 turns the
  // cache off. ~100 KB per person with ~35 items.
  size_t item_cache_bytes = 256ull << 20;
  // gzip-code responses for clients that accept it (content_coding.h).
  bool gzip_responses = true;
  // Transport facts the CapabilityStatement reports (it must tell the truth).
  bool tls = false;
  bool client_certificates_required = false;
};

}  // namespace clinshub::api
