// The benchmark's report as JSON and as a plain-text table.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bench_internal.h"
#include "lowlight/bench.h"

namespace lowlight {
namespace {

using nlohmann::json;

json timing_json(const Timing& t) { return {{"median", t.median}, {"min", t.min}, {"samples", t.samples}}; }

// JSON has no infinity: identical outputs are reported as null PSNR with "identical": true.
json psnr_json(double db) { return std::isfinite(db) ? json(db) : json(nullptr); }

std::string format(const char* fmt, double a, double b = 0, double c = 0) {
  char buf[128];
  std::snprintf(buf, sizeof buf, fmt, a, b, c);
  return buf;
}

}  // namespace

std::string bench::model_label(const ModelConfig& c) {
  return "C=" + std::to_string(c.channels) + " " + std::to_string(c.rrgs) + "x" + std::to_string(c.mrbs) +
         (c.streams != 3 ? " s" + std::to_string(c.streams) : "");
}

std::string bench_json(const BenchReport& r) {
  json doc = {{"device", r.device},
              {"precision", r.precision},
              {"threads", r.threads},
              {"cpu_kernels", r.cpu_kernels},
              {"torch", r.torch_version},
              {"python_torch", r.python_torch_version},
              {"load_average_before", r.load_before},
              {"load_average_after", r.load_after},
              {"cpu_peak", {{"cpu", r.peak.cpu}, {"cores", r.peak.cores}, {"ghz", r.peak.ghz},
                            {"flops_per_cycle", r.peak.flops_per_cycle}, {"gflops", r.peak.gflops},
                            {"assumption", r.peak.assumption}}},
              {"inference", json::array()},
              {"training", json::array()}};
  for (const InferenceResult& i : r.inference) {
    json row = {{"weights", i.weights}, {"model", bench::model_label(i.config)},
                {"macs_per_megapixel", macs_per_megapixel(i.config)},
                {"width", i.size.width}, {"height", i.size.height}, {"megapixels", i.megapixels},
                {"tile", i.tile}, {"tiles", i.tiles}, {"seconds", timing_json(i.cpp)}, {"mp_per_s", i.mp_per_s},
                {"gflops", i.gflops}, {"peak_fraction", i.peak_fraction}, {"rss_before_mib", i.rss_before_mib},
                {"rss_peak_mib", i.rss_peak_mib}, {"rss_above_before_mib", i.rss_peak_mib - i.rss_before_mib},
                {"gpu_peak_mib", i.gpu_peak_mib >= 0 ? json(i.gpu_peak_mib) : json(nullptr)}};
    if (!i.context.samples.empty())
      row["context_pass"] = {{"seconds", timing_json(i.context)}, {"share_of_enhance", i.context_share}};
    if (i.python)
      row["python"] = {{"seconds", timing_json(i.py)}, {"rss_peak_mib", i.py_rss_peak_mib},
                       {"ratio_cpp_over_python", i.ratio}, {"speedup", i.speedup},
                       {"psnr_db", psnr_json(i.psnr_vs_python)}, {"identical", !std::isfinite(i.psnr_vs_python)},
                       {"agree", i.agree}, {"agree_threshold_db", kBenchAgreementPsnr}};
    doc["inference"].push_back(row);
  }
  for (const TrainBenchResult& t : r.training) {
    json row = {{"weights", t.weights}, {"model", bench::model_label(t.config)}, {"batch", t.batch}, {"crop", t.crop},
                {"seconds_per_step", timing_json(t.cpp)}, {"steps_per_s", t.steps_per_s}};
    if (t.python)
      row["python"] = {{"seconds_per_step", timing_json(t.py)}, {"steps_per_s", t.py_steps_per_s},
                       {"ratio_cpp_over_python", t.ratio}, {"speedup", t.speedup}};
    doc["training"].push_back(row);
  }
  return doc.dump(2);
}

std::string bench_table(const BenchReport& r) {
  std::ostringstream out;
  out << "device " << r.device << ", " << r.precision << ", " << r.threads << " threads";
  if (!r.cpu_kernels.empty()) out << ", fused kernels " << r.cpu_kernels;
  out << ", LibTorch " << r.torch_version;
  if (!r.python_torch_version.empty()) out << ", Python torch " << r.python_torch_version;
  out << "\nfp32 peak " << format("%.0f", r.peak.gflops) << " GFLOP/s: " << r.peak.assumption << "\n";
  out << "load average before " << r.load_before << ", after " << r.load_after << "\n";
  if (!r.inference.empty()) {
    out << "\ninference (seconds: median / min of the timed runs; C++/Py < 1 means C++ is faster)\n";
    out << "model       size        tiles  C++ s (med/min)    MP/s  GFLOP/s  %peak  RSS MiB (before/peak)"
           "  Python s (med/min)  C++/Py  PSNR dB\n";
    for (const InferenceResult& i : r.inference) {
      char line[512];
      std::snprintf(line, sizeof line, "%-10s  %-10s  %5d  %7.3f / %7.3f  %6.3f  %7.1f  %4.1f%%  %8.0f / %8.0f",
                    bench::model_label(i.config).c_str(),
                    (std::to_string(i.size.width) + "x" + std::to_string(i.size.height)).c_str(), i.tiles,
                    i.cpp.median, i.cpp.min, i.mp_per_s, i.gflops, 100.0 * i.peak_fraction, i.rss_before_mib,
                    i.rss_peak_mib);
      out << line;
      if (i.python) {
        std::snprintf(line, sizeof line, "  %8.3f / %7.3f  %6.3f  %s%s", i.py.median, i.py.min, i.ratio,
                      std::isfinite(i.psnr_vs_python) ? format("%.1f", i.psnr_vs_python).c_str() : "identical",
                      i.agree ? "" : " DISAGREE");
        out << line;
      }
      if (i.gpu_peak_mib >= 0) out << format("  GPU peak %.0f MiB", i.gpu_peak_mib);
      out << "\n";
    }
    for (const InferenceResult& i : r.inference)
      if (!i.context.samples.empty())
        out << bench::model_label(i.config) << " " << i.size.width << "x" << i.size.height << ": context pass "
            << format("%.3f / %.3f", i.context.median, i.context.min) << " s (med/min), "
            << format("%.1f", 100.0 * i.context_share) << " % of the enhance time (included in it)\n";
  }
  if (!r.training.empty()) {
    out << "\ntraining steps (forward + backward + Adam)\n";
    for (const TrainBenchResult& t : r.training) {
      out << bench::model_label(t.config) << ", batch " << t.batch << " x " << t.crop << "^2: C++ " << format("%.3f", t.steps_per_s) << " steps/s ("
          << format("%.3f / %.3f", t.cpp.median, t.cpp.min) << " s/step med/min)";
      if (t.python)
        out << ", Python " << format("%.3f", t.py_steps_per_s) << " steps/s ("
            << format("%.3f / %.3f", t.py.median, t.py.min) << "), C++/Py time " << format("%.3f", t.ratio);
      out << "\n";
    }
  }
  return out.str();
}

}  // namespace lowlight
