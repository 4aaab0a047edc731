// A small HTTP(S) client for the surveillance endpoint: one POST per call, a fresh connection
// each time (deliveries are rare and a stale keep-alive connection must never lose one), an
// overall deadline per request. Boost.Beast stays inside http_poster.cc.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace clinshub::publichealth {

struct PostResult {
  int status = 0;
  std::string body;
};

struct PosterOptions {
  std::chrono::milliseconds timeout{10000};  // connect + TLS + write + read
  std::string ca_file;    // https: trust these CAs ("" = the system's default paths)
  std::string cert_file;  // https client certificate (optional)
  std::string key_file;
};

class HttpPoster {
 public:
  virtual ~HttpPoster() = default;
  // kUnavailable for transport failures (refused, reset, timeout, TLS); any HTTP status is a
  // result. Thread-compatible: one caller at a time.
  virtual Result<PostResult> Post(const std::string& url, const std::string& content_type,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  const std::string& body) = 0;
};

// kMalformed if `url` is not an absolute http:// or https:// URL.
Status ValidateEndpointUrl(const std::string& url);

std::unique_ptr<HttpPoster> MakeBeastPoster(PosterOptions options);

}  // namespace clinshub::publichealth
