// The operator's bulk files: the institution directory and the eligibility roster, as NDJSON
// (what clinshub-gen writes to institutions.ndjson / population.ndjson) or CSV with a header
// row. Parsed and checked in full before anything is stored, so a load is all or nothing; every
// problem is reported with its line number and field. Shared by POST /$load-directory,
// /$load-roster and `clinshub directory|roster load`. Pure functions, thread-safe.
//
// Directory columns: code, name, kana, kind (hospital | clinic | checkup; clinshub-gen's
// checkup-center is read as checkup), postcode
// (123-4567 or 7 digits), address, phone, emergencyPermission (true/false), active (optional,
// default true). NDJSON lines may also carry clinshub-gen's informational prefecture and city.
//
// Roster: NDJSON lines {"person": N, "identifiers": [{system, value, from, to?}, ...]} (other
// members of a clinshub-gen person line — names, birth date, address — are not roster data and
// are ignored), or CSV rows person,system,value,from,to. The person key is "P" + N.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/records.h"

namespace clinshub::access {

enum class BulkFormat { kNdjson, kCsv };

// From a request's Content-Type: application/x-ndjson, application/ndjson,
// application/fhir+ndjson or application/jsonl → NDJSON; text/csv → CSV (parameters such as
// charset=utf-8 allowed). kUnsupportedMediaType otherwise, or when missing.
Result<BulkFormat> BulkFormatForContentType(std::string_view content_type);
// From a file name: .csv → CSV, anything else NDJSON.
BulkFormat BulkFormatForPath(std::string_view path);

// Most problems reported for one file; the rest are summarised in one last issue.
inline constexpr size_t kMaxBulkIssues = 100;

// One field's problem in a directory entry ("postcode", "must be 7 digits ...").
struct FieldProblem {
  std::string field;
  std::string message;
};

// Checks one directory entry and puts it in stored form (trimmed, postcode as 123-4567, kind
// lower case). Used by the bulk loads and by PUT /Organization/{code}. Empty when it is fine.
std::vector<FieldProblem> CheckInstitution(store::InstitutionRecord& record);

// Parses and checks a whole directory file. kUnprocessable (one issue per problem, expression
// "line[N].field") if any line is bad, including a code repeated on two lines; kMalformed when
// the file is not NDJSON / CSV at all (no header, empty file).
Result<std::vector<store::InstitutionRecord>> ParseDirectory(std::string_view text,
                                                             BulkFormat format);

// The roster's person key for clinshub-gen's person number.
std::string PersonKeyFor(std::string_view person_number);

struct RosterLoad {
  std::vector<store::RosterEntry> entries;  // NormaliseIdentifier form
  size_t persons = 0;                       // distinct persons named
};

// Parses and checks a whole roster file: systems JP_Insurance_memberID / JP_PublicPayer_memberID,
// value shape (保険者番号8:記号:番号:枝番 / 公費負担者番号8::受給者番号7:), yyyy-mm-dd dates with
// to ≥ from, and no identifier given twice. Errors as ParseDirectory.
Result<RosterLoad> ParseRoster(std::string_view text, BulkFormat format);

}  // namespace clinshub::access
