// `clinshub bench`: an operator's load tool (in the spirit of pgbench). It generates a seeded
// synthetic population (tools/generator), loads the directory and roster through the operator
// API, ingests every generated bundle through POST /Bundle as its sending institution over
// mutual TLS with N concurrent keep-alive connections, then runs the read workloads the server
// offers (found in its CapabilityStatement) and a mixed one, and prints a results table or
// JSON. See tools/loadtest/README.md and docs/performance.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace clinshub::loadtest {

struct BenchOptions {
  // Target: a running hub, or one started here on a temporary data directory (--spawn).
  std::string url;
  bool spawn = false;
  std::string server_binary;             // default: this executable (`clinshub`)
  std::vector<std::string> server_args;  // extra `clinshub serve` arguments
  std::string work_dir;                  // where --spawn puts its data directory
  bool keep_data = false;
  std::string data_dir;       // with --spawn: an existing data directory to serve
  bool assume_loaded = false; // the hub already holds the population: reads only

  // Identities: --pki issues them all from the hub CA; otherwise explicit files.
  std::string pki_dir;
  std::string cacert, cert, key;  // server CA; operator certificate and key
  std::string client_certs;       // DIR/<institution code>/{cert,key}.pem

  // Population and load.
  uint64_t seed = 1;
  int persons = 100;
  int institutions = 30;
  int connections = 8;
  double duration = 10;  // seconds per read workload
  int mixed_write_percent = 10;
  int readable_persons = 200;  // consents per reading institution (summary, search)
  bool accept_gzip = true;     // Accept-Encoding: gzip on every request
  std::vector<std::string> workloads = {"ingest", "read", "summary", "search", "inbox", "mixed"};

  bool json = false;
  bool quiet = false;        // no live progress
  bool allow_errors = false; // exit 0 even when requests failed
};

// Runs the whole benchmark; returns the process exit code (0 ok, 1 set-up failure, 2 when
// requests failed and allow_errors is off).
int RunBench(const BenchOptions& options);

// Registers the `bench` sub-command on `app`; its callback runs RunBench and stores the exit
// code in `exit_code`, which must outlive parsing.
CLI::App* AddBenchCommand(CLI::App& app, int& exit_code);

}  // namespace clinshub::loadtest
