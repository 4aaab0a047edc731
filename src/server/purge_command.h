// `clinshub purge [--dry-run] [--data DIR | --store URL] [--retention-*-days N]`: one retention
// purge straight on the store (the server may be running), printing the counts and audited
// like the server's retention job (retention_job.h). The --retention-* options are shared with
// `clinshub serve` (AddRetentionOptions) and documented in docs/retention.md.
#pragma once

#include <CLI/CLI.hpp>

#include "server/retention_job.h"
#include "store/records.h"

namespace clinshub::server {

// Adds --retention-<period>-days options that set `policy` (defaults: the policy's values).
void AddRetentionOptions(CLI::App& command, store::RetentionPolicy& policy);

// `serve`'s retention options: AddRetentionOptions for config.policy and
// --purge-interval-minutes (default 60; 0 turns the job off) for config.purge_interval.
void AddServeRetentionOptions(CLI::App& serve, RetentionConfig& config);

// Adds the `purge` sub-command; its callback stores its exit code in `exit_code`
// (0 done, 1 the purge failed, 2 the store cannot be opened).
CLI::App* AddPurgeCommand(CLI::App& app, int& exit_code);

}  // namespace clinshub::server
