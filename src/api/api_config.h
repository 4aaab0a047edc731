// What the API serves; filled by src/server from the command line / config file.
#pragma once

#include <cstddef>
#include <set>
#include <string>

namespace clinshub::api {

struct ApiConfig {
  std::string software_name = "clinshub";
  std::string software_version;
  // Absolute base URL ("https://hub.example.jp/fhir") for Location headers and Bundle
  // fullUrls. Empty: derived per request from the Host header and the transport.
  std::string base_url;
  // Resource types with the generic read / vread / history interactions.
  std::set<std::string> read_types = {"Bundle", "Organization"};
  // Resource types with generic create / update / delete. Later issues replace these for
  // clinical data with JP-CLINS submissions and restrict writes by actor.
  std::set<std::string> write_types = {"Organization"};
  // Most versions one history request returns (_count is capped to it).
  size_t max_history_count = 100;
  // Transport facts the CapabilityStatement reports (it must tell the truth).
  bool tls = false;
  bool client_certificates_required = false;
};

}  // namespace clinshub::api
