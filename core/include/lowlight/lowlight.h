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
// Everything here throws lowlight::Error with a one-line message on bad input. Headers, one per concern:
//   config.h       ModelConfig, parameter and MAC counts      (light)
//   image.h        pixel buffers, image files                  (light)
//   device.h       CPU / CUDA choice                           (light)
//   engine.h       Enhancer: tiled inference of any size       (light)
//   metrics.h      PSNR, SSIM, autocontrast baseline           (light)
//   safetensors.h  raw safetensors reader and writer           (light)
//   weights.h      model weight files                          (light)
//   models.h       shipped models found by name                (light)
//   model.h        MIRNet torch::nn modules                    (LibTorch)
//   train.h        training loop                               (light)
#include "lowlight/config.h"
#include "lowlight/device.h"
#include "lowlight/engine.h"
#include "lowlight/error.h"
#include "lowlight/image.h"
#include "lowlight/metrics.h"
#include "lowlight/models.h"
#include "lowlight/weights.h"
