#include "store/sqlite/sqlite_db.h"

#include <sqlite3.h>

#include <mutex>

#include "store/sqlite/page_cache_bound.h"

namespace clinshub::store::sqlite {
namespace {

// Page buffers each connection takes from one bulk allocation of its own and recycles through
// a free list (SQLITE_CONFIG_PAGECACHE with no buffer). In WAL mode a read connection drops its
// whole page cache whenever another connection has committed since its last read, and every
// read answered commits an audit event, so readers refill their caches hundreds of times a
// second: with SQLite's default of 20 bulk pages each refill was a malloc and a free of a
// ~4.3 KB buffer per page (10 % of the handler threads in the summary profile).
constexpr int kBulkPagesPerConnection = 512;

// Process-wide settings; SQLite accepts them only before it initialises, so the first
// Connection::Open applies them. Where something opened SQLite earlier (a test's raw
// connection), they are refused and SQLite keeps its defaults: all are optimisations only.
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    // No global memory statistics: with them every sqlite3_malloc and sqlite3_free takes one
    // process-wide mutex, which all read connections and the writer contend for. Nothing here
    // reads sqlite3_memory_used().
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, kBulkPagesPerConnection);
    (void)InstallPageCacheBound();
  });
}

}  // namespace

Status SqliteError(int rc, std::string_view what, sqlite3* db) {
  std::string message = "sqlite: " + std::string(what) + ": " + sqlite3_errstr(rc);
  if (db != nullptr && sqlite3_errcode(db) == rc) {
    message += " (";
    message += sqlite3_errmsg(db);
    message += ")";
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return UnavailableError(message + "; the database stayed locked beyond the busy timeout");
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
    case SQLITE_READONLY:
    case SQLITE_NOLFS:
    case SQLITE_INTERRUPT:
      return UnavailableError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return InternalError(message + "; the store file is damaged");
    default:
      return InternalError(message);
  }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::BindText(int index, std::string_view text) {
  int rc = sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                             SQLITE_TRANSIENT);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::BindBlob(int index, std::string_view bytes) {
  int rc = sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()),
                             SQLITE_TRANSIENT);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::BindInt64(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

Result<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) return SqliteError(bind_rc_, "bind", db_);
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(rc, sqlite3_sql(stmt_), db_);
}

Status Statement::Run() {
  while (true) {
    Result<bool> row = Step();
    if (!row.ok()) return row.take_status();
    if (!*row) return Status::Ok();
  }
}

int64_t Statement::ColumnInt64(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, column));
}

std::string_view Statement::ColumnBytes(int column) const {
  // sqlite3_column_blob first, then _bytes: the documented order that converts nothing.
  const void* data = sqlite3_column_blob(stmt_, column);
  if (data == nullptr) return {};
  return std::string_view(static_cast<const char*>(data), sqlite3_column_bytes(stmt_, column));
}

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, bool create,
                                                     int busy_timeout_ms) {
  ConfigureSqliteOnce();
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (create) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status st = SqliteError(rc, "open " + path, db);
    sqlite3_close_v2(db);
    return st;
  }
  // Extended codes tell SQLITE_IOERR_FSYNC from SQLITE_IOERR_WRITE in messages.
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  return std::unique_ptr<Connection>(new Connection(db));
}

Connection::~Connection() { sqlite3_close_v2(db_); }

Status Connection::Exec(const std::string& sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  sqlite3_free(error);
  if (rc != SQLITE_OK) return SqliteError(rc, sql, db_);
  return Status::Ok();
}

Result<std::unique_ptr<Statement>> Connection::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteError(rc, "prepare " + std::string(sql), db_);
  }
  return std::make_unique<Statement>(stmt, db_);
}

Result<std::string> Connection::QueryText(const std::string& sql) {
  Result<std::unique_ptr<Statement>> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.take_status();
  Result<bool> row = (*stmt)->Step();
  if (!row.ok()) return row.take_status();
  if (!*row) return InternalError("sqlite: " + sql + " returned no row");
  return (*stmt)->ColumnText(0);
}

bool Connection::InAutocommit() const { return sqlite3_get_autocommit(db_) != 0; }

}  // namespace clinshub::store::sqlite
