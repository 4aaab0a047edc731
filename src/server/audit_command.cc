#include "server/audit_command.h"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "common/clock.h"
#include "store/open_store.h"

namespace clinshub::server {
namespace {

struct AuditOptions {
  std::string data_dir = "./data";
  std::string store;
  std::string person;
  std::string actor;
  size_t limit = 100;
};

Result<std::unique_ptr<store::Store>> Open(const AuditOptions& o, const Clock& clock) {
  std::error_code ec;
  if (o.store.empty() && !std::filesystem::is_directory(o.data_dir, ec)) {
    return UnavailableError("No data directory " + o.data_dir);  // never create one here
  }
  return store::OpenStore(o.store.empty() ? o.data_dir : o.store, {}, clock);
}

// Exit 0 when the chain is intact, 1 when it is broken, 2 when the store cannot be read.
int Verify(const AuditOptions& o) {
  SystemClock clock;
  auto store = Open(o, clock);
  if (!store.ok()) {
    std::fprintf(stderr, "audit verify: %s\n", store.status().ToString().c_str());
    return 2;
  }
  Result<store::AuditVerification> v = (*store)->VerifyAudit();
  if (!v.ok()) {
    std::fprintf(stderr, "audit verify: %s\n", v.status().ToString().c_str());
    return 2;
  }
  if (!v->intact) {
    std::printf("audit chain BROKEN at record %lld: %s (%lld records verified before it)\n",
                static_cast<long long>(v->first_bad_seq), v->problem.c_str(),
                static_cast<long long>(v->records));
    return 1;
  }
  std::string head;
  store::AuditQuery last;
  last.after_seq = v->records > 0 ? v->records - 1 : 0;
  last.limit = 1;
  if (auto tail = (*store)->ListAudit(last); tail.ok() && !tail->empty()) head = tail->back().hash;
  std::printf("audit chain intact: %lld records%s%s\n", static_cast<long long>(v->records),
              head.empty() ? "" : "; head ", head.c_str());
  return 0;
}

int List(const AuditOptions& o) {
  SystemClock clock;
  auto store = Open(o, clock);
  if (!store.ok()) {
    std::fprintf(stderr, "audit list: %s\n", store.status().ToString().c_str());
    return 2;
  }
  store::AuditQuery q;
  q.person_key = o.person;
  q.actor = o.actor;
  q.limit = o.limit;
  auto events = (*store)->ListAudit(q);
  if (!events.ok()) {
    std::fprintf(stderr, "audit list: %s\n", events.status().ToString().c_str());
    return 2;
  }
  for (const store::AuditEvent& e : *events) {
    std::printf("%lld\t%s\t%s:%s\t%s\t%s\t%s\t%s\t%s\t%d\t%zu items\t%s\n",
                static_cast<long long>(e.seq), FormatInstant(e.time).c_str(),
                e.actor_kind.c_str(), e.actor.c_str(), e.purpose.c_str(), e.action.c_str(),
                e.person_key.c_str(), e.target.c_str(), e.outcome.c_str(), e.http_status,
                e.items.size(), e.rule.c_str());
  }
  return 0;
}

}  // namespace

CLI::App* AddAuditCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<AuditOptions>();
  CLI::App* audit = app.add_subcommand("audit", "Verify and query the hash-chained audit trail");
  audit->require_subcommand(1);
  auto add_store = [&](CLI::App* cmd) {
    cmd->add_option("--data", options->data_dir, "Data directory of the default SQLite store")
        ->capture_default_str();
    cmd->add_option("--store", options->store,
                    "Store: a path, sqlite:PATH or postgresql://…; default: SQLite in --data");
  };
  CLI::App* verify = audit->add_subcommand(
      "verify", "Recompute every record's hash and link; exit 1 if any was altered or removed");
  add_store(verify);
  verify->callback([options, &exit_code] { exit_code = Verify(*options); });
  CLI::App* list = audit->add_subcommand(
      "list", "List audit records (tab-separated), oldest first, by person and/or actor");
  add_store(list);
  list->add_option("--person", options->person, "Person key");
  list->add_option("--actor", options->actor, "Institution code or actor name");
  list->add_option("--limit", options->limit, "At most this many records")->capture_default_str();
  list->callback([options, &exit_code] { exit_code = List(*options); });
  return audit;
}

}  // namespace clinshub::server
