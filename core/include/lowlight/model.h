#pragma once
// MIRNet as torch::nn modules. Heavy header (LibTorch): include it only where tensors are handled.
// A member's name is its register_module name and so its safetensors key, e.g.
// "rrgs.0.mrbs.1.dau1.0.body.0.weight".
#include <torch/torch.h>

#include "lowlight/config.h"

namespace lowlight {

// C -> 2C channels, H -> H/2.
struct DownSampleImpl : torch::nn::Module {
  explicit DownSampleImpl(int channels);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d main1{nullptr}, main2{nullptr}, main3{nullptr}, skip{nullptr};
};
TORCH_MODULE(DownSample);

// C -> C/2 channels, H -> 2H (nearest).
struct UpSampleImpl : torch::nn::Module {
  explicit UpSampleImpl(int channels);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d main1{nullptr}, main2{nullptr}, main3{nullptr}, skip{nullptr};
};
TORCH_MODULE(UpSample);

struct ChannelAttentionImpl : torch::nn::Module {
  ChannelAttentionImpl(int channels, int reduction);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d squeeze{nullptr}, excite{nullptr};
};
TORCH_MODULE(ChannelAttention);

struct SpatialAttentionImpl : torch::nn::Module {
  explicit SpatialAttentionImpl(int kernel);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE(SpatialAttention);

struct DualAttentionImpl : torch::nn::Module {
  DualAttentionImpl(int channels, const ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, fuse{nullptr};
  ChannelAttention ca{nullptr};
  SpatialAttention sa{nullptr};
};
TORCH_MODULE(DualAttention);

// Selective kernel feature fusion of `inputs` feature maps of equal shape.
struct SKFFImpl : torch::nn::Module {
  SKFFImpl(int channels, int inputs, const ModelConfig& config);
  torch::Tensor forward(const std::vector<torch::Tensor>& xs);
  torch::nn::Conv2d squeeze{nullptr};
  torch::nn::ModuleList select{nullptr};  // one 1x1 conv per input
  bool softmax_over_channels = false;
};
TORCH_MODULE(SKFF);

// Resamples from stream `from` to stream `to` by a chain of DownSample or UpSample modules.
struct ResampleImpl : torch::nn::Module {
  ResampleImpl(int channels, int from, int to);
  torch::Tensor forward(torch::Tensor x);
  torch::nn::Sequential steps{nullptr};
};
TORCH_MODULE(Resample);

struct MRBImpl : torch::nn::Module {
  explicit MRBImpl(const ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& x);
  ModelConfig config;
  torch::nn::ModuleList down{nullptr};   // down[i]: stream i -> i+1 (builds the pyramid)
  torch::nn::ModuleList dau1{nullptr};   // per stream
  torch::nn::ModuleDict exchange{nullptr};  // "j_to_i": resampling feeding stream i's SKFF
  torch::nn::ModuleList skff{nullptr};   // per stream
  torch::nn::ModuleList dau2{nullptr};   // per stream
  torch::nn::ModuleList up{nullptr};     // up[i-1]: stream i -> full resolution
  SKFF final_skff{nullptr};
  torch::nn::Conv2d conv{nullptr};
  std::vector<bool> used;                // which streams' second half feeds the output
};
TORCH_MODULE(MRB);

struct RRGImpl : torch::nn::Module {
  explicit RRGImpl(const ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::Sequential mrbs{nullptr};
};
TORCH_MODULE(RRG);

// The whole network. forward() takes N x 3 x H x W in [0,1] (any H, W >= 1) and returns the same shape;
// sides are reflect-padded to a multiple of size_multiple(config) and cropped back.
struct MIRNetImpl : torch::nn::Module {
  explicit MIRNetImpl(const ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& x);
  ModelConfig config;
  torch::nn::Conv2d conv_in{nullptr}, conv_out{nullptr};
  torch::nn::Sequential rrgs{nullptr};
};
TORCH_MODULE(MIRNet);

// Counts the parameters of a built module (for checking parameter_count()).
int64_t count_parameters(const torch::nn::Module& module);

}  // namespace lowlight
