#include "loadtest/spawned_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace clinshub::loadtest {

namespace {

uint64_t StatusField(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::strtoull(line.c_str() + field.size() + 1, nullptr, 10) * 1024;  // kB
    }
  }
  return 0;
}

}  // namespace

Result<std::unique_ptr<SpawnedServer>> SpawnedServer::Start(const std::string& binary,
                                                            const std::string& data_dir,
                                                            const std::vector<std::string>& extra) {
  std::vector<std::string> args = {binary,  "serve",       "--data", data_dir, "--port", "0",
                                   "--bind", "127.0.0.1", "--log-level", "warn"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return UnavailableError("pipe: " + std::string(strerror(errno)));
  const pid_t pid = ::fork();
  if (pid < 0) return UnavailableError("fork: " + std::string(strerror(errno)));
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::unique_ptr<SpawnedServer> server(new SpawnedServer());
  server->pid_ = pid;
  server->stdout_fd_ = fds[0];  // kept open: the server prints a few more lines after its URL

  constexpr std::string_view kListening = "clinshub listening on ";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::string out;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{fds[0], POLLIN, 0};
    if (::poll(&pfd, 1, 200) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;  // the server exited
    out.append(buf, static_cast<size_t>(n));
    const size_t at = out.find(kListening);
    const size_t eol = at == std::string::npos ? at : out.find('\n', at);
    if (eol != std::string::npos) {
      server->url_ = out.substr(at + kListening.size(), eol - at - kListening.size());
      return server;
    }
  }
  return UnavailableError("the spawned server did not start (" + binary + " serve --data " +
                          data_dir + "); its output: " + out);
}

SpawnedServer::~SpawnedServer() { Stop(); }

uint64_t SpawnedServer::RssBytes() const { return pid_ > 0 ? StatusField(pid_, "VmRSS") : 0; }
uint64_t SpawnedServer::PeakRssBytes() const {
  return pid_ > 0 ? StatusField(pid_, "VmHWM") : 0;
}

int SpawnedServer::Stop() {
  int result = 0;
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  stdout_fd_ = -1;
  return result;
}

uint64_t DataBytes(const std::string& dir) {
  namespace fs = std::filesystem;
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_directory(ec) && it->path().filename() == "pki") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

}  // namespace clinshub::loadtest
