// The one duration formatter of the CLI's progress bar, the trainer's lines and the GIMP estimate.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "lowlight/duration.h"

namespace lowlight {
namespace {

TEST(Duration, ClockRoundsToTheSecondAndAddsHours) {
  const auto clock = [](double s) { return format_duration(s, DurationStyle::Clock); };
  EXPECT_EQ(clock(0), "0:00");
  EXPECT_EQ(clock(7.4), "0:07");
  EXPECT_EQ(clock(64.6), "1:05");
  EXPECT_EQ(clock(3599.4), "59:59");
  EXPECT_EQ(clock(3723), "1:02:03");
  EXPECT_EQ(clock(100 * 3600.0), "100:00:00");
}

TEST(Duration, WordsForEstimates) {
  const auto words = [](double s) { return format_duration(s, DurationStyle::Words); };
  EXPECT_EQ(words(0.44), "0.4 s");
  EXPECT_EQ(words(12.2), "12 s");
  EXPECT_EQ(words(185), "3 min 5 s");
  EXPECT_EQ(words(2 * 3600.0 + 10 * 60 + 30), "2 h 10 min");
}

TEST(Duration, NoFigureWithoutAKnownDuration) {
  for (double s : {-1.0, std::nan(""), std::numeric_limits<double>::infinity(), 2e8}) {
    EXPECT_EQ(format_duration(s, DurationStyle::Clock), "--:--") << s;
    EXPECT_EQ(format_duration(s, DurationStyle::Words), "unknown") << s;
  }
}

}  // namespace
}  // namespace lowlight
