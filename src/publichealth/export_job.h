// The minister's data request (厚生労働大臣による情報提供の求め; docs/public-health.md): the
// request an operator files, and the runner that executes approved requests asynchronously
// as FHIR Bulk Data exports (NDJSON files that expire).
//
// The runner is the ONLY caller of Store::ScanCohort, the one cross-person clinical read. It
// acts only on jobs in state kApproved, which only a second operator's approval produces
// (src/access: kApproveExport, two-person rule).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include "clins/items.h"
#include "common/clock.h"
#include "common/result.h"
#include "store/store.h"

namespace clinshub::publichealth {

// A validated request. JSON form (the body of POST /$export-request, stored as given):
//   {"legalPurpose": "...", "dataKinds": ["infection", "condition", "lab"],
//    "period": {"start": "2025-01-01", "end": "2026-01-01"},
//    "cohort": {"kinds": ["infection"], "codes": ["..."], "prefecture": "13",
//               "ageMin": 0, "ageMax": 64},
//    "identified": false, "identifiedAuthority": "..."}
struct ExportRequest {
  std::string legal_purpose;
  std::vector<clins::ItemKind> data_kinds;
  Timestamp period_start;  // inclusive (Japan date 00:00)
  Timestamp period_end;    // exclusive
  std::vector<clins::ItemKind> cohort_kinds;  // default: data_kinds
  std::vector<std::string> cohort_codes;      // empty: any code
  std::string prefecture;  // 2 digits: the registering institution's prefecture; "" any
  std::optional<int> age_min, age_max;  // at period end, from the person's Patient.birthDate
  bool identified = false;
  std::string identified_authority;  // required when identified
};

// kMalformed / kUnprocessable with every problem at once.
Result<ExportRequest> ParseExportRequest(const std::string& json);

// "condition", "allergy", "contraindication", "lab", "infection", "prescription".
std::string_view KindName(clins::ItemKind kind);

struct ExportOptions {
  std::string directory;    // files go to <directory>/<job id>/
  std::string secret_file;  // the pseudonymisation secret (created 0600 on first use)
  std::chrono::seconds expiry{24 * 3600};
  std::chrono::milliseconds poll_interval{1000};
  size_t persons_per_page = 200;
};

class ExportRunner {
 public:
  // Borrows store, clock and logger.
  ExportRunner(store::Store& store, const Clock& clock, ExportOptions options,
               spdlog::logger& logger);
  ~ExportRunner();  // Stop()

  void Start();
  void Stop();

  // Expires old outputs, then runs every approved job (and resumes ones a crash left
  // running). Returns how many jobs ran.
  Result<int> RunOnce();

 private:
  Status Run(store::ExportJob job);
  Status Expire(store::ExportJob job);
  bool Stopping();
  void Loop();

  store::Store& store_;
  const Clock& clock_;
  ExportOptions options_;
  spdlog::logger& logger_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool started_ = false;
  std::thread thread_;
};

}  // namespace clinshub::publichealth
