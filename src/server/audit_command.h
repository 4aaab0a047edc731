// `clinshub audit verify` and `clinshub audit list`: the operator's view of the audit trail,
// straight from the store (the server may be running).
#pragma once

#include <CLI/CLI.hpp>

namespace clinshub::server {

// Adds the `audit` sub-command; its callbacks store their exit code in `exit_code`.
CLI::App* AddAuditCommand(CLI::App& app, int& exit_code);

}  // namespace clinshub::server
