// Versioned migrations of the PostgreSQL schema, recorded in schema_migrations and applied at
// start-up (or by `clinshub migrate`). They mirror src/store/sqlite/schema.cc version for
// version, so both backends speak of the same schema version.
#pragma once

#include <cstdint>
#include <span>

#include "common/clock.h"
#include "common/result.h"
#include "store/postgres/pg_conn.h"

namespace clinshub::store::postgres {

struct Migration {
  int64_t version;
  const char* name;
  const char* sql;
};

std::span<const Migration> Migrations();

// Moves the item generation (Store::ItemsGeneration) of every person in $1 (text[]) on; run in
// the transaction that changes their items.
inline constexpr char kBumpItemsGenerationsSql[] =
    "INSERT INTO person_generation (person_key, generation)"
    " SELECT DISTINCT p, 1 FROM unnest($1::text[]) AS t(p)"
    " ON CONFLICT (person_key) DO UPDATE SET generation = person_generation.generation + 1";
int64_t LatestSchemaVersion();

// Applies every migration newer than the database's, in one transaction holding an advisory
// lock, so hub processes starting together cannot apply one twice. kInternal if the database
// is newer than this build; kUnavailable if the server is away.
Status Migrate(PgConnection& db, const Clock& clock);

}  // namespace clinshub::store::postgres
