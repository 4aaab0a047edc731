#include "store/open_store.h"

#include <regex>

#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"

namespace clinshub::store {

namespace {

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// Moves the `schema=` query parameter of a PostgreSQL URI into location.schema.
StoreLocation SplitSchema(const std::string& uri) {
  StoreLocation location{StoreBackend::kPostgres, uri, ""};
  const size_t query = uri.find('?');
  if (query == std::string::npos) return location;
  std::string kept;
  size_t start = query + 1;
  while (start <= uri.size()) {
    size_t end = uri.find('&', start);
    if (end == std::string::npos) end = uri.size();
    const std::string param = uri.substr(start, end - start);
    if (StartsWith(param, "schema=")) {
      location.schema = param.substr(7);
    } else if (!param.empty()) {
      kept += (kept.empty() ? "" : "&") + param;
    }
    start = end + 1;
  }
  location.target = uri.substr(0, query) + (kept.empty() ? "" : "?" + kept);
  return location;
}

}  // namespace

Result<StoreLocation> ParseStoreLocation(const std::string& url_or_path) {
  if (url_or_path.empty()) return MalformedError("the store location is empty", "store");
  if (StartsWith(url_or_path, "postgresql://") || StartsWith(url_or_path, "postgres://")) {
    return SplitSchema(url_or_path);
  }
  if (StartsWith(url_or_path, "sqlite:")) {
    std::string path = url_or_path.substr(7);
    if (path.empty()) return MalformedError("sqlite: needs a path", "store");
    return StoreLocation{StoreBackend::kSqlite, std::move(path)};
  }
  return StoreLocation{StoreBackend::kSqlite, url_or_path};
}

Result<std::unique_ptr<Store>> OpenStore(const std::string& url_or_path,
                                         const OpenStoreOptions& options, const Clock& clock) {
  Result<StoreLocation> location = ParseStoreLocation(url_or_path);
  if (!location.ok()) return location.take_status();
  if (location->backend == StoreBackend::kPostgres) {
    PostgresOptions pg;
    pg.conninfo = location->target;
    pg.schema = location->schema;
    pg.connections = options.connections;
    pg.ids = options.ids;
    return OpenPostgresStore(pg, clock);
  }
  SqliteOptions sqlite;
  sqlite.path = location->target;
  sqlite.read_connections = options.connections;
  sqlite.ids = options.ids;
  sqlite.relaxed_read_audit_sync = !options.fsync_read_audits;
  return OpenSqliteStore(sqlite, clock);
}

Status MigrateStore(const std::string& url_or_path, const Clock& clock) {
  Result<StoreLocation> location = ParseStoreLocation(url_or_path);
  if (!location.ok()) return location.take_status();
  if (location->backend == StoreBackend::kPostgres) {
    PostgresOptions pg;
    pg.conninfo = location->target;
    pg.schema = location->schema;
    return MigratePostgres(pg, clock);
  }
  // Opening the SQLite store migrates it; closing drains nothing (no writes were queued).
  Result<std::unique_ptr<Store>> store = OpenStore(url_or_path, OpenStoreOptions{1}, clock);
  return store.ok() ? Status::Ok() : store.take_status();
}

std::string RedactStoreLocation(const std::string& url_or_path) {
  // postgresql://user:secret@host → postgresql://user:***@host; password=secret → password=***
  static const std::regex uri_password(R"(^(postgres(?:ql)?://[^:/@]*:)[^@]*@)");
  static const std::regex query_password(R"(([?&]password=)[^&]*)");
  std::string s = std::regex_replace(url_or_path, uri_password, "$1***@");
  return std::regex_replace(s, query_password, "$1***");
}

}  // namespace clinshub::store
