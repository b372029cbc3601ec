// MIRNet modules (see model.h for the names that become safetensors keys).
#include "lowlight/model.h"

#include <algorithm>

#include "lowlight/error.h"
#include "lowlight/kernels.h"

namespace lowlight {
namespace F = torch::nn::functional;
namespace {

torch::nn::Conv2d conv(int in, int out, int kernel) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).padding(kernel / 2).bias(true));
}

// In-place residual add through the fused kernel where it applies (inference on CPU).
torch::Tensor add_(torch::Tensor x, const torch::Tensor& y) {
  if (kernels::applies(x) && kernels::applies(y) && x.sizes() == y.sizes() && x.scalar_type() == y.scalar_type())
    kernels::add_(x, y);
  else
    x.add_(y);
  return x;
}

bool even_sides(const torch::Tensor& x) { return x.size(2) % 2 == 0 && x.size(3) % 2 == 0; }

torch::Tensor upsample2(const torch::Tensor& x) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .scale_factor(std::vector<double>{2.0, 2.0})
                               .mode(torch::kNearest)
                               .recompute_scale_factor(false));
}

// The attention maps without the product, so the dual attention unit can choose where products go.
// A 1x1 convolution of pooled descriptors: N x C x 1 x 1 tensors through the convolution, or N x C float
// vectors from the fused kernels through kernels::dense.
torch::Tensor pointwise(torch::nn::Conv2dImpl& conv, const torch::Tensor& v) {
  return v.dim() == 2 ? kernels::dense(v, conv) : conv.forward(v);
}

torch::Tensor channel_weights_of_mean(ChannelAttentionImpl& ca, const torch::Tensor& mean) {
  return torch::sigmoid(pointwise(*ca.excite, torch::relu(pointwise(*ca.squeeze, mean))));
}

// N x C x 1 x 1 in x's dtype: the form a replayed descriptor takes on the ATen path.
torch::Tensor aten_form(const torch::Tensor& x) {
  return torch::empty({0, 0, 1, 1}, x.options().memory_format(torch::MemoryFormat::Contiguous));
}

torch::Tensor channel_weights(ChannelAttentionImpl& ca, const torch::Tensor& x) {
  const auto mean = ContextScope::mean(x.size(1), aten_form(x), [&] { return x.mean({2, 3}, /*keepdim=*/true); });
  return channel_weights_of_mean(ca, mean);
}

// N x C float on the fused path.
torch::Tensor fused_form(const torch::Tensor& x) { return torch::empty({0, 0}, x.options().dtype(torch::kFloat)); }

thread_local ContextScope* active_scope = nullptr;

torch::Tensor spatial_weights(SpatialAttentionImpl& sa, const torch::Tensor& x) {
  // Keras order: channel max first, then channel mean.
  auto maps = torch::cat({std::get<0>(x.max(1, /*keepdim=*/true)), x.mean(1, /*keepdim=*/true)}, 1);
  return torch::sigmoid(sa.conv(maps));
}

}  // namespace

ContextScope::ContextScope(ImageContext& context, Mode mode) : context_(context), mode_(mode), outer_(active_scope) {
  if (mode_ == Mode::Record) context_.means.clear();
  active_scope = this;
}

ContextScope::~ContextScope() { active_scope = outer_; }

void ContextScope::done() const {
  if (mode_ == Mode::Replay && next_ != context_.means.size())
    throw Error("image context: the network read " + std::to_string(next_) + " of its " +
                std::to_string(context_.means.size()) + " descriptors (a context of another model?)");
}

torch::Tensor ContextScope::mean(int64_t channels, const torch::Tensor& form, const std::function<torch::Tensor()>& compute) {
  ContextScope* scope = active_scope;
  if (!scope) return compute();
  auto& means = scope->context_.means;
  if (scope->mode_ == Mode::Record) {
    torch::Tensor m = compute();
    means.push_back(m.detach().to(torch::kFloat).reshape({m.size(0), channels}).clone());
    return m;
  }
  if (scope->next_ >= means.size())
    throw Error("image context: the network pools more often than the context recorded (" +
                std::to_string(means.size()) + " descriptors; a context of another model?)");
  const torch::Tensor& m = means[scope->next_++];
  if (m.size(1) != channels)
    throw Error("image context: descriptor " + std::to_string(scope->next_ - 1) + " has " + std::to_string(m.size(1)) +
                " channels, the network expects " + std::to_string(channels));
  torch::Tensor v = m.to(form.device(), form.scalar_type());
  if (form.dim() == 4) v = v.view({v.size(0), channels, 1, 1});
  return v;
}

DownSampleImpl::DownSampleImpl(int channels)
    : main1(register_module("main1", conv(channels, channels, 1))),
      main2(register_module("main2", conv(channels, channels, 3))),
      main3(register_module("main3", conv(channels, 2 * channels, 1))),
      skip(register_module("skip", conv(channels, 2 * channels, 1))) {}

// In-place ReLU and residual adds on fresh convolution outputs save a full-size temporary each (the
// convolutions' backward passes need their inputs, not their outputs, so training is unaffected).
torch::Tensor DownSampleImpl::forward(const torch::Tensor& x) {
  auto m = main2_relu(*main2, main1_relu(*main1, x));
  if (kernels::applies(m) && kernels::applies(x) && even_sides(x)) {
    // main3(pool m) + skip(pool x) is one 1x1 convolution of both pooled maps, pooled into one tensor.
    const auto w = torch::cat({main3->weight, skip->weight}, 1).contiguous(x.suggest_memory_format());
    return torch::conv2d(kernels::max_pool2({m, x}), w, main3->bias + skip->bias);
  }
  return add_(main3(F::max_pool2d(m, F::MaxPool2dFuncOptions(2))), skip(F::max_pool2d(x, F::MaxPool2dFuncOptions(2))));
}

UpSampleImpl::UpSampleImpl(int channels)
    : main1(register_module("main1", conv(channels, channels, 1))),
      main2(register_module("main2", conv(channels, channels, 3))),
      main3(register_module("main3", conv(channels, channels / 2, 1))),
      skip(register_module("skip", conv(channels, channels / 2, 1))) {}

torch::Tensor UpSampleImpl::forward(const torch::Tensor& x) { return upsample2(forward_low(x)); }

// A 1x1 convolution commutes with nearest up-sampling (each output pixel is a copy of one input pixel), so
// both 1x1 convolutions and their sum run at the low resolution and a single up-sampling of C/2 channels
// follows: the same result for a quarter of those convolutions' work and one up-sampling instead of two.
torch::Tensor UpSampleImpl::forward_low(const torch::Tensor& x) {
  auto m = main2_relu(*main2, main1_relu(*main1, x));
  return add_(main3(m), skip(x));
}

ChannelAttentionImpl::ChannelAttentionImpl(int channels, const ModelConfig& config)
    : squeeze(register_module("squeeze", conv(channels, squeeze_channels(channels, config), 1))),
      excite(register_module("excite", conv(squeeze_channels(channels, config), channels, 1))) {}

torch::Tensor ChannelAttentionImpl::forward(const torch::Tensor& x) { return x * channel_weights(*this, x); }

SpatialAttentionImpl::SpatialAttentionImpl(int kernel) : conv(register_module("conv", lowlight::conv(2, 1, kernel))) {}

torch::Tensor SpatialAttentionImpl::forward(const torch::Tensor& x) { return x * spatial_weights(*this, x); }

DualAttentionImpl::DualAttentionImpl(int channels, const ModelConfig& config)
    : conv1(register_module("conv1", conv(channels, channels, 3))),
      conv2(register_module("conv2", conv(channels, channels, 3))),
      fuse(register_module("fuse", conv(2 * channels, channels, 1))),
      ca(register_module("ca", ChannelAttention(channels, config))),
      sa(register_module("sa", SpatialAttention(config.sa_kernel))) {}

torch::Tensor DualAttentionImpl::forward(const torch::Tensor& x) {
  auto f = conv2(conv1_relu(*conv1, x));
  if (torch::GradMode::is_enabled()) return fuse(torch::cat({ca(f), sa(f)}, 1)).add_(x);
  if (kernels::applies(f)) {
    const int64_t C = f.size(1);
    const auto mean = ContextScope::mean(C, fused_form(f), [&] { return kernels::spatial_mean(f); });
    const auto channel = channel_weights_of_mean(*ca, mean);  // N x C float
    torch::Tensor spatial;
    const auto& sw = sa->conv->weight;
    if (sw.size(2) == 1 && sw.size(3) == 1) {  // a 1x1 kernel: the max/mean maps are never made
      const auto w = sw.to(torch::kFloat).flatten();
      spatial = kernels::spatial_logits(f, w[0].item<float>(), w[1].item<float>(), sa->conv->bias.item<float>()).sigmoid_();
    } else {
      spatial = torch::sigmoid(sa->conv(kernels::channel_max_mean(f)));
    }
    if (f.size(0) > 1) return add_(fuse(kernels::attention_products(f, channel, spatial)), x);
    // fuse([f*ca, f*sa]) = (W1 diag(ca)) f + sa * (W2 f): the channel weights go into the 1x1 kernel
    // (one image, so one kernel), one convolution makes both terms, and one pass combines them with the
    // residual. The products' 2C-channel tensor is never made.
    const auto w = fuse->weight.to(torch::kFloat);
    const auto w1 = w.slice(1, 0, C) * channel.to(torch::kFloat).view({1, C, 1, 1});
    const auto both = torch::cat({w1, w.slice(1, C, 2 * C)}, 0).to(f.scalar_type()).contiguous(f.suggest_memory_format());
    const auto bias = torch::cat({fuse->bias, torch::zeros_like(fuse->bias)});
    return kernels::gate_add(torch::conv2d(f, both, bias), spatial, x);
  }
  // Inference: both attention products are written straight into the halves of the fused input, which
  // saves two full-size temporaries and the concatenation's copy (out= ops have no autograd, hence the test).
  const int64_t C = f.size(1);
  torch::Tensor both = torch::empty({f.size(0), 2 * C, f.size(2), f.size(3)}, f.options(), f.suggest_memory_format());
  torch::Tensor first = both.slice(1, 0, C), second = both.slice(1, C, 2 * C);
  torch::mul_out(first, f, channel_weights(*ca, f));
  torch::mul_out(second, f, spatial_weights(*sa, f));
  return add_(fuse(both), x);
}

SKFFImpl::SKFFImpl(int channels, int inputs, const ModelConfig& config)
    : squeeze(register_module("squeeze", conv(channels, squeeze_channels(channels, config), 1))),
      select(register_module("select", torch::nn::ModuleList())),
      softmax_over_channels(config.keras_softmax_channels) {
  for (int i = 0; i < inputs; ++i) select->push_back(conv(squeeze_channels(channels, config), channels, 1));
}

torch::Tensor SKFFImpl::forward(const std::vector<torch::Tensor>& xs) {
  // The mean of the sum is the sum of the means: no full-size temporary for the sum.
  const auto mean = ContextScope::mean(xs[0].size(1), aten_form(xs[0]), [&] {
    auto sum = xs[0].mean({2, 3}, /*keepdim=*/true);
    for (size_t i = 1; i < xs.size(); ++i) sum = sum + xs[i].mean({2, 3}, /*keepdim=*/true);
    return sum;
  });
  const auto w = weights(mean);
  // Accumulating in place: one full-size output instead of a product and a sum per input.
  torch::Tensor out = xs[0] * w[0];
  for (size_t i = 1; i < xs.size(); ++i) out.addcmul_(xs[i], w[i]);
  return out;
}

torch::Tensor SKFFImpl::forward(const std::vector<kernels::Lazy>& xs) {
  bool fused = true;
  for (const auto& x : xs) fused = fused && kernels::applies(x.t);
  if (!fused) {
    std::vector<torch::Tensor> full;
    for (const auto& x : xs) full.push_back(x.shift ? upsample2(x.t) : x.t);  // shift is 0 or 1 here
    return forward(full);
  }
  // Nearest up-sampling repeats every pixel equally often, so a lazy input's mean is its stored tensor's.
  const auto mean = ContextScope::mean(xs[0].t.size(1), fused_form(xs[0].t), [&] {
    auto sum = kernels::spatial_mean(xs[0].t);
    for (size_t i = 1; i < xs.size(); ++i) sum += kernels::spatial_mean(xs[i].t);
    return sum;
  });
  return kernels::weighted_sum(xs, weights(mean));
}

std::vector<torch::Tensor> SKFFImpl::weights(const torch::Tensor& mean) {
  auto z = torch::relu(pointwise(*squeeze, mean));
  std::vector<torch::Tensor> scores;
  for (const auto& s : *select) scores.push_back(pointwise(*s->as<torch::nn::Conv2d>(), z));
  // Correct SKFF weighs the streams against each other; the Keras example normalised each descriptor
  // over its own channels instead.
  if (!softmax_over_channels) return torch::softmax(torch::stack(scores, 0), 0).unbind(0);
  for (auto& s : scores) s = torch::softmax(s, 1);
  return scores;
}

ResampleImpl::ResampleImpl(int channels, int from, int to) : steps(register_module("steps", torch::nn::Sequential())) {
  for (int s = from; s < to; ++s) steps->push_back(DownSample(channels << s));
  for (int s = from; s > to; --s) steps->push_back(UpSample(channels << s));
}

torch::Tensor ResampleImpl::forward(torch::Tensor x) { return steps->forward(x); }

kernels::Lazy ResampleImpl::forward_lazy(torch::Tensor x) {
  const size_t n = steps->size();
  for (size_t i = 0; i + 1 < n; ++i) x = (steps->begin() + i)->forward(x);
  if (auto* up = n ? steps->ptr(n - 1)->as<UpSampleImpl>() : nullptr) return {up->forward_low(x), 1};
  return {n ? (steps->begin() + (n - 1))->forward(x) : x, 0};
}

MRBImpl::MRBImpl(const ModelConfig& cfg) : config(cfg) {
  const int S = cfg.streams, C = cfg.channels;
  final_inputs.resize(S);
  for (int k = 0; k < S; ++k) final_inputs[k] = (cfg.keras_last_skff && S > 2 && k == 1) ? S - 1 : k;
  auto used = [&](int i) { return std::find(final_inputs.begin(), final_inputs.end(), i) != final_inputs.end(); };
  for (int i = 0; i + 1 < S; ++i) down.push_back(register_module("down" + std::to_string(i), DownSample(C << i)));
  exchange.resize(S, std::vector<Resample>(S, Resample(nullptr)));
  dau2.resize(S, DualAttention(nullptr));
  skff.resize(S, SKFF(nullptr));
  up.resize(S, Resample(nullptr));
  for (int i = 0; i < S; ++i) {
    const std::string si = std::to_string(i);
    dau1.push_back(register_module("dau1_" + si, DualAttention(C << i, cfg)));
    if (!used(i)) continue;
    for (int j = 0; j < S; ++j)
      if (j != i) exchange[i][j] = register_module("x" + std::to_string(j) + "to" + si, Resample(C, j, i));
    skff[i] = register_module("skff" + si, SKFF(C << i, S, cfg));
    dau2[i] = register_module("dau2_" + si, DualAttention(C << i, cfg));
    if (i > 0) up[i] = register_module("up" + si, Resample(C, i, 0));
  }
  final_skff = register_module("final_skff", SKFF(C, S, cfg));
  conv = register_module("conv", lowlight::conv(C, C, 3));
}

torch::Tensor MRBImpl::forward(const torch::Tensor& x) {
  const int S = config.streams;
  std::vector<torch::Tensor> level(S), first(S);
  std::vector<kernels::Lazy> second(S);
  level[0] = x;
  for (int i = 0; i + 1 < S; ++i) level[i + 1] = down[i](level[i]);
  for (int i = 0; i < S; ++i) first[i] = dau1[i](level[i]);
  // Streams reach the SKFFs at the last up-sampling step's low resolution (kernels::Lazy): with the fused
  // kernels the up-sampled copies are never made; otherwise SKFF up-samples them.
  for (int i = 0; i < S; ++i) {
    if (!skff[i]) continue;
    std::vector<kernels::Lazy> inputs(S);
    for (int j = 0; j < S; ++j) inputs[j] = j == i ? kernels::Lazy{first[j], 0} : exchange[i][j]->forward_lazy(first[j]);
    auto fused = dau2[i](skff[i]->forward(inputs));
    second[i] = i > 0 ? up[i]->forward_lazy(fused) : kernels::Lazy{fused, 0};
  }
  std::vector<kernels::Lazy> finals;
  for (int k : final_inputs) finals.push_back(second[k]);
  return add_(conv(final_skff->forward(finals)), x);
}

RRGImpl::RRGImpl(const ModelConfig& config)
    : conv1(register_module("conv1", conv(config.channels, config.channels, 3))),
      conv2(register_module("conv2", conv(config.channels, config.channels, 3))),
      mrbs(register_module("mrbs", torch::nn::Sequential())) {
  for (int i = 0; i < config.mrbs; ++i) mrbs->push_back(MRB(config));
}

torch::Tensor RRGImpl::forward(const torch::Tensor& x) { return add_(conv2(mrbs->forward(conv1(x))), x); }

namespace {
torch::nn::Conv2d strided_conv(int in, int out) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(2).padding(1).bias(true));
}
constexpr int64_t kThumbnail = 32;  // side of the branch's view of the image
}  // namespace

GlobalBranchImpl::GlobalBranchImpl(int G)
    : conv1(register_module("conv1", strided_conv(3, G))),
      conv2(register_module("conv2", strided_conv(G, 2 * G))),
      conv3(register_module("conv3", strided_conv(2 * G, 2 * G))),
      fc(register_module("fc", conv(2 * G, 2 * G, 1))),
      head(register_module("head", conv(2 * G, kGlobalOutputs, 1))) {
  torch::NoGradGuard no_grad;
  head->weight.zero_();
  head->bias.zero_();
}

torch::Tensor GlobalBranchImpl::forward(const torch::Tensor& x) {
  const auto mean = ContextScope::mean(conv3->options.out_channels(), aten_form(conv1->weight), [&] {
    // Float for the pooling (LibTorch 1.13 has no bf16 adaptive pooling on CPU), then the weights' type.
    auto t = F::adaptive_avg_pool2d(x.to(torch::kFloat).contiguous(), F::AdaptiveAvgPool2dFuncOptions({kThumbnail, kThumbnail}));
    t = t.to(conv1->weight.scalar_type());
    t = torch::relu(conv3(torch::relu(conv2(torch::relu(conv1(t))))));
    return t.mean({2, 3}, /*keepdim=*/true);
  });
  return head(torch::relu(fc(mean))).flatten(1).to(torch::kFloat);
}

torch::Tensor GlobalBranchImpl::apply(const torch::Tensor& y, const torch::Tensor& params) {
  const int64_t N = y.size(0);
  const auto p = params.to(y.device());
  const auto gain = p.select(1, 0).exp().view({N, 1, 1, 1});
  const auto gamma = p.select(1, 1).exp().view({N, 1, 1, 1});
  const auto matrix = torch::eye(3, p.options()).unsqueeze(0) + p.slice(1, 2, kGlobalOutputs).view({N, 3, 3});
  const auto z = y.to(torch::kFloat).clamp(1e-3, 1.0).pow(gamma) * gain;
  return torch::einsum("nij,njhw->nihw", {matrix, z}).to(y.scalar_type());
}

MIRNetImpl::MIRNetImpl(const ModelConfig& cfg) : config((validate(cfg), cfg)) {
  conv_in = register_module("conv_in", conv(3, cfg.channels, 3));
  rrgs = register_module("rrgs", torch::nn::Sequential());
  for (int i = 0; i < cfg.rrgs; ++i) rrgs->push_back(RRG(cfg));
  conv_out = register_module("conv_out", conv(cfg.channels, 3, 3));
  if (cfg.global > 0) global = register_module("global", GlobalBranch(cfg.global));
}

torch::Tensor MIRNetImpl::forward(const torch::Tensor& x) {
  if (x.dim() != 4 || x.size(1) != 3)
    throw Error("MIRNet input: expected N x 3 x H x W, found shape " + c10::str(x.sizes()));
  // The branch looks at the unpadded input, first: its descriptor is the first context site.
  const torch::Tensor global_params = global ? global(x) : torch::Tensor();
  const int64_t H = x.size(2), W = x.size(3), m = size_multiple(config);
  const int64_t ph = (m - H % m) % m, pw = (m - W % m) % m;
  torch::Tensor in = x;
  if (ph || pw) {
    // Reflect needs the pad to be smaller than the side; tiny inputs fall back to edge replication.
    const bool reflect = ph < H && pw < W;
    F::PadFuncOptions::mode_t mode = torch::kReplicate;
    if (reflect) mode = torch::kReflect;
    // LibTorch's CPU padding kernels have no bf16 version (1.13): pad the 3 input channels in fp32.
    const bool widen = x.is_cpu() && x.scalar_type() != torch::kFloat;
    in = F::pad(widen ? x.to(torch::kFloat) : x, F::PadFuncOptions({0, pw, 0, ph}).mode(mode));
    if (widen) in = in.to(x.scalar_type());
  }
  auto y = add_(conv_out(rrgs->forward(conv_in(in))), in);
  if (ph || pw) y = y.slice(2, 0, H).slice(3, 0, W);
  if (global) y = GlobalBranchImpl::apply(y, global_params);
  return y;
}

void set_weight_format(torch::nn::Module& module, torch::MemoryFormat format) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(format));
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace lowlight
