// clinshub: the command-line entry point. Sub-commands: serve, cert, migrate, directory,
// roster, bench (tools/loadtest), version.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "access/bulk_load.h"
#include "access/pki/certificate_authority.h"
#include "loadtest/bench_command.h"
#include "server/audit_command.h"
#include "server/purge_command.h"
#include "server/server_app.h"
#include "server/signal_waiter.h"
#include "store/open_store.h"

namespace {

using clinshub::server::ServerConfig;

int Serve(ServerConfig config, const std::string& log_level) {
  const std::string config_data_dir = config.data_dir;
  // Logs go to stderr; stdout carries only the "listening" line that scripts parse.
  auto logger = std::make_shared<spdlog::logger>(
      "clinshub", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  logger->set_level(spdlog::level::from_str(log_level));
  logger->flush_on(spdlog::level::info);

  // Before anything starts, so an early SIGTERM is not lost.
  clinshub::server::SignalWaiter signals;
  auto app = clinshub::server::ServerApp::Start(std::move(config), *logger);
  if (!app.ok()) {
    logger->critical("cannot start: {}", app.status().ToString());
    return 1;
  }
  std::printf("clinshub listening on %s\n", (*app)->url().c_str());
  if (!(*app)->pki_dir().empty()) {
    // First contact: without these lines nobody knows how to get through mutual TLS.
    const std::string& pki = (*app)->pki_dir();
    std::printf(
        "Clients need a certificate from the hub CA (%s/ca.pem). For example:\n"
        "  clinshub cert issue --data %s --institution 1312345678 --name 'Example Hospital' "
        "--out client\n"
        "  curl --cacert client/ca.pem --cert client/cert.pem --key client/key.pem "
        "%s/metadata\n",
        pki.c_str(), config_data_dir.c_str(), (*app)->url().c_str());
  }
  std::fflush(stdout);
  int signal = signals.Wait();
  logger->info("signal {} received; shutting down gracefully", signal);
  (*app)->Shutdown();
  logger->info("stopped");
  return 0;
}

// CLI11 2.1 reads config files only for the top-level app, but the file belongs to `serve`.
// So `serve --config FILE` is expanded here into `--key=value` arguments placed before the
// command-line ones; with TakeLast, an option given on the command line wins over the file.
// Keys may sit at the top level or under a [serve] section (TOML or INI syntax).
clinshub::Result<std::vector<std::string>> ExpandConfigFile(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  auto serve = std::find(args.begin(), args.end(), "serve");
  if (serve == args.end()) return args;
  std::string path;
  for (auto it = serve + 1; it != args.end(); ++it) {
    if (*it == "--config" && it + 1 != args.end()) path = *(it + 1);
    if (it->rfind("--config=", 0) == 0) path = it->substr(9);
  }
  if (path.empty()) return args;
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(path);
  } catch (const CLI::Error& e) {
    return clinshub::MalformedError("Cannot read config file " + path + ": " + e.what());
  }
  std::vector<std::string> from_file;
  for (const CLI::ConfigItem& item : items) {
    bool top = item.parents.empty() || (item.parents.size() == 1 && item.parents[0] == "serve");
    if (!top || item.name == "++" || item.name == "--" || item.name == "config") continue;
    for (const std::string& value : item.inputs) from_file.push_back("--" + item.name + "=" + value);
  }
  args.insert(serve + 1, from_file.begin(), from_file.end());
  return args;
}

// `clinshub cert ...`: the operator's side of the built-in CA. Each returns the exit code.
struct CertOptions {
  std::string data_dir = "./data";
  std::string institution;
  std::string portal;    // or a portal certificate (CN portal:NAME)
  std::string op;        // or an operator certificate (CN operator:NAME)
  std::string name;
  std::string out;
  int days = 730;
  std::string serial;
};

int Fail(const clinshub::Status& status) {
  std::fprintf(stderr, "%s\n", status.message().c_str());
  return 1;
}

clinshub::Result<std::unique_ptr<clinshub::access::pki::CertificateAuthority>> LoadCa(
    const CertOptions& o, const clinshub::Clock& clock) {
  return clinshub::access::pki::CertificateAuthority::Load(
      clinshub::server::PkiDir(o.data_dir), clock);
}

int CertInit(const CertOptions& o) {
  clinshub::SystemClock clock;
  std::string dir = clinshub::server::PkiDir(o.data_dir);
  if (clinshub::access::pki::CertificateAuthority::Exists(dir)) {
    std::printf("CA already present in %s (kept)\n", dir.c_str());
    return 0;
  }
  auto ca = clinshub::access::pki::CertificateAuthority::Create(dir, clock);
  if (!ca.ok()) return Fail(ca.status());
  std::printf("Created CA %s\n", (*ca)->ca_cert_path().c_str());
  return 0;
}

int CertIssue(const CertOptions& o) {
  clinshub::SystemClock clock;
  auto ca = LoadCa(o, clock);
  if (!ca.ok()) return Fail(ca.status());
  if (!o.institution.empty() + !o.portal.empty() + !o.op.empty() != 1) {
    return Fail(clinshub::MalformedError("Give exactly one of --institution, --portal, --operator"));
  }
  clinshub::access::pki::InstitutionCertificateRequest request;
  request.institution_code = o.institution;
  request.institution_name = o.name;
  request.days = o.days;
  const std::string role = !o.portal.empty() ? "portal" : !o.op.empty() ? "operator" : "";
  auto issued = role.empty() ? (*ca)->IssueInstitution(request)
                             : (*ca)->IssueRole(role, role == "portal" ? o.portal : o.op, o.days);
  if (!issued.ok()) return Fail(issued.status());
  clinshub::Status written =
      clinshub::access::pki::WriteClientBundle(o.out, *issued, (*ca)->ca_certificate_pem());
  if (!written.ok()) return Fail(written);
  const std::string whom = role.empty() ? "institution " + o.institution
                                        : role + " " + (role == "portal" ? o.portal : o.op);
  std::printf("Issued %s for %s into %s (cert.pem, key.pem, ca.pem)\n",
              issued->serial_hex.c_str(), whom.c_str(), o.out.c_str());
  return 0;
}

int CertRevoke(const CertOptions& o) {
  clinshub::SystemClock clock;
  auto ca = LoadCa(o, clock);
  if (!ca.ok()) return Fail(ca.status());
  clinshub::Status revoked = (*ca)->Revoke(o.serial);
  if (!revoked.ok()) return Fail(revoked);
  std::printf("Revoked %s; %s rewritten (a running server picks it up on the next connection)\n",
              o.serial.c_str(), (*ca)->crl_path().c_str());
  return 0;
}

int CertList(const CertOptions& o) {
  clinshub::SystemClock clock;
  auto ca = LoadCa(o, clock);
  if (!ca.ok()) return Fail(ca.status());
  auto entries = (*ca)->List();
  if (!entries.ok()) return Fail(entries.status());
  std::printf("%-32s  %-11s  %-20s  %-8s  %s\n", "SERIAL", "KIND", "NOT AFTER", "STATUS",
              "SUBJECT");
  for (const auto& e : *entries) {
    std::printf("%-32s  %-11s  %-20s  %-8s  %s\n", e.serial_hex.c_str(), e.kind.c_str(),
                e.not_after.c_str(), e.revoked_at.empty() ? "valid" : "revoked",
                e.subject.c_str());
  }
  return 0;
}

// `clinshub directory load FILE` / `clinshub roster load FILE`: the operator's bulk loads,
// straight into the store (the server may be running). The whole file is checked first
// (access/bulk_load.h), so a bad line stores nothing; then entries are committed in batches
// (loading is idempotent: rerunning after an interruption puts the same rows again).
struct LoadOptions {
  std::string file;
  std::string data_dir = "./data";
  std::string store;
};

// Every issue of a rejected file, one per line.
int Fail(const clinshub::Status& status, const std::string& file) {
  for (const clinshub::Issue& issue : status.issues()) {
    std::fprintf(stderr, "%s: %s\n", file.c_str(), issue.message.c_str());
  }
  std::fprintf(stderr, "%s: nothing was loaded\n", file.c_str());
  return 1;
}

int LoadIntoStore(const LoadOptions& o, bool roster) {
  std::ifstream in(o.file, std::ios::binary);
  if (!in) return Fail(clinshub::UnavailableError("Cannot read " + o.file));
  std::ostringstream text;
  text << in.rdbuf();
  const clinshub::access::BulkFormat format = clinshub::access::BulkFormatForPath(o.file);
  std::vector<clinshub::store::WriteOp> ops;
  std::string counts;
  if (roster) {
    auto parsed = clinshub::access::ParseRoster(text.str(), format);
    if (!parsed.ok()) return Fail(parsed.status(), o.file);
    for (auto& e : parsed->entries) ops.emplace_back(clinshub::store::PutRosterEntry{std::move(e)});
    counts = std::to_string(parsed->persons) + " persons, " + std::to_string(ops.size()) +
             " identifiers";
  } else {
    auto parsed = clinshub::access::ParseDirectory(text.str(), format);
    if (!parsed.ok()) return Fail(parsed.status(), o.file);
    for (auto& r : *parsed) ops.emplace_back(clinshub::store::PutInstitution{std::move(r)});
    counts = std::to_string(ops.size()) + " institutions";
  }
  clinshub::SystemClock clock;
  const std::string location = o.store.empty() ? o.data_dir : o.store;
  std::error_code ec;
  if (o.store.empty()) std::filesystem::create_directories(o.data_dir, ec);
  if (ec) return Fail(clinshub::UnavailableError("Cannot create " + o.data_dir + ": " + ec.message()));
  auto store = clinshub::store::OpenStore(location, {}, clock);
  if (!store.ok()) return Fail(store.status());
  clinshub::store::AuditEvent event;
  event.time = clock.Now();
  event.actor_kind = "operator";
  event.actor = "cli";
  event.purpose = "HOPERAT";
  event.action = roster ? "roster-manage" : "directory-manage";
  event.target = roster ? "$load-roster" : "$load-directory";
  event.outcome = "permit";
  event.rule = "operator";
  event.reason = "clinshub " + std::string(roster ? "roster" : "directory") + " load (" + counts + ")";
  constexpr size_t kBatch = 20000;
  for (size_t at = 0; at < ops.size(); at += kBatch) {
    clinshub::store::WriteBatch batch;
    const size_t end = std::min(ops.size(), at + kBatch);
    batch.ops.assign(std::make_move_iterator(ops.begin() + at),
                     std::make_move_iterator(ops.begin() + end));
    if (end == ops.size()) batch.ops.emplace_back(clinshub::store::AppendAudit{event});
    auto committed = (*store)->Commit(std::move(batch));
    if (!committed.ok()) return Fail(committed.status());
  }
  std::printf("loaded %s into %s\n", counts.c_str(),
              clinshub::store::RedactStoreLocation(location).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"clinshub: open implementation of Japan's EHR information sharing hub (JP-CLINS)"};
  app.require_subcommand(1);

  ServerConfig config;
  int consent_hours = 24;
  size_t item_cache_mb = config.api.item_cache_bytes >> 20;
  std::string log_level = "info";
  CLI::App* serve = app.add_subcommand("serve", "Run the FHIR server");
  serve->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::string config_file;  // expanded by ExpandConfigFile before parsing
  serve->add_option("--config", config_file,
                    "Read options from a TOML/INI file (keys as the long option names, at the "
                    "top or under [serve]); command-line options win")
      ->check(CLI::ExistingFile);
  serve->add_option("--bind", config.http.bind_address, "Address to listen on")
      ->capture_default_str();
  serve->add_option("--port", config.http.port, "TCP port; 0 picks a free one")
      ->capture_default_str();
  serve->add_option("--data", config.data_dir, "Data directory (created if missing)")
      ->capture_default_str();
  serve->add_option("--store", config.store,
                    "Store: a path or sqlite:PATH (SQLite), or postgresql://… (PostgreSQL); "
                    "default: SQLite in the data directory");
  serve->add_option("--store-connections", config.store_connections,
                    "Pooled database connections for reads")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve->add_flag("--fsync-read-audits", config.fsync_read_audits,
                  "SQLite: fsync every read's audit event before answering (default: written "
                  "to the WAL, survives kill -9, fsynced within 50 ms; docs/reliability.md)");
  serve->add_option("--item-cache-mb", item_cache_mb,
                    "Memory for persons' items kept rendered for $summary, checked against the "
                    "store on every read (0: off)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  serve->add_flag("--gzip,!--no-gzip", config.api.gzip_responses,
                  "gzip-code responses of 1 KB or more for clients sending Accept-Encoding: "
                  "gzip (default: on)");
  serve->add_option("--threads", config.http.io_threads, "IO threads (0: one per core)")
      ->capture_default_str();
  serve->add_option("--workers", config.http.worker_threads,
                    "Request handler threads (0: sixteen per core)")
      ->capture_default_str();
  serve->add_option("--max-connections", config.http.max_connections,
                    "Open connections; beyond it new ones get 503 + Retry-After")
      ->capture_default_str();
  serve->add_option("--max-in-flight", config.http.max_in_flight_requests,
                    "Requests being handled or queued; beyond it 503 + Retry-After "
                    "(0: 64 per worker)")
      ->capture_default_str();
  serve->add_option("--log-level", log_level, "trace, debug, info, warn, error, critical, off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  serve->add_option("--tls-cert", config.http.tls_cert_file, "Server certificate chain (PEM)")
      ->check(CLI::ExistingFile);
  serve->add_option("--tls-key", config.http.tls_key_file, "Server private key (PEM)")
      ->check(CLI::ExistingFile);
  serve->add_option("--tls-client-ca", config.http.tls_client_ca_file,
                    "CA bundle (PEM); when set, clients must present a certificate it issued")
      ->check(CLI::ExistingFile);
  serve->add_flag("--plain-http", config.plain_http,
                  "Serve unencrypted HTTP (local use and tests only)");
  serve->add_option("--trusted-subject-header", config.api.trusted_subject_header,
                    "With --plain-http on loopback behind a TLS proxy that verifies client "
                    "certificates: the header carrying the verified subject DN");
  serve->add_option("--consent-hours", consent_hours,
                    "How long a card-reader consent lets an institution read (default 24)")
      ->check(CLI::PositiveNumber);
  serve->add_option("--base-url", config.api.base_url,
                    "Public base URL for Location headers (default: from the Host header)");
  clinshub::server::AddServeRetentionOptions(*serve, config.retention);  // docs/retention.md

  serve->add_option("--server-name", config.server_names,
                    "Extra DNS name or IP address for the built-in CA's server certificate "
                    "(repeatable; used only without --tls-cert and --plain-http)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  // Public health (docs/public-health.md).
  int64_t surveillance_backoff_ms = config.outbox.base_backoff.count();
  int64_t surveillance_timeout_ms = config.surveillance.timeout.count();
  int64_t outbox_poll_ms = config.outbox.poll_interval.count();
  int64_t export_expiry_hours = 24;
  serve->add_option("--surveillance-url", config.outbox.endpoint_url,
                    "http(s) URL the hub POSTs 感染症発生届 to (empty: they stay queued)");
  serve->add_option("--surveillance-max-attempts", config.outbox.max_attempts,
                    "Delivery attempts before a notification is dead-lettered")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve->add_option("--surveillance-backoff-ms", surveillance_backoff_ms,
                    "First retry delay; doubles per attempt (with jitter) up to 1 hour")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve->add_option("--surveillance-timeout-ms", surveillance_timeout_ms,
                    "Deadline of one delivery attempt (connect, TLS, write, read)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve->add_option("--surveillance-ca", config.surveillance.ca_file,
                    "CA bundle for an https surveillance endpoint (default: system CAs)");
  serve->add_option("--surveillance-cert", config.surveillance.cert_file,
                    "Client certificate for the surveillance endpoint (PEM)");
  serve->add_option("--surveillance-key", config.surveillance.key_file,
                    "Its private key (PEM)");
  serve->add_option("--outbox-poll-ms", outbox_poll_ms,
                    "How often the outbox and the export runner look for work")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve->add_option("--export-expiry-hours", export_expiry_hours,
                    "How long the minister's export files are kept before deletion")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  CertOptions cert_options;
  int cert_exit = 0;
  CLI::App* cert = app.add_subcommand(
      "cert", "Manage the hub's built-in CA and institution client certificates");
  cert->require_subcommand(1);
  auto add_data = [&](CLI::App* sub) {
    sub->add_option("--data", cert_options.data_dir, "Data directory; the CA lives in DATA/pki")
        ->capture_default_str();
  };
  CLI::App* init = cert->add_subcommand("init", "Create the CA in DATA/pki unless present");
  add_data(init);
  init->callback([&] { cert_exit = CertInit(cert_options); });
  CLI::App* issue = cert->add_subcommand(
      "issue", "Issue an institution client certificate (writes cert.pem, key.pem, ca.pem)");
  issue->add_option("--institution", cert_options.institution,
                    "10-digit 保険医療機関番号; becomes the subject CN");
  issue->add_option("--portal", cert_options.portal,
                    "Instead: a patient-portal certificate, subject CN portal:NAME");
  issue->add_option("--operator", cert_options.op,
                    "Instead: an operator certificate, subject CN operator:NAME");
  issue->add_option("--name", cert_options.name, "Institution name; becomes the subject O");
  issue->add_option("--out", cert_options.out, "Directory for cert.pem, key.pem and ca.pem")
      ->required();
  issue->add_option("--days", cert_options.days, "Validity in days")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  add_data(issue);
  issue->callback([&] { cert_exit = CertIssue(cert_options); });
  CLI::App* revoke = cert->add_subcommand("revoke", "Revoke a certificate by serial (hex)");
  revoke->add_option("--serial", cert_options.serial, "Serial number in hex, as `cert list` shows")
      ->required();
  add_data(revoke);
  revoke->callback([&] { cert_exit = CertRevoke(cert_options); });
  CLI::App* list = cert->add_subcommand("list", "List issued certificates");
  add_data(list);
  list->callback([&] { cert_exit = CertList(cert_options); });

  std::string migrate_data = "./data";
  std::string migrate_store;
  int migrate_exit = 0;
  CLI::App* migrate = app.add_subcommand(
      "migrate", "Apply pending store schema migrations and exit (serve also applies them)");
  migrate->add_option("--store", migrate_store,
                      "Store: a path, sqlite:PATH or postgresql://…; default: SQLite in --data");
  migrate->add_option("--data", migrate_data, "Data directory of the default SQLite store")
      ->capture_default_str();
  migrate->callback([&] {
    clinshub::SystemClock clock;
    const std::string location = migrate_store.empty() ? migrate_data : migrate_store;
    clinshub::Status st = clinshub::store::MigrateStore(location, clock);
    if (!st.ok()) {
      std::fprintf(stderr, "migrate %s: %s\n",
                   clinshub::store::RedactStoreLocation(location).c_str(), st.ToString().c_str());
      migrate_exit = 1;
      return;
    }
    std::printf("store %s is at the latest schema\n",
                clinshub::store::RedactStoreLocation(location).c_str());
  });

  LoadOptions load_options;
  int load_exit = 0;
  for (const bool roster : {false, true}) {
    CLI::App* group = app.add_subcommand(
        roster ? "roster" : "directory",
        roster ? "Load the eligibility roster" : "Load the institution directory");
    group->require_subcommand(1);
    CLI::App* load = group->add_subcommand(
        "load", roster ? "Load identifiers from population NDJSON (clinshub-gen) or CSV "
                         "(person,system,value,from,to)"
                       : "Load institutions from NDJSON (clinshub-gen) or CSV (.csv)");
    load->add_option("FILE", load_options.file, "NDJSON, or CSV when the name ends in .csv")
        ->required()
        ->check(CLI::ExistingFile);
    load->add_option("--data", load_options.data_dir, "Data directory of the default SQLite store")
        ->capture_default_str();
    load->add_option("--store", load_options.store,
                     "Store: a path, sqlite:PATH or postgresql://…; default: SQLite in --data");
    load->callback([&, roster] { load_exit = LoadIntoStore(load_options, roster); });
  }

  int audit_exit = 0;
  CLI::App* audit = clinshub::server::AddAuditCommand(app, audit_exit);
  int purge_exit = 0;
  CLI::App* purge = clinshub::server::AddPurgeCommand(app, purge_exit);

  int bench_exit = 0;
  CLI::App* bench = clinshub::loadtest::AddBenchCommand(app, bench_exit);  // tools/loadtest

  app.add_subcommand("version", "Print the version")->callback([] {
    std::printf("clinshub %s\n", CLINSHUB_VERSION);
  });

  auto args = ExpandConfigFile(argc, argv);
  if (!args.ok()) {
    std::fprintf(stderr, "%s\n", args.status().message().c_str());
    return 2;
  }
  std::vector<std::string> reversed(args->rbegin(), args->rend() - 1);  // CLI11 wants it so
  try {
    app.parse(std::move(reversed));
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (cert->parsed()) return cert_exit;
  if (app.got_subcommand("directory") || app.got_subcommand("roster")) return load_exit;
  if (migrate->parsed()) return migrate_exit;
  if (bench->parsed()) return bench_exit;
  if (audit->parsed()) return audit_exit;
  if (purge->parsed()) return purge_exit;
  if (serve->parsed()) {
    config.outbox.base_backoff = std::chrono::milliseconds(surveillance_backoff_ms);
    config.surveillance.timeout = std::chrono::milliseconds(surveillance_timeout_ms);
    config.outbox.lease = 2 * config.surveillance.timeout + std::chrono::seconds(1);
    config.outbox.poll_interval = std::chrono::milliseconds(outbox_poll_ms);
    config.exports.poll_interval = std::chrono::milliseconds(outbox_poll_ms);
    config.exports.expiry = std::chrono::hours(export_expiry_hours);
    config.api.software_version = CLINSHUB_VERSION;
    config.api.consent_window = std::chrono::hours(consent_hours);
    config.api.item_cache_bytes = item_cache_mb << 20;
    return Serve(std::move(config), log_level);
  }
  return 0;
}
