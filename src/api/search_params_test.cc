#include "api/search_params.h"

#include <gtest/gtest.h>

namespace clinshub::api {
namespace {

Timestamp At(const char* text) { return *ParseFhirDateTime(text); }

TEST(SearchParamsTest, PartialDatesAreJapanTimeRanges) {
  struct Case {
    const char* text;
    const char* start;
    const char* end;
  };
  const Case cases[] = {
      {"2024", "2024-01-01T00:00:00+09:00", "2025-01-01T00:00:00+09:00"},
      {"2024-12", "2024-12-01T00:00:00+09:00", "2025-01-01T00:00:00+09:00"},
      {"2024-02", "2024-02-01T00:00:00+09:00", "2024-03-01T00:00:00+09:00"},
      {"2024-02-29", "2024-02-29T00:00:00+09:00", "2024-03-01T00:00:00+09:00"},
      {"2024-05-01T10:00:00+09:00", "2024-05-01T10:00:00+09:00", "2024-05-01T10:00:01+09:00"},
      {"2024-05-01T01:00:00Z", "2024-05-01T10:00:00+09:00", "2024-05-01T10:00:01+09:00"},
  };
  for (const Case& c : cases) {
    std::optional<DateRange> r = ParseDateRange(c.text);
    ASSERT_TRUE(r) << c.text;
    EXPECT_EQ(r->start, At(c.start)) << c.text;
    EXPECT_EQ(r->end, At(c.end)) << c.text;
  }
  for (const char* bad : {"", "24", "2024-13", "2023-02-29", "2024-1-01", "2024-05-01T10:00:00",
                          "yyyy", "2024-05-01 10:00"}) {
    EXPECT_FALSE(ParseDateRange(bad)) << bad;
  }
}

TEST(SearchParamsTest, PrefixesCompareRangesAsFhirSays) {
  const DateRange may{At("2024-05-01T00:00:00+09:00"), At("2024-06-01T00:00:00+09:00")};
  auto day = [](const char* d) { return *ParseDateRange(d); };
  struct Case {
    DatePrefix prefix;
    const char* value;
    bool match;
  };
  const Case cases[] = {
      {DatePrefix::kEq, "2024-05-15", true},  {DatePrefix::kEq, "2024-06-01", false},
      {DatePrefix::kNe, "2024-06-01", true},  {DatePrefix::kNe, "2024-05-31", false},
      {DatePrefix::kLt, "2024-04-30", true},  {DatePrefix::kLt, "2024-05-01", false},
      {DatePrefix::kGt, "2024-06-01", true},  {DatePrefix::kGt, "2024-05-31", false},
      {DatePrefix::kLe, "2024-05-31", true},  {DatePrefix::kLe, "2024-06-01", false},
      {DatePrefix::kGe, "2024-05-01", true},  {DatePrefix::kGe, "2024-04-30", false},
  };
  for (const Case& c : cases) {
    DateCriterion criterion{c.prefix, may.start, may.end};
    EXPECT_EQ(DateMatches(criterion, day(c.value)), c.match)
        << static_cast<int>(c.prefix) << " 2024-05 vs " << c.value;
  }
}

TEST(SearchParamsTest, UnknownParametersAreNamedOrListedWhenLenient) {
  QueryParams q;
  q.Add("patient.identifier", "s|v");
  q.Add("severity", "high");
  Result<ClinicalSearch> strict = ParseClinicalSearch("Condition", q, false);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().issues()[0].expression, "severity");
  Result<ClinicalSearch> lenient = ParseClinicalSearch("Condition", q, true);
  ASSERT_TRUE(lenient.ok());
  EXPECT_EQ(lenient->ignored, std::vector<std::string>{"severity"});
}

}  // namespace
}  // namespace clinshub::api
