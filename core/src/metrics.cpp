// PSNR, SSIM (ImageView and tensor forms) and the paper's autocontrast baseline.
//
// SSIM follows Wang et al. as implemented by tf.image.ssim / skimage (gaussian_weights=True,
// use_sample_covariance=False): a normalized 11x11 Gaussian (sigma 1.5, the outer product of two
// normalized 1-D Gaussians), statistics over the valid region only, C1 = (0.01)^2, C2 = (0.03)^2 for
// data range 1, mean over the map, then the mean over colour channels.
// Images smaller than the window (those libraries reject them) use, along each short axis, a window as
// long as the axis: the central taps of the same Gaussian (offsets i - (k-1)/2, renormalized), so the
// map has one position along that axis. A 1x1 image thus scores the luminance term alone.
#include "lowlight/metrics.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "lowlight/error.h"

namespace lowlight {

namespace {

constexpr int kWindow = 11;
constexpr double kSigma = 1.5;
constexpr double kC1 = 0.01 * 0.01;
constexpr double kC2 = 0.03 * 0.03;

int colour_channels(int channels) { return (channels == 2 || channels == 4) ? channels - 1 : channels; }

std::string size_text(const ConstImageView& v) {
  return std::to_string(v.width) + "x" + std::to_string(v.height) + "x" + std::to_string(v.channels);
}

void check_view(const ConstImageView& v, const char* what) {
  if (!v.data || v.width <= 0 || v.height <= 0) {
    throw Error(std::string(what) + ": image is empty (" + std::to_string(v.width) + "x" +
                std::to_string(v.height) + ")");
  }
  if (v.channels < 1 || v.channels > 4) {
    throw Error(std::string(what) + ": channels must be 1 to 4, found " + std::to_string(v.channels));
  }
  const size_t row = static_cast<size_t>(v.width) * v.channels * sample_size(v.type);
  if (v.stride() < row) throw Error(std::string(what) + ": row stride is smaller than a row");
}

void check_pair(const ConstImageView& a, const ConstImageView& b, const char* what) {
  check_view(a, what);
  check_view(b, what);
  if (a.width != b.width || a.height != b.height || colour_channels(a.channels) != colour_channels(b.channels)) {
    throw Error(std::string(what) + ": images differ in size: " + size_text(a) + " vs " + size_text(b) +
                " (width x height x channels; alpha is ignored)");
  }
}

// Sample (x, channel c) of row y as a double in [0,1] (u8 / 255, u16 / 65535, f32 as is).
double sample_at(const ConstImageView& v, int y, size_t index) {
  const auto* row = static_cast<const uint8_t*>(v.data) + static_cast<size_t>(y) * v.stride();
  switch (v.type) {
    case SampleType::U8: return row[index] / 255.0;
    case SampleType::U16: return reinterpret_cast<const uint16_t*>(row)[index] / 65535.0;
    case SampleType::F32: return reinterpret_cast<const float*>(row)[index];
  }
  return 0.0;
}

// One colour channel as a dense row-major plane of doubles in [0,1].
std::vector<double> plane(const ConstImageView& v, int c) {
  std::vector<double> out(static_cast<size_t>(v.width) * v.height);
  for (int y = 0; y < v.height; ++y) {
    for (int x = 0; x < v.width; ++x) {
      out[static_cast<size_t>(y) * v.width + x] = sample_at(v, y, static_cast<size_t>(x) * v.channels + c);
    }
  }
  return out;
}

// Normalized 1-D Gaussian of length k (k <= 11) centred between its ends.
std::vector<double> gaussian(int k) {
  std::vector<double> g(k);
  double sum = 0.0;
  for (int i = 0; i < k; ++i) {
    const double d = i - (k - 1) / 2.0;
    g[i] = std::exp(-(d * d) / (2.0 * kSigma * kSigma));
    sum += g[i];
  }
  for (double& v : g) v /= sum;
  return g;
}

// Valid-region separable filtering of a w x h plane: result is (w-kw+1) x (h-kh+1).
std::vector<double> filter_valid(const std::vector<double>& in, int w, int h, const std::vector<double>& gx,
                                 const std::vector<double>& gy) {
  const int kw = static_cast<int>(gx.size()), kh = static_cast<int>(gy.size());
  const int ow = w - kw + 1, oh = h - kh + 1;
  std::vector<double> rows(static_cast<size_t>(ow) * h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < ow; ++x) {
      double s = 0.0;
      for (int i = 0; i < kw; ++i) s += gx[i] * in[static_cast<size_t>(y) * w + x + i];
      rows[static_cast<size_t>(y) * ow + x] = s;
    }
  }
  std::vector<double> out(static_cast<size_t>(ow) * oh);
  for (int y = 0; y < oh; ++y) {
    for (int x = 0; x < ow; ++x) {
      double s = 0.0;
      for (int i = 0; i < kh; ++i) s += gy[i] * rows[static_cast<size_t>(y + i) * ow + x];
      out[static_cast<size_t>(y) * ow + x] = s;
    }
  }
  return out;
}

double ssim_plane(const std::vector<double>& x, const std::vector<double>& y, int w, int h) {
  const auto gx = gaussian(std::min(kWindow, w));
  const auto gy = gaussian(std::min(kWindow, h));
  std::vector<double> xx(x.size()), yy(x.size()), xy(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    xx[i] = x[i] * x[i];
    yy[i] = y[i] * y[i];
    xy[i] = x[i] * y[i];
  }
  const auto mx = filter_valid(x, w, h, gx, gy), my = filter_valid(y, w, h, gx, gy);
  const auto exx = filter_valid(xx, w, h, gx, gy), eyy = filter_valid(yy, w, h, gx, gy);
  const auto exy = filter_valid(xy, w, h, gx, gy);
  double total = 0.0;
  for (size_t i = 0; i < mx.size(); ++i) {
    const double vx = exx[i] - mx[i] * mx[i], vy = eyy[i] - my[i] * my[i], cov = exy[i] - mx[i] * my[i];
    total += ((2.0 * mx[i] * my[i] + kC1) * (2.0 * cov + kC2)) /
             ((mx[i] * mx[i] + my[i] * my[i] + kC1) * (vx + vy + kC2));
  }
  return total / static_cast<double>(mx.size());
}

// ---- tensor helpers ----

std::string shape_text(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

// Validates an N x C x H x W pair and returns both as float (double stays double).
std::pair<at::Tensor, at::Tensor> check_tensors(const at::Tensor& a, const at::Tensor& b, const char* what) {
  if (!a.defined() || !b.defined()) throw Error(std::string(what) + ": undefined tensor");
  if (a.dim() != 4 || b.dim() != 4 || a.sizes() != b.sizes()) {
    throw Error(std::string(what) + ": expected two N x C x H x W tensors of the same shape, found " +
                shape_text(a) + " and " + shape_text(b));
  }
  if (a.numel() == 0) throw Error(std::string(what) + ": empty tensor " + shape_text(a));
  if (!a.is_floating_point() || !b.is_floating_point()) {
    throw Error(std::string(what) + ": expected floating-point tensors in [0,1]");
  }
  const auto type = a.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  return {a.to(type), b.to(type)};
}

at::Tensor gaussian_tensor(int k, const at::TensorOptions& options) {
  const auto g = gaussian(k);
  return at::tensor(at::ArrayRef<double>(g), options.dtype(at::kDouble)).to(options.dtype());
}

// ---- autocontrast ----

// PIL's 8-bit lookup table: scale = 255/(hi-lo), offset = -lo*scale, int(v*scale + offset) clipped.
// The product is kept apart from the sum (no fused multiply-add) to round exactly as Python does.
std::array<uint8_t, 256> pil_lut(int lo, int hi) {
  std::array<uint8_t, 256> lut{};
  const double scale = 255.0 / (hi - lo);
  const double offset = -lo * scale;
  for (int v = 0; v < 256; ++v) {
    volatile double product = v * scale;
    const double mapped = std::trunc(product + offset);
    lut[v] = static_cast<uint8_t>(std::clamp(mapped, 0.0, 255.0));
  }
  return lut;
}

void stretch_u8(const ConstImageView& in, Image& out, int c) {
  std::array<size_t, 256> hist{};
  for (int y = 0; y < in.height; ++y) {
    const auto* row = static_cast<const uint8_t*>(in.data) + y * in.stride();
    for (int x = 0; x < in.width; ++x) ++hist[row[x * in.channels + c]];
  }
  int lo = 0, hi = 255;
  while (lo < 255 && !hist[lo]) ++lo;
  while (hi > 0 && !hist[hi]) --hi;
  std::array<uint8_t, 256> lut{};
  if (hi <= lo) {
    for (int v = 0; v < 256; ++v) lut[v] = static_cast<uint8_t>(v);
  } else {
    lut = pil_lut(lo, hi);
  }
  for (int y = 0; y < in.height; ++y) {
    const auto* row = static_cast<const uint8_t*>(in.data) + y * in.stride();
    uint8_t* dst = out.bytes.data() + static_cast<size_t>(y) * out.width * out.channels;
    for (int x = 0; x < in.width; ++x) dst[x * in.channels + c] = lut[row[x * in.channels + c]];
  }
}

// The same linear stretch as PIL's table, to the 16-bit range.
void stretch_u16(const ConstImageView& in, Image& out, int c) {
  int lo = 65535, hi = 0;
  for (int y = 0; y < in.height; ++y) {
    const auto* row = reinterpret_cast<const uint16_t*>(static_cast<const uint8_t*>(in.data) + y * in.stride());
    for (int x = 0; x < in.width; ++x) {
      lo = std::min<int>(lo, row[x * in.channels + c]);
      hi = std::max<int>(hi, row[x * in.channels + c]);
    }
  }
  const double scale = hi > lo ? 65535.0 / (hi - lo) : 1.0;
  const double offset = hi > lo ? -lo * scale : 0.0;
  auto* dst = reinterpret_cast<uint16_t*>(out.bytes.data());
  for (int y = 0; y < in.height; ++y) {
    const auto* row = reinterpret_cast<const uint16_t*>(static_cast<const uint8_t*>(in.data) + y * in.stride());
    for (int x = 0; x < in.width; ++x) {
      volatile double product = row[x * in.channels + c] * scale;
      const double mapped = std::clamp(std::trunc(product + offset), 0.0, 65535.0);
      dst[(static_cast<size_t>(y) * in.width + x) * in.channels + c] = static_cast<uint16_t>(mapped);
    }
  }
}

// Floats stretch to [0,1] exactly; non-finite samples are left out of the range and pass through.
void stretch_f32(const ConstImageView& in, Image& out, int c) {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (int y = 0; y < in.height; ++y) {
    const auto* row = reinterpret_cast<const float*>(static_cast<const uint8_t*>(in.data) + y * in.stride());
    for (int x = 0; x < in.width; ++x) {
      const float v = row[x * in.channels + c];
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  const bool stretch = hi > lo;
  auto* dst = reinterpret_cast<float*>(out.bytes.data());
  for (int y = 0; y < in.height; ++y) {
    const auto* row = reinterpret_cast<const float*>(static_cast<const uint8_t*>(in.data) + y * in.stride());
    for (int x = 0; x < in.width; ++x) {
      const float v = row[x * in.channels + c];
      const double mapped = stretch && std::isfinite(v) ? (static_cast<double>(v) - lo) / (static_cast<double>(hi) - lo) : v;
      dst[(static_cast<size_t>(y) * in.width + x) * in.channels + c] = static_cast<float>(mapped);
    }
  }
}

void copy_channel(const ConstImageView& in, Image& out, int c) {
  const size_t size = sample_size(in.type);
  for (int y = 0; y < in.height; ++y) {
    const auto* row = static_cast<const uint8_t*>(in.data) + y * in.stride();
    uint8_t* dst = out.bytes.data() + static_cast<size_t>(y) * out.width * out.channels * size;
    for (int x = 0; x < in.width; ++x) {
      std::memcpy(dst + (static_cast<size_t>(x) * in.channels + c) * size,
                  row + (static_cast<size_t>(x) * in.channels + c) * size, size);
    }
  }
}

}  // namespace

double psnr(const ConstImageView& a, const ConstImageView& b) {
  check_pair(a, b, "psnr");
  const int colours = colour_channels(a.channels);
  double sum = 0.0;
  for (int y = 0; y < a.height; ++y) {
    for (int x = 0; x < a.width; ++x) {
      for (int c = 0; c < colours; ++c) {
        const double d = sample_at(a, y, static_cast<size_t>(x) * a.channels + c) -
                         sample_at(b, y, static_cast<size_t>(x) * b.channels + c);
        sum += d * d;
      }
    }
  }
  const double mse = sum / (static_cast<double>(a.width) * a.height * colours);
  if (mse == 0.0) return std::numeric_limits<double>::infinity();
  return -10.0 * std::log10(mse);
}

double psnr_gt_mean(const ConstImageView& result, const ConstImageView& reference) {
  check_pair(result, reference, "psnr_gt_mean");
  const int colours = colour_channels(result.channels);
  auto for_each = [&](auto&& f) {
    for (int y = 0; y < result.height; ++y)
      for (int x = 0; x < result.width; ++x)
        for (int c = 0; c < colours; ++c) {
          const size_t i = static_cast<size_t>(x) * result.channels + c;
          f(sample_at(result, y, i), sample_at(reference, y, i));
        }
  };
  double sum_result = 0.0, sum_reference = 0.0;
  for_each([&](double r, double g) { sum_result += r, sum_reference += g; });
  const double gain = sum_result > 0.0 ? sum_reference / sum_result : 1.0;
  double sum = 0.0;
  for_each([&](double r, double g) {
    const double d = std::clamp(gain * r, 0.0, 1.0) - g;
    sum += d * d;
  });
  const double mse = sum / (static_cast<double>(result.width) * result.height * colours);
  if (mse == 0.0) return std::numeric_limits<double>::infinity();
  return -10.0 * std::log10(mse);
}

double ssim(const ConstImageView& a, const ConstImageView& b) {
  check_pair(a, b, "ssim");
  const int colours = colour_channels(a.channels);
  double total = 0.0;
  for (int c = 0; c < colours; ++c) total += ssim_plane(plane(a, c), plane(b, c), a.width, a.height);
  return total / colours;
}

at::Tensor psnr(const at::Tensor& a, const at::Tensor& b) {
  const auto [x, y] = check_tensors(a, b, "psnr");
  const auto mse = (x - y).pow(2).mean({1, 2, 3});
  return -10.0 * at::log10(mse);  // mse 0 gives +inf, as the ImageView form
}

at::Tensor ssim(const at::Tensor& a, const at::Tensor& b) {
  const auto [x, y] = check_tensors(a, b, "ssim");
  const int64_t channels = x.size(1);
  const int kh = static_cast<int>(std::min<int64_t>(kWindow, x.size(2)));
  const int kw = static_cast<int>(std::min<int64_t>(kWindow, x.size(3)));
  const auto options = x.options();
  const auto window = at::outer(gaussian_tensor(kh, options), gaussian_tensor(kw, options))
                          .expand({channels, 1, kh, kw})
                          .contiguous();
  const int64_t one[] = {1, 1}, zero[] = {0, 0};
  auto filter = [&](const at::Tensor& t) { return at::conv2d(t, window, at::Tensor(), one, zero, one, channels); };
  const auto mx = filter(x), my = filter(y);
  const auto vx = filter(x * x) - mx * mx, vy = filter(y * y) - my * my, cov = filter(x * y) - mx * my;
  const auto map = ((2 * mx * my + kC1) * (2 * cov + kC2)) / ((mx * mx + my * my + kC1) * (vx + vy + kC2));
  return map.mean({1, 2, 3});
}

Image autocontrast(const ConstImageView& image) {
  check_view(image, "autocontrast");
  Image out(image.width, image.height, image.channels, image.type);
  const int colours = colour_channels(image.channels);
  for (int c = 0; c < image.channels; ++c) {
    if (c >= colours) {
      copy_channel(image, out, c);  // alpha
      continue;
    }
    switch (image.type) {
      case SampleType::U8: stretch_u8(image, out, c); break;
      case SampleType::U16: stretch_u16(image, out, c); break;
      case SampleType::F32: stretch_f32(image, out, c); break;
    }
  }
  return out;
}

}  // namespace lowlight
