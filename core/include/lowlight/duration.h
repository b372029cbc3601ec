#pragma once
// Durations as the front ends show them: progress lines and ETAs (the CLI, the trainer) and time estimates
// (the GIMP dialog). Light header; header-only, as it is a few lines of formatting.
#include <cmath>
#include <cstdio>
#include <string>

namespace lowlight {

enum class DurationStyle {
  Clock,  // "0:07", "1:05", "1:02:03" (rounded to the second)
  Words,  // "0.4 s", "12 s", "3 min 5 s", "2 h 10 min"
};

// A negative, non-finite or absurd duration (over 1e8 s, three years: an ETA before any progress) has no
// figure: "--:--" as a clock, "unknown" in words.
inline std::string format_duration(double seconds, DurationStyle style) {
  const bool known = seconds >= 0 && seconds <= 1e8;
  char text[64];
  if (style == DurationStyle::Clock) {
    if (!known) return "--:--";
    const long s = std::lround(seconds);
    if (s >= 3600) std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  } else if (!known) {
    return "unknown";
  } else if (seconds < 10) {
    std::snprintf(text, sizeof text, "%.1f s", seconds);
  } else if (seconds < 60) {
    std::snprintf(text, sizeof text, "%.0f s", seconds);
  } else if (seconds < 3600) {
    std::snprintf(text, sizeof text, "%d min %d s", static_cast<int>(seconds / 60),
                  static_cast<int>(std::fmod(seconds, 60)));
  } else {
    std::snprintf(text, sizeof text, "%d h %d min", static_cast<int>(seconds / 3600),
                  static_cast<int>(std::fmod(seconds, 3600) / 60));
  }
  return text;
}

}  // namespace lowlight
