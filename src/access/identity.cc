#include "access/identity.h"

#include <string>

namespace clinshub::access {
namespace {

bool IsInstitutionCode(std::string_view s) {
  if (s.size() != 10) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The CN attribute's value in an RFC 2253 subject ("CN=…,O=…,C=JP"). Our CA never puts commas
// in a CN, so splitting on unescaped commas is enough.
std::string_view CommonName(std::string_view subject) {
  size_t pos = 0;
  while (pos < subject.size()) {
    size_t end = subject.find(',', pos);
    while (end != std::string_view::npos && end > 0 && subject[end - 1] == '\\') {
      end = subject.find(',', end + 1);
    }
    if (end == std::string_view::npos) end = subject.size();
    std::string_view rdn = subject.substr(pos, end - pos);
    if (rdn.substr(0, 3) == "CN=") return rdn.substr(3);
    pos = end + 1;
  }
  return {};
}

}  // namespace

Actor ActorFromSubject(std::string_view subject) {
  Actor actor;
  std::string_view cn = CommonName(subject);
  if (IsInstitutionCode(cn)) {
    actor.kind = ActorKind::kInstitution;
    actor.id = std::string(cn);
  } else if (cn.substr(0, 7) == "portal:" && cn.size() > 7) {
    actor.kind = ActorKind::kPortal;
    actor.id = std::string(cn);
  } else if (cn.substr(0, 9) == "operator:" && cn.size() > 9) {
    actor.kind = ActorKind::kOperator;
    actor.id = std::string(cn);
  }
  return actor;
}

}  // namespace clinshub::access
