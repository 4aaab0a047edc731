#include "store/postgres/pg_conn.h"

#include <libpq-fe.h>

#include <cstdlib>

namespace clinshub::store::postgres {

namespace {

std::string Trimmed(const char* message) {
  std::string s = message == nullptr ? "" : message;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// SQLSTATE → Status. See the header for the policy.
Status MapError(const std::string& sqlstate, bool connection_lost, const std::string& message) {
  const std::string text = "postgres: " + message;
  if (connection_lost || sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("53", 0) == 0 ||
      sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03" ||
      sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
    return UnavailableError(text);
  }
  if (sqlstate == "23505") {
    return Status::Error(ErrorCode::kConflict, "conflict",
                         text + " (a concurrent writer got there first; retry)");
  }
  return InternalError(text + (sqlstate.empty() ? "" : " [SQLSTATE " + sqlstate + "]"));
}

}  // namespace

Params& Params::Text(std::string_view v) {
  values_.emplace_back(v);
  null_.push_back(false);
  return *this;
}

Params& Params::Int64(int64_t v) { return Text(std::to_string(v)); }

Params& Params::Null() {
  values_.emplace_back();
  null_.push_back(true);
  return *this;
}

std::vector<const char*> Params::Pointers() const {
  std::vector<const char*> p(values_.size());
  for (size_t i = 0; i < values_.size(); ++i) p[i] = null_[i] ? nullptr : values_[i].c_str();
  return p;
}

Rows::Rows(pg_result* result) : result_(result) {}
Rows::~Rows() {
  if (result_ != nullptr) PQclear(result_);
}
Rows::Rows(Rows&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
int Rows::size() const { return result_ == nullptr ? 0 : PQntuples(result_); }
bool Rows::IsNull(int row, int col) const { return PQgetisnull(result_, row, col) != 0; }
std::string Rows::Text(int row, int col) const {
  return std::string(PQgetvalue(result_, row, col),
                     static_cast<size_t>(PQgetlength(result_, row, col)));
}
int64_t Rows::Int64(int row, int col) const {
  return std::strtoll(PQgetvalue(result_, row, col), nullptr, 10);
}

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& conninfo) {
  pg_conn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return UnavailableError("postgres: out of memory connecting");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return UnavailableError("postgres: cannot connect: " + message);
  }
  std::unique_ptr<PgConnection> c(new PgConnection(conn));
  // Silence NOTICEs (e.g. "relation already exists, skipping") instead of printing to stderr.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return c;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::Healthy() const { return !broken_ && PQstatus(conn_) == CONNECTION_OK; }

bool PgConnection::Idle() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }

Result<Rows> PgConnection::Check(pg_result* result, const std::string& what) {
  const ExecStatusType st = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
    return Rows(result);
  }
  const char* state = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_SQLSTATE);
  std::string message =
      Trimmed(result == nullptr ? PQerrorMessage(conn_) : PQresultErrorMessage(result));
  if (message.empty()) message = Trimmed(PQerrorMessage(conn_));
  const std::string sqlstate = state == nullptr ? "" : state;
  if (result != nullptr) PQclear(result);
  // No SQLSTATE: libpq itself failed (socket closed, server gone). 08…: connection exception;
  // 57P01-3: the server is shutting down or restarting. The connection is unusable after any.
  if (state == nullptr || PQstatus(conn_) != CONNECTION_OK || sqlstate.rfind("08", 0) == 0 ||
      sqlstate.rfind("57P0", 0) == 0) {
    broken_ = true;
  }
  return MapError(sqlstate, broken_, what + ": " + message);
}

Status PgConnection::Exec(const std::string& sql) {
  Result<Rows> r = Check(PQexec(conn_, sql.c_str()), sql.substr(0, 60));
  return r.ok() ? Status::Ok() : r.take_status();
}

Result<Rows> PgConnection::Query(const std::string& sql, const Params& params) {
  std::vector<const char*> values = params.Pointers();
  return Check(PQexecParams(conn_, sql.c_str(), params.size(), nullptr, values.data(), nullptr,
                            nullptr, 0),
               sql.substr(0, 60));
}

Status PgConnection::Prepare(const std::string& name, const std::string& sql) {
  Result<Rows> r = Check(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr),
                         "prepare " + name);
  return r.ok() ? Status::Ok() : r.take_status();
}

Result<Rows> PgConnection::Run(const std::string& name, const Params& params) {
  std::vector<const char*> values = params.Pointers();
  return Check(PQexecPrepared(conn_, name.c_str(), params.size(), values.data(), nullptr,
                              nullptr, 0),
               name);
}

Status PgConnection::Pipeline(const std::vector<Call>& calls, std::vector<Rows>& rows,
                              size_t& failed_at) {
  rows.clear();
  failed_at = calls.size();
  if (calls.empty()) return Status::Ok();
  auto lost = [&](const std::string& what) {
    broken_ = true;
    return UnavailableError("postgres: " + what + ": " + Trimmed(PQerrorMessage(conn_)));
  };
  if (PQenterPipelineMode(conn_) != 1) return lost("cannot enter pipeline mode");
  for (const Call& call : calls) {
    std::vector<const char*> values = call.params.Pointers();
    if (PQsendQueryPrepared(conn_, call.name.c_str(), call.params.size(), values.data(),
                            nullptr, nullptr, 0) != 1) {
      return lost("sending " + call.name);
    }
  }
  if (PQpipelineSync(conn_) != 1) return lost("sending the pipeline");
  Status first_error = Status::Ok();
  rows.reserve(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    pg_result* result = PQgetResult(conn_);
    if (result == nullptr) return lost("reading the result of " + calls[i].name);
    const ExecStatusType st = PQresultStatus(result);
    if (st == PGRES_PIPELINE_ABORTED) {
      PQclear(result);
      rows.emplace_back(nullptr);
    } else {
      Result<Rows> checked = Check(result, calls[i].name);
      if (checked.ok()) {
        rows.push_back(std::move(*checked));
      } else {
        rows.emplace_back(nullptr);
        if (first_error.ok()) {
          first_error = checked.take_status();
          failed_at = i;
        }
        if (broken_) return first_error;
      }
    }
    // Each call's results end with a null result.
    while (pg_result* extra = PQgetResult(conn_)) PQclear(extra);
  }
  pg_result* sync = PQgetResult(conn_);
  const bool synced = sync != nullptr && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  if (sync != nullptr) PQclear(sync);
  if (!synced) return lost("pipeline out of step");
  if (PQexitPipelineMode(conn_) != 1) return lost("cannot leave pipeline mode");
  return first_error;
}

}  // namespace clinshub::store::postgres
