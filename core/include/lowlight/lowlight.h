#pragma once
// Lowlight: MIRNet low-light image enhancement.
//
//   #include <lowlight/lowlight.h>
//
//   lowlight::EnhanceSettings settings = lowlight::default_enhance_settings();
//   settings.device = lowlight::DeviceKind::Auto;           // CUDA when present, else CPU
//   lowlight::Enhancer enhancer("weights/default.safetensors", settings);
//   lowlight::Image photo = lowlight::read_image("dark.png");
//   lowlight::Image result(photo.width, photo.height, photo.channels, photo.type);
//   if (enhancer.enhance(photo.view(), result.view(), [](double f) { return true; }))
//     lowlight::write_image("bright.png", result.view());     // atomic: temp file + rename
//
// Everything here throws lowlight::Error with a one-line message on bad input. Headers, one per concern.
// Light headers (no LibTorch); this file includes the first eight, what enhancing needs:
//   config.h       ModelConfig, parameter and MAC counts
//   image.h        pixel buffers, image files
//   device.h       CPU / CUDA choice, thread defaults
//   engine.h       Enhancer: tiled inference of any size with the image's context
//   metrics.h      PSNR, SSIM, autocontrast baseline
//   weights.h      model weight files (dtype.h: how they store numbers)
//   models.h       shipped models found by name
//   error.h        lowlight::Error
//   atomic_file.h  the one writer behind every output
//   train.h        training loop settings and entry point
//   distributed.h  where a process stands in a data-parallel training run
//   bench.h        benchmark against Python eager (the CLI's `bench`)
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
