#pragma once
// The dialog's "about how long" line: the model's multiply-accumulates (MACs) for the layer divided by
// a throughput. Until the preview has run, the throughput is an assumed figure per device; after each
// preview it is the rate measured on the preview area with the chosen model and device.
#include <string>

#include "lowlight/config.h"
#include "lowlight/device.h"
#include "lowlight/duration.h"  // the estimate's words

namespace lowlight::plugin {

struct Throughput {
  double macs_per_second = 0;
  bool measured = false;
};

// Assumed rates: CPU kCpuMacsPerSecondPerThread x hardware threads, CUDA a mid-range card's figure.
Throughput assumed_throughput(DeviceKind device);
// The rate seen when `pixels` pixels took `seconds`; tiny areas or times give no reliable figure
// (macs_per_second 0).
Throughput measured_throughput(const ModelConfig& config, double pixels, double seconds);

double estimate_seconds(const ModelConfig& config, double pixels, const Throughput& rate);

// e.g. "About 12 s for this layer (1200x800) on the CPU with 4 threads (speed measured on the preview)":
// plain words, no MAC counts.
std::string estimate_text(const ModelConfig& config, int width, int height, DeviceKind device, const Throughput& rate);

}  // namespace lowlight::plugin
