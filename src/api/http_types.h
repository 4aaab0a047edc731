// Transport-neutral HTTP request and response as the API layer sees them. The server
// (src/server) converts Beast messages to and from these, so no Beast type reaches a handler
// and handlers compile fast.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace clinshub::api {

// Header fields in arrival order; names compare case-insensitively (RFC 9110 §5.1).
class Headers {
 public:
  void Add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }
  // Replaces every field of that name with one field.
  void Set(std::string name, std::string value);
  void Remove(std::string_view name);
  // First field of that name, if any.
  std::optional<std::string_view> Get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// Query parameters, percent-decoded, in the order they appeared; a name may repeat
// (FHIR search ANDs repeated parameters, so order and multiplicity matter).
class QueryParams {
 public:
  void Add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }
  std::optional<std::string_view> First(std::string_view name) const;
  std::vector<std::string_view> All(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Who is on the other end, as proven by the transport.
struct ClientIdentity {
  // Subject DN of the verified TLS client certificate (RFC 2253 form), e.g.
  // "CN=1312345678,O=Example Hospital,C=JP".
  std::string certificate_subject;
};

struct Request {
  std::string method;  // "GET", "PUT", ...
  std::string target;  // raw request-target as received
  std::vector<std::string> path;  // percent-decoded path segments, "/a/b" -> {"a", "b"}
  QueryParams query;
  Headers headers;
  std::string body;
  bool secure = false;  // arrived over TLS
  // Set only when a client certificate was presented and verified.
  std::optional<ClientIdentity> client;
  // Filled by the Router: pattern variables such as "type", "id", "vid".
  std::map<std::string, std::string, std::less<>> path_params;

  std::string_view Param(std::string_view name) const {
    auto it = path_params.find(name);
    return it == path_params.end() ? std::string_view() : std::string_view(it->second);
  }
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Keep the connection open afterwards; the server also honours the request's wishes.
  bool keep_alive = true;
};

inline constexpr std::string_view kFhirJsonContentType = "application/fhir+json; charset=utf-8";

}  // namespace clinshub::api
