// Every row of every table of a running server's SQLite store, read through a separate
// read-only connection: two snapshots compare equal when hostile requests changed nothing.
#pragma once

#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_store.h"

namespace clinshub::testing {

// "table|col1|col2|..." per row, sorted; empty (plus a failure) if the store cannot be read.
inline std::vector<std::string> StoreSnapshot(const std::string& data_dir) {
  std::vector<std::string> rows;
  sqlite3* db = nullptr;
  std::string file = store::SqliteDatabaseFile(data_dir);
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << file;
    sqlite3_close(db);
    return rows;
  }
  sqlite3_busy_timeout(db, 10'000);
  auto query = [&](const std::string& sql, auto&& row) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
      return;
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) row(stmt);
    sqlite3_finalize(stmt);
  };
  std::vector<std::string> tables;
  query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", [&](sqlite3_stmt* s) {
    tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
  });
  for (const std::string& table : tables) {
    rows.push_back("table " + table);
    query("SELECT * FROM \"" + table + "\"", [&](sqlite3_stmt* s) {
      std::string row = table;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        const void* blob = sqlite3_column_blob(s, i);
        row += '|';
        if (blob != nullptr) {
          row.append(static_cast<const char*>(blob),
                     static_cast<size_t>(sqlite3_column_bytes(s, i)));
        }
      }
      rows.push_back(std::move(row));
    });
  }
  sqlite3_close(db);
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace clinshub::testing
