#include "store/audit.h"

#include "common/sha256.h"

namespace clinshub::store {
namespace {

// Length-prefixed so that no two different field lists encode the same bytes.
void Field(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += ';';
}

}  // namespace

std::string AuditHash(const AuditEvent& e) {
  std::string canonical;
  canonical.reserve(256);
  Field(canonical, "clinshub-audit-v1");
  Field(canonical, std::to_string(e.seq));
  Field(canonical, std::to_string(e.time.time_since_epoch().count()));
  Field(canonical, e.actor_kind);
  Field(canonical, e.actor);
  Field(canonical, e.purpose);
  Field(canonical, e.action);
  Field(canonical, e.person_key);
  Field(canonical, e.target);
  Field(canonical, std::to_string(e.items.size()));
  for (const std::string& item : e.items) Field(canonical, item);
  Field(canonical, std::to_string(e.patient_hidden_items.size()));
  for (const std::string& item : e.patient_hidden_items) Field(canonical, item);
  Field(canonical, e.outcome);
  Field(canonical, std::to_string(e.http_status));
  Field(canonical, e.rule);
  Field(canonical, e.reason);
  Field(canonical, e.prev_hash);
  return Sha256Hex(canonical);
}

void VerifyAuditRun(const std::vector<AuditEvent>& events, std::string& prev_hash,
                    int64_t& expected_seq, AuditVerification& v) {
  for (const AuditEvent& e : events) {
    if (!v.intact) return;
    auto fail = [&](std::string problem) {
      v.intact = false;
      v.first_bad_seq = e.seq;
      v.problem = std::move(problem);
    };
    if (e.seq != expected_seq) {
      fail("expected record " + std::to_string(expected_seq) + " but found " +
           std::to_string(e.seq) + " (a record was removed or inserted)");
    } else if (e.prev_hash != prev_hash) {
      fail("record " + std::to_string(e.seq) + " does not link to the previous record");
    } else if (AuditHash(e) != e.hash) {
      fail("record " + std::to_string(e.seq) + " was altered (its hash does not match)");
    } else {
      prev_hash = e.hash;
      ++expected_seq;
      ++v.records;
    }
  }
}

}  // namespace clinshub::store
