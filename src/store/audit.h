// The audit trail's hash chain, shared by every backend and by `clinshub audit verify`.
//
// Each event's hash is SHA-256 over a canonical, length-prefixed encoding of all its fields
// (seq, time, actor, …, the item references and prev_hash), so changing, removing or
// reordering any record breaks the chain at that record or the next one.
#pragma once

#include <string>
#include <vector>

#include "store/records.h"

namespace clinshub::store {

// The prev_hash of the first record.
inline constexpr char kAuditGenesisHash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

// The hash `event` must carry, given its seq and prev_hash fields (its own hash is ignored).
std::string AuditHash(const AuditEvent& event);

// Checks a run of consecutive events (seq order) that follows a record whose hash is
// `prev_hash` (kAuditGenesisHash at the start). Updates `verification` and `prev_hash`;
// stops at the first bad record.
void VerifyAuditRun(const std::vector<AuditEvent>& events, std::string& prev_hash,
                    int64_t& expected_seq, AuditVerification& verification);

}  // namespace clinshub::store
