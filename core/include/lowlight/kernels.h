#pragma once
// Fused CPU kernels for inference. Heavy header (LibTorch).
//
// In bf16 the convolutions run on AMX and the element-wise work around them dominates: LibTorch 1.13's
// bf16 paths for broadcast products, channel reductions and max-pooling take 2-10x a plain copy of the
// same tensor (see docs/performance.md). These kernels do that work in one pass each, in fp32 registers
// with one rounding per output, on channels-last float or bf16 tensors. The model uses them where
// applies() holds and falls back to the ATen ops elsewhere (training, CUDA, other layouts).
//
//   if (lowlight::kernels::applies(x)) lowlight::kernels::relu_(x); else x.relu_();
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace lowlight {
namespace kernels {

// Inference (autograd off), kernels enabled, CPU, float or bf16, 4-D, channels-last contiguous.
bool applies(const torch::Tensor& x);

// On by default; off makes applies() false everywhere (the ATen reference path, for tests and A/B runs).
void set_enabled(bool on);
bool enabled();

// The instruction set the kernels run on: "avx512-bf16", "avx2" or "generic" (the best this CPU has, or
// the environment variable LOWLIGHT_CPU_KERNELS, unless use_instruction_set() chose another), and those
// available here, for tests. A LOWLIGHT_CPU_KERNELS this CPU cannot run throws lowlight::Error on first use.
const char* instruction_set();
std::vector<std::string> instruction_sets();
void use_instruction_set(const std::string& name);  // throws lowlight::Error if not available

void relu_(const torch::Tensor& x);                          // in place
void add_(const torch::Tensor& x, const torch::Tensor& y);   // x += y, same shape and dtype

// 2x2 max-pooling with stride 2 of each input, concatenated along channels; H and W must be even.
torch::Tensor max_pool2(const std::vector<torch::Tensor>& xs);

// N x 2 x H x W: the maximum and the mean over channels (the spatial attention's input).
torch::Tensor channel_max_mean(const torch::Tensor& x);

// N x 1 x H x W in x's dtype: w_max * (max over channels) + w_mean * (mean over channels) + bias, i.e. the
// spatial attention's 1x1 convolution of those two maps without making them.
torch::Tensor spatial_logits(const torch::Tensor& x, float w_max, float w_mean, float bias);

// N x Cout float: a 1x1 convolution's kernel and bias applied to N x Cin float vectors (the attention's
// squeeze and excite steps on pooled descriptors, without a convolution call on a 1x1 image).
torch::Tensor dense(const torch::Tensor& v, const torch::nn::Conv2dImpl& conv);

// N x C float: the mean over H and W.
torch::Tensor spatial_mean(const torch::Tensor& x);

// N x 2C x H x W: [x * ca, x * sa], ca of N x C (any float type), sa of N x 1 x H x W in x's dtype.
torch::Tensor attention_products(const torch::Tensor& x, const torch::Tensor& ca, const torch::Tensor& sa);

// N x C x H x W: g[:, :C] + sa * g[:, C:] + x, for g of N x 2C x H x W and sa of N x 1 x H x W.
torch::Tensor gate_add(const torch::Tensor& g, const torch::Tensor& sa, const torch::Tensor& x);

// A feature map to be read as if up-sampled (nearest) by 2^shift: the up-sampled copy is never made.
struct Lazy {
  torch::Tensor t;
  int shift = 0;
};

// sum_i xs[i] * weights[i], weights[i] of N x C (any float type); xs of equal size once up-sampled.
torch::Tensor weighted_sum(const std::vector<Lazy>& xs, const std::vector<torch::Tensor>& weights);

// A stride-1, kernel/2-padded convolution followed by ReLU as one oneDNN primitive (the ReLU applied to
// the accumulators, no second pass), through the fused operators LibTorch registers: 1.13's
// mkldnn_prepacked (weights reordered once and kept here, so keep one ConvRelu per convolution) or 2.x's
// mkldnn::_convolution_pointwise. Where neither applies or exists: the convolution, then relu_().
class ConvRelu {
 public:
  ConvRelu();
  torch::Tensor operator()(torch::nn::Conv2dImpl& conv, const torch::Tensor& x) const;
  const char* path() const;  // "prepacked", "pointwise" or "unfused": what the last call used

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared by copies (modules are copied when cloned)
};

}  // namespace kernels
}  // namespace lowlight
