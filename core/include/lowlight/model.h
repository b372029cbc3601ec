#pragma once
// MIRNet as torch::nn modules. Heavy header (LibTorch): include it only where tensors are handled.
// A member's name is its register_module name and so its safetensors key, e.g.
// "rrgs.0.mrbs.1.dau1.0.body.0.weight".
#include <torch/torch.h>

#include <functional>
#include <vector>

#include "lowlight/config.h"
#include "lowlight/kernels.h"

namespace lowlight {

// Image-level context: the descriptors the network pools over its whole input (the channel attention's and
// the SKFFs' spatial means), in the order a forward pass pools them. A tile, a preview crop or a selection
// is a different "whole" from the image it belongs to, so pooling over itself gives it its own colour and
// exposure. Recorded once from the whole image (ContextScope::Record), replayed for each part of it
// (ContextScope::Replay), they give every part the whole image's statistics. docs/context.md has the passes.
struct ImageContext {
  std::vector<torch::Tensor> means;  // per pooling site, N x C float on the model's device
};

// While alive, every forward pass of a MIRNet on this thread records its pooled descriptors into `context`
// or reads them from it instead of pooling. Replay checks each site's channel count and that the whole
// context is used (done()), so a context of another network is an error, not a silently wrong picture.
class ContextScope {
 public:
  enum class Mode { Record, Replay };
  ContextScope(ImageContext& context, Mode mode);
  ~ContextScope();
  ContextScope(const ContextScope&) = delete;
  ContextScope& operator=(const ContextScope&) = delete;
  // Throws lowlight::Error when a replayed pass did not read every recorded descriptor.
  void done() const;

  // The spatial mean of a pooling site through the active scope, if any: computed (and recorded), or
  // replayed. `compute` gives N x C float (fused kernels) or N x C x 1 x 1 (ATen); a replayed value comes
  // back in the form of `form` (its dim, dtype and device) with the recorded batch (the engine's is 1).
  static torch::Tensor mean(int64_t channels, const torch::Tensor& form, const std::function<torch::Tensor()>& compute);

 private:
  ImageContext& context_;
  Mode mode_;
  size_t next_ = 0;
  ContextScope* outer_;
};

// C -> 2C channels, H -> H/2.
struct DownSampleImpl : torch::nn::Module {
  explicit DownSampleImpl(int channels);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d main1{nullptr}, main2{nullptr}, main3{nullptr}, skip{nullptr};
  kernels::ConvRelu main1_relu, main2_relu;  // inference: main1, main2 with their ReLUs fused
};
TORCH_MODULE(DownSample);

// C -> C/2 channels, H -> 2H (nearest).
struct UpSampleImpl : torch::nn::Module {
  explicit UpSampleImpl(int channels);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor forward_low(const torch::Tensor& x);  // forward() before its final nearest up-sampling
  torch::nn::Conv2d main1{nullptr}, main2{nullptr}, main3{nullptr}, skip{nullptr};
  kernels::ConvRelu main1_relu, main2_relu;
};
TORCH_MODULE(UpSample);

struct ChannelAttentionImpl : torch::nn::Module {
  ChannelAttentionImpl(int channels, const ModelConfig& config);
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
  kernels::ConvRelu conv1_relu;
  ChannelAttention ca{nullptr};
  SpatialAttention sa{nullptr};
};
TORCH_MODULE(DualAttention);

// Selective kernel feature fusion of `inputs` feature maps of equal shape.
struct SKFFImpl : torch::nn::Module {
  SKFFImpl(int channels, int inputs, const ModelConfig& config);
  torch::Tensor forward(const std::vector<torch::Tensor>& xs);
  torch::Tensor forward(const std::vector<kernels::Lazy>& xs);  // inputs up-sampled by at most one step
  // Per input, from the mean of their sum (N x C x 1 x 1, or N x C float on the fused path).
  std::vector<torch::Tensor> weights(const torch::Tensor& mean);
  torch::nn::Conv2d squeeze{nullptr};
  torch::nn::ModuleList select{nullptr};  // one 1x1 conv per input
  bool softmax_over_channels = false;
};
TORCH_MODULE(SKFF);

// Resamples from stream `from` to stream `to` by a chain of DownSample or UpSample modules.
struct ResampleImpl : torch::nn::Module {
  ResampleImpl(int channels, int from, int to);
  torch::Tensor forward(torch::Tensor x);
  kernels::Lazy forward_lazy(torch::Tensor x);  // forward(), its last up-sampling (if any) left to the reader
  torch::nn::Sequential steps{nullptr};
};
TORCH_MODULE(Resample);

// Module names inside an MRB (stream i has C*2^i channels at 1/2^i scale):
//   down{i}        stream i -> i+1, builds the pyramid
//   dau1_{i}       first dual attention unit of stream i
//   x{j}to{i}      resampling of stream j feeding stream i's SKFF
//   skff{i}        fusion of all streams at stream i's scale
//   dau2_{i}       second dual attention unit of stream i
//   up{i}          stream i -> full resolution (i >= 1)
//   final_skff, conv
// With keras_last_skff the second stream's second half never reaches the output, so (as in the Keras
// graph) its x*to1, skff1, dau2_1 and up1 do not exist.
struct MRBImpl : torch::nn::Module {
  explicit MRBImpl(const ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& x);
  ModelConfig config;
  std::vector<DownSample> down;
  std::vector<DualAttention> dau1, dau2;        // per stream; dau2[i] empty when unused
  std::vector<std::vector<Resample>> exchange;  // exchange[i][j]: stream j -> i (empty for j == i)
  std::vector<SKFF> skff;                       // per stream; empty when unused
  std::vector<Resample> up;                     // up[i]: stream i -> full (up[0] empty)
  SKFF final_skff{nullptr};
  torch::nn::Conv2d conv{nullptr};
  std::vector<int> final_inputs;                // which stream feeds each final SKFF input
};
TORCH_MODULE(MRB);

struct RRGImpl : torch::nn::Module {
  explicit RRGImpl(const ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::Sequential mrbs{nullptr};
};
TORCH_MODULE(RRG);

// The global exposure and colour branch (config.global > 0). MIRNet's attention sees statistics of its features
// but nothing of the scene as a whole; this branch looks at a 32x32 thumbnail of the whole input (three strided
// 3x3 convolutions, a spatial mean, two 1x1 layers) and gives per image a gain, a gamma and a 3x3 colour
// matrix that apply() puts on the body's output. Its mean is a context site (ContextScope), so tiles of a
// large photo all get the whole photo's values. The last layer starts at zero: a branch added to trained
// weights starts as the identity.
struct GlobalBranchImpl : torch::nn::Module {
  explicit GlobalBranchImpl(int width);
  torch::Tensor forward(const torch::Tensor& x);  // N x 3 x H x W -> N x kGlobalOutputs (float)
  // y' = M (gain * clamp(y, 1e-3, 1)^gamma) per pixel, with `params` from forward().
  static torch::Tensor apply(const torch::Tensor& y, const torch::Tensor& params);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, fc{nullptr}, head{nullptr};
};
TORCH_MODULE(GlobalBranch);

// The whole network. forward() takes N x 3 x H x W in [0,1] (any H, W >= 1) and returns the same shape;
// sides are reflect-padded to a multiple of size_multiple(config) and cropped back.
struct MIRNetImpl : torch::nn::Module {
  explicit MIRNetImpl(const ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& x);
  ModelConfig config;
  torch::nn::Conv2d conv_in{nullptr}, conv_out{nullptr};
  torch::nn::Sequential rrgs{nullptr};
  GlobalBranch global{nullptr};  // config.global > 0 only
};
TORCH_MODULE(MIRNet);

// Counts the parameters of a built module (for checking parameter_count()).
int64_t count_parameters(const torch::nn::Module& module);

// Puts every 4-D parameter (the convolution weights) in `format`. oneDNN's CPU convolutions are several times
// faster on channels-last data, and weights in the same layout spare a conversion per layer.
void set_weight_format(torch::nn::Module& module, torch::MemoryFormat format);

}  // namespace lowlight
