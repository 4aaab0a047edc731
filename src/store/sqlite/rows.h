// Row ↔ value conversions shared by the SQLite store's files.
#pragma once

#include <cstdint>
#include <memory>

#include "common/clock.h"
#include "store/sqlite/sqlite_db.h"
#include "store/units.h"

namespace clinshub::store::sqlite {

inline Timestamp FromMicros(int64_t micros) {
  return Timestamp(std::chrono::microseconds(micros));
}
inline int64_t ToMicros(Timestamp t) { return t.time_since_epoch().count(); }

// Columns every unit query selects, in this order (see RowToUnit); `prefix` is a table alias.
#define CLINSHUB_UNIT_COLUMNS(prefix)                                                        \
  prefix "person_key, " prefix "id_system, " prefix "id_value, " prefix "bundle_id, " prefix \
         "version, " prefix "status, " prefix "institution, " prefix "kind, " prefix         \
         "addressee, " prefix "content_hash, " prefix "first_registered, " prefix "last_changed"

// Prepares `sql` on `db` into `slot` (a unique_ptr<Statement>), returning the error otherwise.
#define CLINSHUB_SQLITE_PREPARE(slot, db, sql)                             \
  do {                                                                     \
    Result<std::unique_ptr<Statement>> prepared_ = (db).Prepare(sql);      \
    if (!prepared_.ok()) return prepared_.take_status();                   \
    (slot) = std::move(*prepared_);                                        \
  } while (0)

// Reads the 12 unit columns starting at `first`.
inline UnitRecord RowToUnit(const Statement& s, int first = 0) {
  UnitRecord u;
  u.key = UnitKey{s.ColumnText(first + 0), s.ColumnText(first + 1), s.ColumnText(first + 2)};
  u.bundle_id = s.ColumnText(first + 3);
  u.version = s.ColumnInt64(first + 4);
  u.status = static_cast<UnitStatus>(s.ColumnInt64(first + 5));
  u.institution = s.ColumnText(first + 6);
  u.kind = s.ColumnText(first + 7);
  u.addressee = s.ColumnText(first + 8);
  u.content_hash = s.ColumnText(first + 9);
  u.first_registered = FromMicros(s.ColumnInt64(first + 10));
  u.last_changed = FromMicros(s.ColumnInt64(first + 11));
  return u;
}

}  // namespace clinshub::store::sqlite
