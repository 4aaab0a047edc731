#include "pg_server.h"

#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace clinshub::testing {

namespace {

namespace fs = std::filesystem;

constexpr const char* kUser = "clinshub";  // the server's superuser, trusted on the socket
constexpr int kPort = 5432;                // names the socket file only; no TCP listener

bool Executable(const fs::path& p) { return ::access(p.c_str(), X_OK) == 0; }

}  // namespace

std::string PgTestServer::BinDir() {
  if (const char* path = std::getenv("PATH")) {
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      if (!dir.empty() && Executable(fs::path(dir) / "initdb") &&
          Executable(fs::path(dir) / "pg_ctl")) {
        return dir;
      }
    }
  }
  // Debian keeps server binaries off PATH; take the newest installed version.
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    if (Executable(entry.path() / "bin" / "initdb")) found.push_back(entry.path() / "bin");
  }
  if (found.empty()) return "";
  std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) {
    return std::stoi(a.parent_path().filename().string()) <
           std::stoi(b.parent_path().filename().string());
  });
  return found.back().string();
}

Result<std::unique_ptr<PgTestServer>> PgTestServer::Start() {
  const std::string bin = BinDir();
  if (bin.empty()) {
    return UnavailableError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in "
        "/usr/lib/postgresql/*/bin; scripts/setup.sh installs postgresql-15");
  }
  // Short base path: a unix socket path must fit in 107 bytes.
  std::string tmpl = "/tmp/clinshub-pg-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return UnavailableError("mkdtemp " + tmpl + " failed");
  std::string run_as;
  if (::geteuid() == 0) {
    for (const char* user : {"postgres", "nobody"}) {
      const passwd* pw = ::getpwnam(user);
      if (pw == nullptr) continue;
      run_as = user;
      if (::chown(tmpl.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        return UnavailableError("chown " + tmpl + " to " + user + " failed");
      }
      break;
    }
    if (run_as.empty()) {
      return UnavailableError("running as root and no unprivileged user (postgres, nobody)");
    }
  }
  std::unique_ptr<PgTestServer> server(new PgTestServer(bin, tmpl, run_as));
  if (!server->RunTool("initdb -D " + tmpl + "/data -U " + kUser +
                       " -A trust -E UTF8 --locale=C --no-sync --no-instructions")) {
    return UnavailableError("initdb failed:\n" + server->Log());
  }
  {
    std::ofstream conf(tmpl + "/data/postgresql.conf", std::ios::app);
    conf << "listen_addresses = ''\n"
         << "unix_socket_directories = '" << tmpl << "'\n"
         << "port = " << kPort << "\n"
         << "max_connections = 60\n"
         << "shared_buffers = 32MB\n"
         // Durable commits, as in production: the crash tests rely on them.
         << "fsync = on\nsynchronous_commit = on\n"
         << "log_min_messages = warning\n";
    if (!conf) return UnavailableError("cannot write postgresql.conf in " + tmpl);
  }
  CLINSHUB_RETURN_IF_ERROR(server->Restart());
  return server;
}

PgTestServer::~PgTestServer() {
  if (running_) (void)Stop(true);
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

bool PgTestServer::RunTool(const std::string& args) const {
  std::string command = bin_dir_ + "/" + args + " >>" + dir_ + "/server.log 2>&1";
  if (!run_as_.empty()) {
    // Server output goes to a file the tool (not root) writes: create it first, owned by it.
    command = "runuser -u " + run_as_ + " -- sh -c '" + command + "'";
  }
  return std::system(command.c_str()) == 0;
}

Status PgTestServer::Restart() {
  if (!RunTool("pg_ctl -D " + dir_ + "/data -w -t 60 start")) {
    return UnavailableError("pg_ctl start failed:\n" + Log());
  }
  running_ = true;
  return Status::Ok();
}

Status PgTestServer::Stop(bool immediate) {
  if (!RunTool("pg_ctl -D " + dir_ + "/data -w -t 60 -m " +
               std::string(immediate ? "immediate" : "fast") + " stop")) {
    return UnavailableError("pg_ctl stop failed:\n" + Log());
  }
  running_ = false;
  return Status::Ok();
}

std::string PgTestServer::conninfo(const std::string& extra) const {
  std::string s = "host=" + dir_ + " port=" + std::to_string(kPort) + " user=" + kUser +
                  " dbname=postgres connect_timeout=5";
  if (!extra.empty()) s += " " + extra;
  return s;
}

std::string PgTestServer::url() const {
  return "postgresql:///postgres?host=" + dir_ + "&port=" + std::to_string(kPort) +
         "&user=" + kUser;
}

std::string PgTestServer::Log() const {
  std::ifstream in(dir_ + "/server.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace clinshub::testing
