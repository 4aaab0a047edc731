#include "server/purge_command.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "server/retention_job.h"
#include "store/open_store.h"

namespace clinshub::server {
namespace {

struct PurgeOptions {
  std::string data_dir = "./data";
  std::string store;
  bool dry_run = false;
  std::string as_of;  // dry runs only: count as if it were this instant
  store::RetentionPolicy policy;
};

int Purge(const PurgeOptions& o) {
  SystemClock clock;
  Timestamp now = clock.Now();
  if (!o.as_of.empty()) {
    std::optional<Timestamp> at = ParseFhirDateTime(o.as_of);
    if (!at.has_value() || !o.dry_run) {
      std::fprintf(stderr, "purge: --as-of needs --dry-run and a FHIR dateTime (%s)\n",
                   o.as_of.c_str());
      return 2;
    }
    now = *at;
  }
  std::error_code ec;
  if (o.store.empty() && !std::filesystem::is_directory(o.data_dir, ec)) {
    std::fprintf(stderr, "purge: no data directory %s\n", o.data_dir.c_str());
    return 2;  // never create one here
  }
  const std::string location = o.store.empty() ? o.data_dir : o.store;
  auto store = store::OpenStore(location, {}, clock);
  if (!store.ok()) {
    std::fprintf(stderr, "purge: %s\n", store.status().ToString().c_str());
    return 2;
  }
  Result<store::PurgeReport> r =
      PurgeAndAudit(**store, o.policy, now, o.dry_run, "clinshub purge");
  if (!r.ok()) {
    std::fprintf(stderr, "purge: %s\n", r.status().ToString().c_str());
    return 1;
  }
  std::printf("%s %s from %s\n", o.dry_run ? "dry run: would delete" : "deleted",
              DescribePurge(*r).c_str(), store::RedactStoreLocation(location).c_str());
  return 0;
}

}  // namespace

void AddRetentionOptions(CLI::App& command, store::RetentionPolicy& policy) {
  struct Period {
    const char* name;
    std::chrono::hours store::RetentionPolicy::*field;
    const char* help;
  };
  static constexpr Period kPeriods[] = {
      {"conditions", &store::RetentionPolicy::conditions, "傷病名 items, from registration"},
      {"infections", &store::RetentionPolicy::infections, "感染症 items, from registration"},
      {"allergies", &store::RetentionPolicy::allergies,
       "アレルギー and 薬剤禁忌 items, from registration"},
      {"long-term", &store::RetentionPolicy::long_term,
       "items flagged LTS (長期保存), from registration (at least their kind's period)"},
      {"labs", &store::RetentionPolicy::labs, "検査 items, from registration"},
      {"prescriptions", &store::RetentionPolicy::prescriptions, "処方 items, from registration"},
      {"checkups", &store::RetentionPolicy::checkups, "健診 reports, from their last change"},
      {"discharge-summaries", &store::RetentionPolicy::discharge_summaries,
       "退院時サマリー, from their last change"},
      {"referral-after-retrieval", &store::RetentionPolicy::referral_after_retrieval,
       "referral letters after the last recipient retrieved them"},
      {"referral-unretrieved", &store::RetentionPolicy::referral_unretrieved,
       "referral letters not retrieved by every recipient, from registration"},
      {"superseded", &store::RetentionPolicy::superseded_versions,
       "replaced Bundle versions and withdrawn units, after the replacement / withdrawal"},
      {"consents", &store::RetentionPolicy::consents,
       "consent records after they expired or were revoked"},
  };
  for (const Period& p : kPeriods) {
    std::chrono::hours& field = policy.*(p.field);
    command
        .add_option_function<int>(
            std::string("--retention-") + p.name + "-days",
            [&field](const int& days) { field = std::chrono::hours(24 * days); },
            std::string("Days to keep ") + p.help)
        ->default_str(std::to_string(field.count() / 24))
        ->check(CLI::PositiveNumber)
        ->group("Retention");
  }
}

void AddServeRetentionOptions(CLI::App& serve, RetentionConfig& config) {
  AddRetentionOptions(serve, config.policy);
  std::chrono::milliseconds& interval = config.purge_interval;
  serve
      .add_option_function<int>(
          "--purge-interval-minutes",
          [&interval](const int& minutes) { interval = std::chrono::minutes(minutes); },
          "Purge expired data every this many minutes (0: never; use `clinshub purge`)")
      ->default_str(std::to_string(
          std::chrono::duration_cast<std::chrono::minutes>(interval).count()))
      ->check(CLI::NonNegativeNumber)
      ->group("Retention");
}

CLI::App* AddPurgeCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<PurgeOptions>();
  CLI::App* purge = app.add_subcommand(
      "purge", "Delete data past its retention period now (audited); --dry-run only counts");
  purge->add_flag("--dry-run", options->dry_run, "Count what would be deleted; delete nothing");
  purge->add_option("--as-of", options->as_of,
                    "With --dry-run: count what a purge at this instant (FHIR dateTime, e.g. "
                    "2031-04-01T00:00:00Z) would delete");
  purge->add_option("--data", options->data_dir, "Data directory of the default SQLite store")
      ->capture_default_str();
  purge->add_option("--store", options->store,
                    "Store: a path, sqlite:PATH or postgresql://…; default: SQLite in --data");
  AddRetentionOptions(*purge, options->policy);
  purge->callback([options, &exit_code] { exit_code = Purge(*options); });
  return purge;
}

}  // namespace clinshub::server
