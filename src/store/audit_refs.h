// How an audit event's item references are stored: one TEXT column per list, on every backend.
//
// A reference is "<bundle id>/<entry ordinal>" (api ItemRef). A summary's event names each of
// the person's ~30 items, most of them in runs from the same Bundle, so the references are
// stored grouped: "~b1/3.4.5,b2/1,b1/7" for b1/3, b1/4, b1/5, b2/1, b1/7 — order kept, each
// Bundle id written once per run (~0.5 KB instead of ~1.1 KB per summary; read audits are most
// of what the store grows by). A list that does not fit that shape (a reference without a
// numeric ordinal) is stored "=" and joined by commas; rows of earlier releases, joined by
// commas without a marker (their references were all Bundle ids and ordinals), are read as
// they are. References never contain commas.
//
// The audit chain hashes the references themselves (store/audit.h), not this encoding.
#pragma once

#include <string>
#include <vector>

namespace clinshub::store {

std::string EncodeAuditRefs(const std::vector<std::string>& refs);
std::vector<std::string> DecodeAuditRefs(const std::string& stored);

}  // namespace clinshub::store
