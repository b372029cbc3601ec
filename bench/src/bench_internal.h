#pragma once
// Internal pieces of the benchmark (bench/src/bench*.cpp); not installed.
#include <sys/types.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "lowlight/config.h"

namespace lowlight::bench {

// How reports and progress lines name a model: "C=16 1x1", with " s<streams>" when it has other than 3
// (bench_report.cpp).
std::string model_label(const ModelConfig& config);

// ---- this process (bench_system.cpp) ----
std::string load_average();  // the first three fields of /proc/loadavg
double rss_mib();            // VmRSS
double rss_peak_mib();       // VmHWM
// Resets VmHWM to the current RSS (/proc/self/clear_refs "5"); false where the kernel refuses, and the
// peak then covers the whole process lifetime so far.
bool reset_rss_peak();
// The CUDA caching allocator's peak of allocated bytes since the last reset, in MiB; -1 without CUDA.
void reset_gpu_peak();
double gpu_peak_mib();

// ---- the Python eager side (bench_python.cpp) ----
// bench/infer_torch.py as a server: one command line in, one JSON line out (see the script).
class PythonSide {
 public:
  PythonSide(const std::string& python, const std::string& script, const std::string& weights, int threads,
             bool nchw, const std::string& device, const std::string& precision);
  ~PythonSide();
  PythonSide(const PythonSide&) = delete;
  PythonSide& operator=(const PythonSide&) = delete;
  // Sends `command`, returns the reply; a reply with "error", or the process dying, throws lowlight::Error.
  nlohmann::json call(const std::string& command);
  const nlohmann::json& hello() const { return hello_; }

 private:
  nlohmann::json read_reply(const std::string& command);
  std::string stderr_tail() const;
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
  std::string err_path_;
  nlohmann::json hello_;
};

// The source tree's bench/infer_torch.py.
std::string default_python_script();

}  // namespace lowlight::bench
