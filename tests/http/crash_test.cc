// Crash safety of the whole server: concurrent ingest over HTTP into the real `clinshub`
// binary, `kill -9` at random moments, restart, many times. Afterwards every acknowledged
// unit is present and complete, no unit is half-stored, the audit chain verifies and the
// store passes its integrity check.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "common/japanese_text.h"
#include "fhir/json.h"
#include "generator/generator.h"
#include "store/sqlite/sqlite_store.h"
#include "support/http_client.h"
#include "support/temp_dir.h"

namespace clinshub {
namespace {

using generator::GeneratedSubmission;
using testing::HttpClient;
using testing::TempDir;

constexpr char kSubjectHeader[] = "X-Test-Client-Subject";

// Opens the store in this process (the server must not be running), applies `fn`, closes.
template <typename Fn>
void WithStore(const std::string& data, Fn fn) {
  SystemClock clock;
  store::SqliteOptions options;
  options.path = data;
  auto store = store::OpenSqliteStore(options, clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  fn(**store);
}

struct Server {
  pid_t pid = -1;
  uint16_t port = 0;
};

Server Start(const std::string& data) {
  int out[2];
  if (pipe(out) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    std::string binary = std::string(CLINSHUB_BINARY_DIR) + "/clinshub";
    execl(binary.c_str(), binary.c_str(), "serve", "--port", "0", "--plain-http",
          "--trusted-subject-header", kSubjectHeader, "--data", data.c_str(), "--log-level",
          "error", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  FILE* pipe_in = fdopen(out[0], "r");
  char line[256] = {};
  Server s;
  s.pid = pid;
  if (fgets(line, sizeof line, pipe_in) != nullptr) {
    std::string text(line);
    size_t colon = text.rfind(':');
    if (colon != std::string::npos) s.port = static_cast<uint16_t>(std::stoi(text.substr(colon + 1)));
  }
  fclose(pipe_in);
  return s;
}

TEST(CrashTest, KillNineDuringConcurrentIngestLosesNoAcknowledgedUnitAndStoresNoPartialOne) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  generator::Generator gen(generator::GeneratorOptions{.seed = 99, .persons = 60});
  std::vector<GeneratedSubmission> all;
  for (const generator::Person& p : gen.population().persons) {
    for (GeneratedSubmission& s : gen.SubmissionsFor(p)) all.push_back(std::move(s));
  }
  // Items each unit must have when stored: what extraction yields for its bundle (documents
  // contribute their prescriptions), counted from the generator's expectation.
  std::map<std::string, size_t> expected_items;
  for (const GeneratedSubmission& s : all) {
    size_t n = 0;
    for (const generator::ExpectedItem& item : s.items) {
      if (item.kind != generator::ItemKind::kDocument) ++n;
    }
    expected_items[s.bundle_identifier] = n;
  }
  std::filesystem::create_directories(data);
  WithStore(data, [&](store::Store& store) {
    store::WriteBatch seed;
    for (const generator::Institution& i : gen.population().institutions) {
      store::InstitutionRecord r;
      r.code = i.code;
      r.name = i.name;
      r.kana = i.kana;
      r.kind = "hospital";
      seed.ops.emplace_back(store::PutInstitution{r});
    }
    for (const generator::Person& p : gen.population().persons) {
      for (const generator::HeldIdentifier& h : p.identifiers) {
        seed.ops.emplace_back(store::PutRosterEntry{{h.system, NormaliseIdentifier(h.value),
                                                     "P" + std::to_string(p.index), h.from,
                                                     h.to}});
      }
    }
    ASSERT_TRUE(store.Commit(std::move(seed)).ok());
  });

  std::mutex mu;
  std::map<std::string, int> acknowledged;  // bundle identifier → times acknowledged
  std::mt19937 rng(12345);
  std::atomic<size_t> next{0};
  constexpr int kRounds = 6;
  for (int round = 0; round < kRounds && next < all.size(); ++round) {
    Server server = Start(data);
    ASSERT_GT(server.port, 0) << "server did not start in round " << round;
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < 4; ++c) {
      clients.emplace_back([&] {
        HttpClient client("127.0.0.1", server.port);
        while (!stop) {
          size_t i = next.fetch_add(1);
          if (i >= all.size()) return;
          const GeneratedSubmission& s = all[i];
          auto r = client.SendJson("POST", "/Bundle", fhir::WriteJson(s.bundle),
                                   {{kSubjectHeader, "CN=" + s.institution_code}});
          if (r.ok() && (r->status == 201 || r->status == 200)) {
            std::lock_guard lock(mu);
            ++acknowledged[s.bundle_identifier];
          } else if (r.ok()) {
            ADD_FAILURE() << "unexpected " << r->status << ": " << r->body;
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 400));
    kill(server.pid, SIGKILL);
    int status = 0;
    waitpid(server.pid, &status, 0);
    stop = true;
    for (std::thread& t : clients) t.join();
  }
  ASSERT_GT(acknowledged.size(), 20u) << "too little ingest to prove anything";

  WithStore(data, [&](store::Store& store) {
    EXPECT_TRUE(store.CheckIntegrity().ok());
    auto audit = store.VerifyAudit();
    ASSERT_TRUE(audit.ok());
    EXPECT_TRUE(audit->intact) << audit->problem;
    size_t stored_units = 0;
    for (const GeneratedSubmission& s : all) {
      auto units = store.FindUnits(generator::kBundleIdentifierSystem, s.bundle_identifier);
      ASSERT_TRUE(units.ok());
      const bool acked = acknowledged.count(s.bundle_identifier) > 0;
      if (acked) EXPECT_EQ(units->size(), 1u) << "acknowledged unit lost: " << s.bundle_identifier;
      for (const store::UnitRecord& u : *units) {
        ++stored_units;
        auto items = store.ListItems(u.key.person_key);
        ASSERT_TRUE(items.ok());
        size_t mine = 0;
        for (const store::StoredItem& item : *items) mine += item.bundle_id == u.bundle_id;
        EXPECT_EQ(mine, expected_items[s.bundle_identifier])
            << "partial unit " << s.bundle_identifier;
        auto bundle = store.Read("Bundle", u.bundle_id);
        EXPECT_TRUE(bundle.ok()) << "unit without its Bundle: " << s.bundle_identifier;
      }
    }
    EXPECT_GE(stored_units, acknowledged.size());
  });
}

}  // namespace
}  // namespace clinshub
