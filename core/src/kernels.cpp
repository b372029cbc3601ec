// Fused CPU kernels for inference (see kernels.h): shape checks, threading and instruction-set dispatch
// here; the loops are in kernels_body.inc.
#include "lowlight/kernels.h"

#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "lowlight/error.h"

// Vector types passed between the loops' inlined helpers trip GCC's note that their ABI depends on the
// target; they never cross a call boundary.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace lowlight {
namespace kernels {
namespace generic {
#include "kernels_body.inc"
}  // namespace generic

// The same loops compiled for AVX2 (fp32 on most x86-64 machines) and for AVX-512 with its bf16
// conversions (the CPUs where bf16 is the default precision); chosen at run time, so one binary runs on
// any x86-64.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define LOWLIGHT_KERNELS_X86 1
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace avx2 {
#include "kernels_body.inc"
}  // namespace avx2
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")
#define LOWLIGHT_KERNELS_NATIVE_BF16 1
namespace avx512 {
#include "kernels_body.inc"
}  // namespace avx512
#undef LOWLIGHT_KERNELS_NATIVE_BF16
#pragma GCC pop_options
#endif

namespace {

std::atomic<bool> g_enabled{true};

enum class Isa { Generic, Avx2, Avx512 };
const char* const kIsaNames[] = {"generic", "avx2", "avx512-bf16"};

Isa best_isa() {
#ifdef LOWLIGHT_KERNELS_X86
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bf16"))
    return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
  return Isa::Generic;
}

std::atomic<int> g_isa{-1};  // -1: the default (LOWLIGHT_CPU_KERNELS, else the best this CPU supports)

// LOWLIGHT_CPU_KERNELS=avx2 (or generic) runs the kernels as on a CPU without AVX-512, for benchmarks of
// that class of machine together with oneDNN's DNNL_MAX_CPU_ISA=AVX2. A name this CPU cannot run is an
// error on first use rather than a silent fall-back, so a benchmark never reports the wrong class.
Isa default_isa() {
  const Isa best = best_isa();
  const char* env = std::getenv("LOWLIGHT_CPU_KERNELS");
  if (!env || !*env) return best;
  for (int i = 0; i <= int(best); ++i)
    if (std::string(env) == kIsaNames[i]) return Isa(i);
  std::string available;
  for (int i = 0; i <= int(best); ++i) available += std::string(i ? ", " : "") + kIsaNames[i];
  throw Error(std::string("LOWLIGHT_CPU_KERNELS='") + env + "' is not an instruction set of this CPU (" + available +
              ")");
}

Isa isa() {
  static const Isa fallback = default_isa();
  const int chosen = g_isa.load(std::memory_order_relaxed);
  return chosen < 0 ? fallback : Isa(chosen);
}

// Calls f with the Ops of the instruction set in use and a null pointer of the element's storage type
// (float, or uint16_t for bf16's bit pattern).
template <class F>
void dispatch(const torch::Tensor& x, F&& f) {
  const bool bf16 = x.scalar_type() == torch::kBFloat16;
#ifdef LOWLIGHT_KERNELS_X86
  if (isa() == Isa::Avx512) return bf16 ? f(avx512::Ops{}, (uint16_t*)nullptr) : f(avx512::Ops{}, (float*)nullptr);
  if (isa() == Isa::Avx2) return bf16 ? f(avx2::Ops{}, (uint16_t*)nullptr) : f(avx2::Ops{}, (float*)nullptr);
#endif
  bf16 ? f(generic::Ops{}, (uint16_t*)nullptr) : f(generic::Ops{}, (float*)nullptr);
}

template <class T>
T* data(const torch::Tensor& t) {
  return static_cast<T*>(t.data_ptr());
}

torch::Tensor empty_like_nhwc(const torch::Tensor& x, int64_t c, int64_t h, int64_t w) {
  return torch::empty({x.size(0), c, h, w}, x.options().memory_format(torch::MemoryFormat::ChannelsLast));
}

void check(bool ok, const char* op, const std::string& what) {
  if (!ok) throw Error(std::string("kernels::") + op + ": " + what);
}

// The layouts the loops read: 4-D channels-last float or bf16 in CPU memory.
bool supported(const torch::Tensor& x) {
  return x.defined() && x.dim() == 4 && x.device().is_cpu() &&
         (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kBFloat16) &&
         x.is_contiguous(torch::MemoryFormat::ChannelsLast);
}

void check_input(const torch::Tensor& x, const char* op) {
  check(supported(x), op, "expected a 4-D channels-last CPU float or bf16 tensor, found " +
                (x.defined() ? c10::str(x.sizes(), " ", x.scalar_type()) : std::string("undefined")));
}

void check_spatial(const torch::Tensor& sa, const torch::Tensor& x, const char* op) {
  check(sa.defined() && sa.dim() == 4 && sa.size(0) == x.size(0) && sa.size(1) == 1 && sa.size(2) == x.size(2) &&
            sa.size(3) == x.size(3) && sa.scalar_type() == x.scalar_type() && sa.device().is_cpu(),
        op, "spatial weights must be N x 1 x H x W of the input's type, found " + c10::str(sa.sizes()));
}

// N x C as contiguous float, for per-channel weights given as N x C or N x C x 1 x 1.
torch::Tensor channel_vector(const torch::Tensor& v, const torch::Tensor& like, const char* op) {
  check(v.defined() && v.numel() == like.size(0) * like.size(1), op,
        "expected per-channel weights of " + std::to_string(like.size(0) * like.size(1)) + " values");
  return v.to(torch::kFloat).contiguous().view({like.size(0), like.size(1)});
}

// Pixel rows per task: enough work (about 64k values) per task that OpenMP's overhead stays small.
int64_t grain(int64_t values_per_unit) { return std::max<int64_t>(1, 65536 / std::max<int64_t>(1, values_per_unit)); }

}  // namespace

bool applies(const torch::Tensor& x) {
  return g_enabled.load(std::memory_order_relaxed) && !torch::GradMode::is_enabled() && supported(x);
}

void set_enabled(bool on) { g_enabled = on; }
bool enabled() { return g_enabled; }
const char* instruction_set() { return kIsaNames[int(isa())]; }

std::vector<std::string> instruction_sets() {
  std::vector<std::string> names;
  for (int i = 0; i <= int(best_isa()); ++i) names.push_back(kIsaNames[i]);
  return names;
}

void use_instruction_set(const std::string& name) {
  const auto names = instruction_sets();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) {
      g_isa = int(i);
      return;
    }
  throw Error("kernels: instruction set '" + name + "' is not available on this CPU or in this build");
}

void relu_(const torch::Tensor& x) {
  RECORD_FUNCTION("lowlight::relu_", std::vector<c10::IValue>());  // visible to the profiler
  check_input(x, "relu_");
  dispatch(x, [&](auto ops, auto* type) {
    using T = std::remove_pointer_t<decltype(type)>;
    T* p = data<T>(x);
    at::parallel_for(0, x.numel(), 65536, [&](int64_t b, int64_t e) { ops.relu(p + b, e - b); });
  });
}

void add_(const torch::Tensor& x, const torch::Tensor& y) {
  RECORD_FUNCTION("lowlight::add_", std::vector<c10::IValue>());  // visible to the profiler
  check_input(x, "add_");
  check_input(y, "add_");
  check(x.sizes() == y.sizes() && x.scalar_type() == y.scalar_type(), "add_",
        "shapes or types differ: " + c10::str(x.sizes(), " vs ", y.sizes()));
  dispatch(x, [&](auto ops, auto* type) {
    using T = std::remove_pointer_t<decltype(type)>;
    T* p = data<T>(x);
    const T* q = data<T>(y);
    at::parallel_for(0, x.numel(), 65536, [&](int64_t b, int64_t e) { ops.add(p + b, q + b, e - b); });
  });
}

torch::Tensor max_pool2(const std::vector<torch::Tensor>& xs) {
  RECORD_FUNCTION("lowlight::max_pool2", std::vector<c10::IValue>());  // visible to the profiler
  check(!xs.empty(), "max_pool2", "no input");
  const torch::Tensor& x0 = xs[0];
  int64_t channels = 0;
  for (const auto& x : xs) {
    check_input(x, "max_pool2");
    check(x.size(0) == x0.size(0) && x.size(2) == x0.size(2) && x.size(3) == x0.size(3) &&
              x.scalar_type() == x0.scalar_type() && x.size(2) % 2 == 0 && x.size(3) % 2 == 0,
          "max_pool2", "inputs must share even sides and a type, found " + c10::str(x.sizes(), " and ", x0.sizes()));
    channels += x.size(1);
  }
  const int64_t N = x0.size(0), H = x0.size(2), W = x0.size(3), wo = W / 2;
  torch::Tensor out = empty_like_nhwc(x0, channels, H / 2, wo);
  dispatch(x0, [&](auto ops, auto* type) {
    using T = std::remove_pointer_t<decltype(type)>;
    T* o = data<T>(out);
    at::parallel_for(0, N * (H / 2), grain(W * channels), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        int64_t offset = 0;
        for (const auto& x : xs) {
          const int64_t C = x.size(1);
          const T* a = data<T>(x) + 2 * r * W * C;  // output row r reads input rows 2r and 2r+1 (H even)
          ops.max_pool2_row(a, a + W * C, o + r * wo * channels + offset, wo, C, channels);
          offset += C;
        }
      }
    });
  });
  return out;
}

namespace {

// A per-pixel reduction over channels into an N x `channels` x H x W map: row(ops, in, out, first, count, C)
// handles `count` pixels from `first`.
template <class Row>
torch::Tensor per_pixel(const torch::Tensor& x, int64_t channels, const char* op, const Row& row) {
  check_input(x, op);
  const int64_t C = x.size(1);
  torch::Tensor out = empty_like_nhwc(x, channels, x.size(2), x.size(3));
  dispatch(x, [&](auto ops, auto* type) {
    using T = std::remove_pointer_t<decltype(type)>;
    const T* in = data<T>(x);
    T* o = data<T>(out);
    at::parallel_for(0, x.numel() / C, grain(C), [&](int64_t b, int64_t e) {
      row(ops, in + b * C, o + b * channels, e - b, C);
    });
  });
  return out;
}

}  // namespace

torch::Tensor channel_max_mean(const torch::Tensor& x) {
  RECORD_FUNCTION("lowlight::channel_max_mean", std::vector<c10::IValue>());  // visible to the profiler
  return per_pixel(x, 2, "channel_max_mean", [](auto ops, auto* in, auto* out, int64_t n, int64_t C) {
    ops.max_mean(in, out, n, C);
  });
}

torch::Tensor spatial_logits(const torch::Tensor& x, float w_max, float w_mean, float bias) {
  RECORD_FUNCTION("lowlight::spatial_logits", std::vector<c10::IValue>());  // visible to the profiler
  return per_pixel(x, 1, "spatial_logits", [&](auto ops, auto* in, auto* out, int64_t n, int64_t C) {
    ops.max_mean_logits(in, out, n, C, w_max, w_mean, bias);
  });
}

torch::Tensor dense(const torch::Tensor& v, const torch::nn::Conv2dImpl& conv) {
  const torch::Tensor &w = conv.weight, &b = conv.bias;
  check(w.dim() == 4 && w.size(2) == 1 && w.size(3) == 1 && b.defined(), "dense", "expected a 1x1 convolution with bias");
  const int64_t N = v.size(0), in = w.size(1), out = w.size(0);
  check(v.dim() == 2 && v.size(1) == in && v.scalar_type() == torch::kFloat, "dense",
        "expected N x " + std::to_string(in) + " float vectors, found " + c10::str(v.sizes(), " ", v.scalar_type()));
  // A few hundred multiply-adds: plain loops in fp32 beat any call into a library.
  const torch::Tensor wf = w.to(torch::kFloat).contiguous(), bf = b.to(torch::kFloat).contiguous(), vf = v.contiguous();
  torch::Tensor result = torch::empty({N, out}, torch::kFloat);
  const float *W = wf.data_ptr<float>(), *B = bf.data_ptr<float>(), *V = vf.data_ptr<float>();
  float* R = result.data_ptr<float>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < out; ++o) {
      float acc = B[o];
      for (int64_t i = 0; i < in; ++i) acc += W[o * in + i] * V[n * in + i];
      R[n * out + o] = acc;
    }
  return result;
}

torch::Tensor spatial_mean(const torch::Tensor& x) {
  RECORD_FUNCTION("lowlight::spatial_mean", std::vector<c10::IValue>());  // visible to the profiler
  check_input(x, "spatial_mean");
  const int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
  // Fixed chunks with their own partial sums, added in order: the result does not depend on the thread count.
  const int64_t chunk = std::max<int64_t>(1, grain(C)), chunks = (HW + chunk - 1) / chunk;
  torch::Tensor partial = torch::zeros({N, chunks, C}, torch::kFloat);
  float* acc = partial.data_ptr<float>();
  dispatch(x, [&](auto ops, auto* type) {
    using T = std::remove_pointer_t<decltype(type)>;
    const T* in = data<T>(x);
    at::parallel_for(0, N * chunks, 1, [&](int64_t b, int64_t e) {
      for (int64_t j = b; j < e; ++j) {
        const int64_t n = j / chunks, start = (j % chunks) * chunk, count = std::min(chunk, HW - start);
        ops.channel_sums(in + (n * HW + start) * C, acc + j * C, count, C);
      }
    });
  });
  return partial.sum(1).div_(double(std::max<int64_t>(1, HW)));
}

torch::Tensor attention_products(const torch::Tensor& x, const torch::Tensor& ca, const torch::Tensor& sa) {
  RECORD_FUNCTION("lowlight::attention_products", std::vector<c10::IValue>());  // visible to the profiler
  check_input(x, "attention_products");
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  check_spatial(sa, x, "attention_products");
  const torch::Tensor s = sa.contiguous(), c = channel_vector(ca, x, "attention_products");
  torch::Tensor out = empty_like_nhwc(x, 2 * C, H, W);
  dispatch(x, [&](auto ops, auto* type) {
    using T = std::remove_pointer_t<decltype(type)>;
    const T *in = data<T>(x), *sp = data<T>(s);
    const float* cp = c.data_ptr<float>();
    T* o = data<T>(out);
    at::parallel_for(0, N * H, grain(W * C), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r)
        ops.products(in + r * W * C, cp + (r / H) * C, sp + r * W, o + r * W * 2 * C, W, C);
    });
  });
  return out;
}

torch::Tensor gate_add(const torch::Tensor& g, const torch::Tensor& sa, const torch::Tensor& x) {
  RECORD_FUNCTION("lowlight::gate_add", std::vector<c10::IValue>());  // visible to the profiler
  check_input(g, "gate_add");
  check_input(x, "gate_add");
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  check(g.size(0) == N && g.size(1) == 2 * C && g.size(2) == H && g.size(3) == W && g.scalar_type() == x.scalar_type(),
        "gate_add", "expected " + std::to_string(2 * C) + " channels of " + c10::str(x.sizes()) + ", found " +
                        c10::str(g.sizes()));
  check_spatial(sa, x, "gate_add");
  const torch::Tensor s = sa.contiguous();
  torch::Tensor out = empty_like_nhwc(x, C, H, W);
  dispatch(x, [&](auto ops, auto* type) {
    using T = std::remove_pointer_t<decltype(type)>;
    const T *gp = data<T>(g), *sp = data<T>(s), *xp = data<T>(x);
    T* o = data<T>(out);
    at::parallel_for(0, N * H * W, grain(3 * C), [&](int64_t b, int64_t e) {
      ops.gate_add(gp + b * 2 * C, sp + b, xp + b * C, o + b * C, e - b, C);
    });
  });
  return out;
}

torch::Tensor weighted_sum(const std::vector<Lazy>& xs, const std::vector<torch::Tensor>& weights) {
  RECORD_FUNCTION("lowlight::weighted_sum", std::vector<c10::IValue>());  // visible to the profiler
  check(!xs.empty() && xs.size() == weights.size(), "weighted_sum", "one weight per input needed");
  const torch::Tensor& x0 = xs[0].t;
  const int64_t N = x0.size(0), C = x0.size(1), H = x0.size(2) << xs[0].shift, W = x0.size(3) << xs[0].shift;
  std::vector<torch::Tensor> w(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const torch::Tensor& t = xs[i].t;
    check_input(t, "weighted_sum");
    check(xs[i].shift >= 0 && xs[i].shift < 16 && t.size(0) == N && t.size(1) == C &&
              (t.size(2) << xs[i].shift) == H && (t.size(3) << xs[i].shift) == W &&
              t.scalar_type() == x0.scalar_type(),
          "weighted_sum", "input " + std::to_string(i) + " is " + c10::str(t.sizes()) + " up-sampled " +
                              std::to_string(xs[i].shift) + " times, expected " + c10::str(x0.sizes()) + " up-sampled " +
                              std::to_string(xs[0].shift) + " times");
    w[i] = channel_vector(weights[i], t, "weighted_sum");
  }
  torch::Tensor out = empty_like_nhwc(x0, C, H, W);
  dispatch(x0, [&](auto ops, auto* type) {
    using T = std::remove_pointer_t<decltype(type)>;
    const int inputs = int(xs.size());
    T* o = data<T>(out);
    at::parallel_for(0, N * H, grain(W * C * inputs), [&](int64_t b, int64_t e) {
      std::vector<const T*> src(inputs);
      std::vector<const float*> wp(inputs);
      std::vector<int> shift(inputs);
      for (int64_t r = b; r < e; ++r) {
        const int64_t n = r / H, y = r % H;
        for (int i = 0; i < inputs; ++i) {
          shift[i] = xs[i].shift;
          const int64_t h = H >> shift[i], wi = W >> shift[i];
          src[i] = data<T>(xs[i].t) + (n * h + (y >> shift[i])) * wi * C;
          wp[i] = w[i].data_ptr<float>() + n * C;
        }
        ops.weighted_row(src.data(), shift.data(), wp.data(), inputs, o + r * W * C, W, C);
      }
    });
  });
  return out;
}

namespace {

std::optional<c10::OperatorHandle> find_op(const char* name) {
  auto op = c10::Dispatcher::singleton().findSchema({name, ""});
  return op ? std::optional<c10::OperatorHandle>(*op) : std::nullopt;
}

torch::Tensor call(const c10::OperatorHandle& op, torch::jit::Stack stack) {
  op.callBoxed(&stack);
  return stack.at(0).toTensor();
}

}  // namespace

struct ConvRelu::State {
  std::mutex mutex;
  const char* path = "unfused";
  bool failed = false;    // a fused call threw once: this LibTorch's operator differs, stay unfused
  c10::IValue prepacked;  // 1.13: the weights in oneDNN's layout, with the ReLU attribute
  const void* weight = nullptr;
  const void* bias = nullptr;
  int64_t weight_version = -1, bias_version = -1;
};

ConvRelu::ConvRelu() : state_(std::make_shared<State>()) {}

const char* ConvRelu::path() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->path;
}

torch::Tensor ConvRelu::operator()(torch::nn::Conv2dImpl& conv, const torch::Tensor& x) const {
  static const auto pointwise = find_op("mkldnn::_convolution_pointwise");
  static const auto prepack = find_op("mkldnn_prepacked::conv2d_prepack");
  static const auto run = find_op("mkldnn_prepacked::conv2d_run");
  const torch::Tensor &w = conv.weight, &b = conv.bias;
  State& s = *state_;
  const bool fusable = applies(x) && w.scalar_type() == x.scalar_type() && b.defined() &&
                       (pointwise || (prepack && run));
  if (fusable) {
    std::unique_lock<std::mutex> lock(s.mutex);
    if (!s.failed) try {
        const std::vector<int64_t> one{1, 1}, pad{w.size(2) / 2, w.size(3) / 2};
        if (pointwise) {
          s.path = "pointwise";
          lock.unlock();
          return call(*pointwise, {x, w, b, pad, one, one, int64_t(1), std::string("relu"),
                                   c10::List<c10::optional<c10::Scalar>>(), c10::IValue()});
        }
        // Weights changed (loaded, converted, edited in place) since they were packed: pack again.
        if (s.weight != w.data_ptr() || s.bias != b.data_ptr() || s.weight_version != int64_t(w._version()) ||
            s.bias_version != int64_t(b._version())) {
          const std::vector<int64_t> sizes(x.sizes().begin(), x.sizes().end());  // a hint: any size runs
          torch::jit::Stack stack{w, b, one, pad, one, int64_t(1), sizes, std::string("relu")};
          prepack->callBoxed(&stack);
          s.prepacked = stack.at(0);
          s.weight = w.data_ptr(), s.bias = b.data_ptr();
          s.weight_version = w._version(), s.bias_version = b._version();
        }
        s.path = "prepacked";
        const c10::IValue context = s.prepacked;
        lock.unlock();
        return call(*run, {x, context});
      } catch (const c10::Error&) {
        if (!lock.owns_lock()) lock.lock();
        s.failed = true;  // fall through to the unfused path, now and from now on
      }
  }
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    s.path = "unfused";
  }
  auto y = conv.forward(x);
  if (applies(y)) relu_(y);
  else y.relu_();
  return y;
}

}  // namespace kernels
}  // namespace lowlight
