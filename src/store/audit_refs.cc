#include "store/audit_refs.h"

#include <string_view>

namespace clinshub::store {
namespace {

constexpr char kGroupedMarker = '~';
constexpr char kJoinedMarker = '=';  // joined by commas, whatever the first reference is

// Splits "prefix/digits" at its last '/'; false unless the ordinal is one or more digits and
// the prefix is non-empty and holds no separator of the grouped form.
bool SplitRef(std::string_view ref, std::string_view& prefix, std::string_view& ordinal) {
  const size_t slash = ref.rfind('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == ref.size()) return false;
  prefix = ref.substr(0, slash);
  ordinal = ref.substr(slash + 1);
  for (char c : ordinal) {
    if (c < '0' || c > '9') return false;
  }
  return prefix.find(',') == std::string_view::npos;
}

std::string JoinWithCommas(const std::vector<std::string>& refs) {
  std::string out(1, kJoinedMarker);
  for (size_t i = 0; i < refs.size(); ++i) {
    if (i > 0) out += ',';
    out += refs[i];
  }
  return out;
}

void SplitOn(std::string_view text, char separator, std::vector<std::string_view>& out) {
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t next = text.find(separator, pos);
    if (next == std::string_view::npos) next = text.size();
    out.push_back(text.substr(pos, next - pos));
    pos = next + 1;
  }
}

}  // namespace

std::string EncodeAuditRefs(const std::vector<std::string>& refs) {
  if (refs.empty()) return {};
  std::string out(1, kGroupedMarker);
  std::string_view current;
  for (const std::string& ref : refs) {
    std::string_view prefix, ordinal;
    if (!SplitRef(ref, prefix, ordinal)) return JoinWithCommas(refs);
    if (prefix == current && out.size() > 1) {
      out += '.';
    } else {
      if (out.size() > 1) out += ',';
      out += prefix;
      out += '/';
      current = prefix;
    }
    out += ordinal;
  }
  return out;
}

std::vector<std::string> DecodeAuditRefs(const std::string& stored) {
  std::vector<std::string> out;
  if (stored.empty()) return out;
  const std::string_view text(stored);
  if (text.front() != kGroupedMarker) {  // joined by commas: earlier releases, odd shapes
    std::vector<std::string_view> parts;
    SplitOn(text.front() == kJoinedMarker ? text.substr(1) : text, ',', parts);
    for (std::string_view p : parts) out.emplace_back(p);
    return out;
  }
  std::vector<std::string_view> groups;
  SplitOn(text.substr(1), ',', groups);
  for (std::string_view group : groups) {
    const size_t slash = group.rfind('/');
    if (slash == std::string_view::npos) {  // not written by EncodeAuditRefs; keep it whole
      out.emplace_back(group);
      continue;
    }
    const std::string_view prefix = group.substr(0, slash + 1);  // with its '/'
    std::vector<std::string_view> ordinals;
    SplitOn(group.substr(slash + 1), '.', ordinals);
    for (std::string_view o : ordinals) {
      std::string ref;
      ref.reserve(prefix.size() + o.size());
      ref.append(prefix);
      ref.append(o);
      out.push_back(std::move(ref));
    }
  }
  return out;
}

}  // namespace clinshub::store
