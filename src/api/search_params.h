// FHIR search parameters for the clinical resource types, one patient at a time
// (https://hl7.org/fhir/R4/search.html): parsing of the query into criteria and matching of one
// stored item against them. Pure functions; the handler is search.cc.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.h"
#include "common/clock.h"
#include "common/result.h"
#include "fhir/value.h"
#include "store/units.h"

namespace clinshub::api {

// The hub's classification of Observations (検査 / 感染症), the vocabulary of
// Observation?category=.
inline constexpr char kItemKindSystem[] = "http://clinshub.example/fhir/CodeSystem/item-kind";

// One token `[system|]code`: system nullopt = any system; "" = no system; code "" = any code
// of the system (`system|`).
struct TokenValue {
  std::optional<std::string> system;
  std::string code;
};

enum class DatePrefix { kEq, kNe, kLt, kGt, kLe, kGe };

// A date parameter value: a prefix and the range [start, end) its value covers (yyyy, yyyy-mm
// and yyyy-mm-dd are Japan-time (+09:00) years, months and days; a dateTime covers its second).
struct DateCriterion {
  DatePrefix prefix = DatePrefix::kEq;
  Timestamp start, end;
};

// The range [start, end) a FHIR date/dateTime/instant text covers (see DateCriterion);
// nullopt if malformed.
struct DateRange {
  Timestamp start, end;
};
std::optional<DateRange> ParseDateRange(std::string_view text);

// FHIR's range semantics: eq — the value's range lies within the parameter's; ne — not eq;
// lt/gt — the value's range reaches below/above the parameter's; le/ge — lt/gt or overlaps.
bool DateMatches(const DateCriterion& c, const DateRange& value);

enum class SortKey { kDateDesc, kDateAsc, kLastUpdatedDesc, kLastUpdatedAsc };

struct ClinicalSearch {
  std::string resource_type;     // Condition, AllergyIntolerance, Observation, MedicationRequest
  std::string patient_param;     // "patient.identifier" or "patient"
  std::vector<std::vector<TokenValue>> code;             // AND of ORs
  std::vector<std::vector<TokenValue>> category;
  std::vector<std::vector<TokenValue>> clinical_status;
  std::vector<DateCriterion> date;          // date / onset-date, ANDed
  std::vector<DateCriterion> last_updated;  // _lastUpdated, ANDed
  size_t count = 50;
  SortKey sort = SortKey::kDateDesc;
  bool include_patient = false;
  bool summary_count = false;
  // The parameters that made the search (name, value), for the self link, and those ignored
  // under Prefer: handling=lenient.
  std::vector<std::pair<std::string, std::string>> used;
  std::vector<std::string> ignored;
};

inline constexpr size_t kSearchDefaultCount = 50;
inline constexpr size_t kSearchMaxCount = 500;

// True for the four searchable clinical types.
bool IsSearchableClinicalType(std::string_view type);

// Parses a search (not a page-token request) of `type`. Unknown or unsupported parameters are
// kMalformed naming the parameter, or (lenient) listed in `ignored`; bad values of supported
// parameters are always kMalformed. Does not resolve the patient.
Result<ClinicalSearch> ParseClinicalSearch(std::string_view type, const QueryParams& query,
                                           bool lenient);

// `_count` value: 1..500 (larger is served as 500); kMalformed otherwise.
Result<size_t> ParseCount(std::string_view text);

// True when the stored item is of the searched type and meets every criterion. `resource` is
// the item's parsed JSON.
bool ItemMatches(const ClinicalSearch& search, const store::StoredItem& item,
                 const fhir::Value& resource);

// The date the search's `date` / `onset-date` and `_sort=date` use: Observation effective[x],
// MedicationRequest authoredOn, Condition / AllergyIntolerance onset[x]; nullopt if absent.
std::optional<DateRange> SearchDate(std::string_view type, const fhir::Value& resource);

// Prefer: handling=lenient.
bool LenientHandling(const Request& request);

}  // namespace clinshub::api
