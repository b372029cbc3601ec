#pragma once
// A one-line progress bar with ETA on stderr, drawn only when stderr is a terminal.
#include <chrono>
#include <string>

namespace lowlight::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();
  // Redraws at most a few times a second; returns false once the user interrupted the run.
  bool update(double fraction);
  // Clears the line (the caller prints the result).
  void finish();

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace lowlight::cli
