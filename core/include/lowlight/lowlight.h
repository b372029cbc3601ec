#pragma once
// Lowlight: MIRNet low-light image enhancement.
//
//   #include <lowlight/lowlight.h>
//
//   int main(int argc, char** argv) {
//     lowlight::init_process(argc, argv);                     // first: OpenMP policy, allocator, threads
//     lowlight::EnhanceSettings settings = lowlight::default_enhance_settings();
//     settings.device = lowlight::DeviceKind::Auto;           // CUDA when present, else CPU
//     lowlight::Enhancer enhancer("weights/default.safetensors", settings);
//     const lowlight::Image photo = lowlight::read_image("dark.png");
//     lowlight::Image result(photo.width, photo.height, photo.channels, photo.type);
//     if (enhancer.enhance(photo.view(), result.view(), [](double f) { return true; }))
//       lowlight::write_image("bright.png", result.view());   // atomic: temp file + rename
//   }
//
// Everything here throws lowlight::Error with a one-line message on bad input. Headers, one per concern; what
// they declare is defined in CMake target lowlight::core unless another is named (the example above links
// lowlight::image_io too, for its files).
// Light headers (no LibTorch); this file includes the first eight, what enhancing needs:
//   config.h       ModelConfig, parameter and MAC counts
//   image.h        pixel buffers; image files (read_image, write_image: lowlight::image_io, built with OpenCV)
//   device.h       CPU / CUDA choice, thread defaults
//   engine.h       Enhancer: tiled inference of any size with the image's context
//   metrics.h      PSNR, SSIM, autocontrast baseline
//   weights.h      model weight files (dtype.h: how they store numbers)
//   models.h       shipped models found by name
//   error.h        lowlight::Error
//   atomic_file.h  the one writer behind every output
//   version.h      kVersion: the project's version, generated from CMakeLists.txt
//   train.h        training settings (lowlight::train_step) and runs (lowlight::train, built with OpenCV)
//   distributed.h  where a process stands in a data-parallel training run (lowlight::train_step)
// Not the library: bench.h (bench/include/, lowlight::bench), the benchmark against Python eager behind the
// CLI's `bench`; it starts a Python process.
// LibTorch-level headers (include <torch/torch.h> or ATen; for code that handles tensors):
//   model.h        MIRNet torch::nn modules, ContextScope
//   kernels.h      fused CPU kernels
//   safetensors.h  raw safetensors reader and writer of at::Tensor maps
#include "lowlight/config.h"
#include "lowlight/device.h"
#include "lowlight/engine.h"
#include "lowlight/error.h"
#include "lowlight/image.h"
#include "lowlight/metrics.h"
#include "lowlight/models.h"
#include "lowlight/weights.h"
