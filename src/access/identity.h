// Who a verified client certificate names. The hub's CA issues three kinds of client
// certificate (access/pki): institutions (subject CN = the 10-digit code), the patient portal
// (CN = "portal:<name>") and operators (CN = "operator:<name>"). Institution codes are validated
// at issue, so a CN can never be both.
#pragma once

#include <string_view>

#include "access/policy.h"

namespace clinshub::access {

// The actor a verified RFC 2253 subject names, without directory facts (kind kNone for an
// empty or unrecognised subject).
Actor ActorFromSubject(std::string_view subject);

}  // namespace clinshub::access
