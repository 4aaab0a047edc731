// `clinshub bench` at a tiny size against a server it spawns: it must finish, report no failed
// request, and print JSON that parses. No timing is checked (benchmarks are not tests).
#include <sys/wait.h>

#include <stdlib.h>

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "fhir/json.h"

namespace clinshub::loadtest {
namespace {

struct BenchRun {
  int exit_code = -1;
  std::string out;
};

BenchRun RunBench(const std::string& args) {
  const std::string command = std::string(CLINSHUB_BINARY_DIR) + "/clinshub bench " + args;
  BenchRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) run.out.append(buf, n);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

uint64_t Integer(const fhir::Value& v, std::string_view key) {
  const fhir::Value* field = v.Find(key);
  return field != nullptr && field->is_number() ? std::stoull(field->text()) : 0;
}

TEST(LoadTool, SpawnedTinyRunHasNoErrorsAndPrintsJson) {
  BenchRun run = RunBench("--spawn --persons 20 --seed 7 -c 4 --duration 0.5 --json --quiet");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  Result<fhir::Value> json = fhir::ParseJson(run.out);
  ASSERT_TRUE(json.ok()) << json.status().ToString() << "\n" << run.out;
  EXPECT_EQ(Integer(*json, "errors"), 0u);

  const fhir::Value* generated = json->Find("generated");
  ASSERT_NE(generated, nullptr);
  const uint64_t bundles = Integer(*generated, "bundles");
  EXPECT_GT(bundles, 0u);

  const fhir::Value* workloads = json->Find("workloads");
  ASSERT_NE(workloads, nullptr);
  bool ingested = false, read = false;
  for (const fhir::Value& w : workloads->items()) {
    if (w.StringAt("name") == "ingest") {
      ingested = true;
      EXPECT_EQ(Integer(w, "ok"), bundles) << "every generated bundle is stored";
    }
    if (w.StringAt("name") == "read") read = Integer(w, "ok") > 0;
  }
  EXPECT_TRUE(ingested);
  EXPECT_TRUE(read);

  const fhir::Value* server = json->Find("server");
  ASSERT_NE(server, nullptr);
  EXPECT_GT(Integer(*server, "rss_bytes"), 0u);
  EXPECT_GT(Integer(*server, "disk_bytes"), 0u);
}

// A population loaded once (--keep-data) is read again by a server spawned on the kept data
// (--data --assume-loaded): nothing is loaded twice, the summaries find it all.
TEST(LoadTool, ReadsAgainAPopulationLoadedByAnEarlierRun) {
  char pattern[] = "/tmp/clinshub-loadtest-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  const std::string work = pattern;
  BenchRun load = RunBench("--spawn --persons 20 --seed 7 -c 2 --workloads ingest --keep-data "
                           "--work-dir " + work + " --quiet");
  ASSERT_EQ(load.exit_code, 0) << load.out;
  std::string data;
  {
    // The kept directory: the only entry under the work directory.
    FILE* ls = ::popen(("ls -d " + work + "/clinshub-bench-*/data").c_str(), "r");
    char buf[512] = "";
    if (ls != nullptr && std::fgets(buf, sizeof buf, ls) != nullptr) data = buf;
    if (ls != nullptr) ::pclose(ls);
    while (!data.empty() && (data.back() == '\n' || data.back() == '\r')) data.pop_back();
  }
  ASSERT_FALSE(data.empty()) << "no kept data directory under " << work;
  BenchRun again = RunBench("--spawn --data " + data + " --assume-loaded --persons 20 --seed 7 "
                            "-c 2 --duration 0.5 --workloads summary --json --quiet");
  std::system(("rm -rf " + work).c_str());
  ASSERT_EQ(again.exit_code, 0) << again.out;
  Result<fhir::Value> json = fhir::ParseJson(again.out);
  ASSERT_TRUE(json.ok()) << json.status().ToString() << "\n" << again.out;
  EXPECT_EQ(Integer(*json, "errors"), 0u);
  bool summaries = false, ingested = false;
  for (const fhir::Value& w : json->Find("workloads")->items()) {
    if (w.StringAt("name") == "summary") {
      summaries = Integer(w, "ok") > 0;
      // Asked for gzip, got it, and decoded it: far fewer bytes on the wire than decoded.
      EXPECT_LT(Integer(w, "response_wire_bytes") * 4, Integer(w, "response_body_bytes"));
    }
    if (w.StringAt("name") == "ingest") ingested = true;
  }
  EXPECT_TRUE(summaries) << again.out;
  EXPECT_FALSE(ingested) << "the population was loaded again";
}

TEST(LoadTool, RefusesWithoutATarget) {
  BenchRun run = RunBench("--persons 1 --quiet 2>/dev/null");
  EXPECT_EQ(run.exit_code, 1);
}

}  // namespace
}  // namespace clinshub::loadtest
