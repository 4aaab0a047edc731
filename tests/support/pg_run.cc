// pg_run COMMAND [ARGS…]: runs COMMAND against a throwaway PostgreSQL server (pg_server.h) and
// exits with its exit code, after stopping and deleting the server. COMMAND finds the server
// in CLINSHUB_TEST_STORE (a postgresql:// URI); tests/http/server_fixture.h then runs each
// test's server on that store, in a schema of its own. Exit code 77 (CTest: skipped) when
// PostgreSQL is not installed.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "pg_server.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: pg_run COMMAND [ARGS...]\n");
    return 2;
  }
  if (clinshub::testing::PgTestServer::BinDir().empty()) {
    std::printf("SKIPPED: PostgreSQL server binaries not installed (scripts/setup.sh)\n");
    return 77;
  }
  auto server = clinshub::testing::PgTestServer::Start();
  if (!server.ok()) {
    std::fprintf(stderr, "pg_run: %s\n", server.status().ToString().c_str());
    return 1;
  }
  ::setenv("CLINSHUB_TEST_STORE", (*server)->url().c_str(), 1);
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child == 0) {
    ::execvp(argv[1], argv + 1);
    std::perror("pg_run: exec");
    _exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
  }
  server->reset();  // stop and delete
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  std::fprintf(stderr, "pg_run: %s died of signal %d\n", argv[1], WTERMSIG(status));
  return 1;
}
