// Backend-neutral steps of the write path that every Store implementation shares, so that
// SQLite and PostgreSQL stamp and validate resources identically.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "fhir/value.h"

namespace clinshub::store {

struct ResourceName {
  std::string type;
  std::string id;
};

// resourceType and id of a resource to be stored. kMalformed if either is missing, not a
// string, or the id breaks the FHIR id rule [A-Za-z0-9\-\.]{1,64}.
Result<ResourceName> NameOf(const fhir::Value& resource);

// FHIR instants are served with millisecond precision; storing the truncated value keeps
// ResourceVersion::last_updated equal to the meta.lastUpdated a client sees.
Timestamp TruncateToMillis(Timestamp t);

// lastUpdated for the next version of a resource: the clock's `now`, but never earlier than
// the previous version's, because clients use lastUpdated to order versions (_since, caches)
// and a clock stepped back by NTP must not reorder history.
Timestamp NextLastUpdated(Timestamp now, std::optional<Timestamp> previous);

// Sets the resource's id, placed right after resourceType when new (where FHIR writers put
// it), so a store-assigned id (a reporting unit's Bundle) reads like a client-given one.
void SetId(fhir::Value& resource, const std::string& id);

// Sets meta.versionId and meta.lastUpdated. Creates meta (placed right after id, where FHIR
// writers conventionally put it) if missing; keeps every other meta member (profile, tag,
// security). kMalformed if meta exists but is not an object.
Status StampMeta(fhir::Value& resource, int64_t version, Timestamp last_updated);

}  // namespace clinshub::store
