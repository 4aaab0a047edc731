#include "common/clock.h"

#include <gtest/gtest.h>

namespace clinshub {
namespace {

TEST(ClockTest, FormatsInstantWithMillisecondsUtc) {
  auto t = ParseFhirDateTime("2026-11-25T13:48:37.123456+09:00");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(FormatInstant(*t), "2026-11-25T04:48:37.123Z");
}

TEST(ClockTest, PartialDatesMeanTheirEarliestInstant) {
  EXPECT_EQ(FormatInstant(*ParseFhirDateTime("2024")), "2024-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatInstant(*ParseFhirDateTime("2024-05")), "2024-05-01T00:00:00.000Z");
  EXPECT_EQ(FormatInstant(*ParseFhirDateTime("2024-05-09")), "2024-05-09T00:00:00.000Z");
}

TEST(ClockTest, RejectsMalformedDates) {
  for (const char* bad : {"", "24", "2024-13", "2024-02-30", "2024-05-01T10:00",
                          "2024-05-01T10:00:00", "2024-05-01T25:00:00Z", "2024/05/01",
                          "2024-05-01T10:00:00.Z", "2024-05-01x"}) {
    EXPECT_FALSE(ParseFhirDateTime(bad).has_value()) << bad;
  }
}

TEST(ClockTest, ManualClockAdvances) {
  ManualClock clock(*ParseFhirDateTime("2026-01-01"));
  clock.Advance(std::chrono::hours(24));
  EXPECT_EQ(FormatInstant(clock.Now()), "2026-01-02T00:00:00.000Z");
}

}  // namespace
}  // namespace clinshub
