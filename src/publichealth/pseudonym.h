// Pseudonyms for the minister's export: HMAC-SHA256 of the hub's person key under a hub
// secret, so the same person gets the same pseudonym in every export (analyses can link
// them) while nobody without the secret can recompute or reverse it.
#pragma once

#include <string>

#include "common/result.h"

namespace clinshub::publichealth {

// Reads the 32-byte secret (hex) at `path`, creating it (mode 0600, from the OS CSPRNG) on
// first use. kInternal if the file exists but is not a secret this function wrote, or is
// readable by group or others.
Result<std::string> LoadOrCreateSecret(const std::string& path);

// Lower-case hex HMAC-SHA256(secret, person_key).
std::string Pseudonym(const std::string& secret, const std::string& person_key);

}  // namespace clinshub::publichealth
