#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "commands.h"
#include "lowlight/duration.h"

namespace lowlight::cli {

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)), enabled_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

ProgressBar::~ProgressBar() { finish(); }

bool ProgressBar::update(double fraction) {
  if (interrupted()) return false;
  if (!enabled_) return true;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && fraction < 1.0 && now - last_draw_ < std::chrono::milliseconds(200)) return true;
  last_draw_ = now;
  fraction = std::clamp(fraction, 0.0, 1.0);
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const auto clock = [](double seconds) { return format_duration(seconds, DurationStyle::Clock); };
  const std::string eta = fraction > 0.0 ? clock(elapsed * (1.0 - fraction) / fraction) : "?";
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(filled, '#');
  bar.append(kWidth - filled, '.');
  std::fprintf(stderr, "\r%s [%s] %3d%%  elapsed %s  ETA %s\033[K", label_.c_str(), bar.c_str(),
               static_cast<int>(fraction * 100.0), clock(elapsed).c_str(), eta.c_str());
  std::fflush(stderr);
  drawn_ = true;
  return true;
}

void ProgressBar::finish() {
  if (enabled_ && drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  drawn_ = false;
}

}  // namespace lowlight::cli
