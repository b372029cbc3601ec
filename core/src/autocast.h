#pragma once
// Mixed precision for training: inside the guard, autocast runs convolutions in bf16 while weights, the loss
// and Adam stay fp32. LibTorch 2.4 replaced the per-device setters with ones taking the device type.
#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "lowlight/model.h"

namespace lowlight {

class AutocastGuard {
 public:
  AutocastGuard(torch::DeviceType device, bool enabled) : device_(device), enabled_(enabled) {
    if (enabled_) set(true);
  }
  ~AutocastGuard() {
    if (!enabled_) return;
    set(false);
    // The cache holds bf16 copies of the weights; after the optimizer step they would be stale.
    at::autocast::clear_cache();
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  void set(bool on) const {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(device_, on);
    if (on) at::autocast::set_autocast_dtype(device_, at::kBFloat16);
#else
    if (device_ == torch::kCUDA) {
      at::autocast::set_enabled(on);
      if (on) at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    } else {
      at::autocast::set_cpu_enabled(on);
      if (on) at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    }
#endif
  }

  torch::DeviceType device_;
  bool enabled_;
};

// The model's output on `x` in fp32, computed under bf16 autocast when `autocast` is set.
inline torch::Tensor forward_fp32(MIRNetImpl& model, const torch::Tensor& x, bool autocast) {
  AutocastGuard guard(x.device().type(), autocast);
  return model.forward(x).to(torch::kFloat);
}

}  // namespace lowlight
