// The SQLite schema as an ordered list of migrations. Migrations are append-only: a released
// migration is never edited; changes come as a new one with the next version.
#pragma once

#include <cstdint>
#include <span>

#include "common/clock.h"
#include "common/status.h"
#include "store/sqlite/sqlite_db.h"

namespace clinshub::store::sqlite {

struct Migration {
  int64_t version;      // 1, 2, 3, … without gaps
  const char* name;     // what it adds, for operators reading schema_migrations
  const char* sql;      // one or more statements
};

std::span<const Migration> Migrations();

// Moves a person's item generation on (Store::ItemsGeneration); ?1 = person_key. Run in the
// transaction that changes the person's items.
inline constexpr char kBumpItemsGenerationSql[] =
    "INSERT INTO person_generation (person_key, generation) VALUES (?1, 1)"
    " ON CONFLICT (person_key) DO UPDATE SET generation = generation + 1";
int64_t LatestSchemaVersion();

// Brings the database to LatestSchemaVersion() in one transaction, recording each applied
// migration in schema_migrations(version, name, applied_at). A database whose schema is newer
// than this binary knows is refused with kInternal (an older binary must not write to it).
// Must run on the writer connection before any other statement.
Status Migrate(Connection& db, const Clock& clock);

}  // namespace clinshub::store::sqlite
