// SHA-256 (OpenSSL) for content hashes and the audit hash chain.
#pragma once

#include <string>
#include <string_view>

namespace clinshub {

// Lower-case hex digest of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace clinshub
