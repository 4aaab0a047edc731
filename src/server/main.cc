// clinshub: the command-line entry point. Sub-commands: serve, version.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "server/server_app.h"
#include "server/signal_waiter.h"

namespace {

using clinshub::server::ServerConfig;

int Serve(ServerConfig config, const std::string& log_level) {
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"clinshub: open implementation of Japan's EHR information sharing hub (JP-CLINS)"};
  app.require_subcommand(1);

  ServerConfig config;
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
  serve->add_option("--threads", config.http.io_threads, "IO threads (0: one per core)")
      ->capture_default_str();
  serve->add_option("--workers", config.http.worker_threads,
                    "Request handler threads (0: four per core)")
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
  serve->add_option("--base-url", config.api.base_url,
                    "Public base URL for Location headers (default: from the Host header)");

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
  if (serve->parsed()) {
    config.api.software_version = CLINSHUB_VERSION;
    return Serve(std::move(config), log_level);
  }
  return 0;
}
