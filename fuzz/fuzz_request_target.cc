// The request line and negotiation headers as the API sees them, on arbitrary bytes. The
// input is split at newlines into: request-target, Accept, Content-Type, _format value.
// Properties: no crash; a parse error is kMalformed; negotiation errors are the 406 / 415
// categories only.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

#include "api/negotiation.h"
#include "api/request_target.h"

namespace {

namespace api = clinshub::api;
using clinshub::ErrorCode;

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  while (parts.size() < 3) {
    size_t nl = input.find('\n');
    if (nl == std::string_view::npos) break;
    parts.push_back(input.substr(0, nl));
    input.remove_prefix(nl + 1);
  }
  parts.push_back(input);
  auto part = [&](size_t i) -> std::optional<std::string_view> {
    if (i < parts.size()) return parts[i];
    return std::nullopt;
  };

  api::RequestTarget target;
  clinshub::Status st = api::ParseRequestTarget(parts[0], target);
  if (st.ok()) {
    for (const auto& [name, value] : target.query.items()) (void)target.query.All(name);
  } else {
    Check(st.code() == ErrorCode::kMalformed);
  }

  clinshub::Status ct = api::CheckRequestContentType(part(2));
  Check(ct.ok() || ct.code() == ErrorCode::kUnsupportedMediaType);
  clinshub::Status format = api::CheckResponseFormat(part(3), part(1));
  Check(format.ok() || format.code() == ErrorCode::kNotAcceptable);

  api::Request request;
  request.method = "POST";
  request.target = std::string(parts[0]);
  if (st.ok()) request.query = target.query;
  if (auto a = part(1)) request.headers.Add("Accept", std::string(*a));
  if (auto c = part(2)) request.headers.Add("Content-Type", std::string(*c));
  clinshub::Status n = api::NegotiateFhir(request);
  Check(n.ok() || n.code() == ErrorCode::kNotAcceptable ||
        n.code() == ErrorCode::kUnsupportedMediaType);
  api::WantsPretty(request);
  return 0;
}
