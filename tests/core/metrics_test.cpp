// PSNR, SSIM and autocontrast against hand-computed values, a brute-force SSIM, and PIL.
// Values marked "PIL" / "numpy reference" come from `/usr/bin/python3 tests/core/metrics_reference.py`.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "lowlight/error.h"
#include "lowlight/metrics.h"

namespace lowlight {
namespace {

Image make_f32(int w, int h, int c, const std::vector<float>& values) {
  Image img(w, h, c, SampleType::F32);
  EXPECT_EQ(values.size(), static_cast<size_t>(w) * h * c);
  std::memcpy(img.bytes.data(), values.data(), values.size() * sizeof(float));
  return img;
}

Image make_u8(int w, int h, int c, const std::vector<uint8_t>& values) {
  Image img(w, h, c, SampleType::U8);
  EXPECT_EQ(values.size(), img.bytes.size());
  std::memcpy(img.bytes.data(), values.data(), values.size());
  return img;
}

Image filled_u8(int w, int h, int c, uint8_t v) {
  Image img(w, h, c, SampleType::U8);
  std::fill(img.bytes.begin(), img.bytes.end(), v);
  return img;
}

float* f32(Image& img) { return reinterpret_cast<float*>(img.bytes.data()); }

// Same formula as pattern() in metrics_reference.py.
Image pattern(int w, int h, int c, int salt) {
  Image img(w, h, c, SampleType::F32);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k)
        f32(img)[(y * w + x) * c + k] = ((x * 37 + y * 91 + k * 53 + x * y * 7 + salt * 11) % 256) / 255.0;
  return img;
}

// The metrics read F32 samples as floats; the reference works in double on the same float values.
Image blend_pattern(const Image& a, const Image& b) {
  Image out = a;
  for (size_t i = 0; i < a.bytes.size() / 4; ++i) {
    const double v = reinterpret_cast<const float*>(a.bytes.data())[i] * 0.8 +
                     reinterpret_cast<const float*>(b.bytes.data())[i] * 0.2;
    f32(out)[i] = static_cast<float>(std::min(1.0, std::max(0.0, v)));
  }
  return out;
}

// Straight from the SSIM definition with a 2-D window and explicit (x - mean) sums: shares nothing with
// the separable E[x^2] - mean^2 form in core.
double brute_ssim(const Image& a, const Image& b) {
  const int w = a.width, h = a.height, channels = a.channels;
  const int kh = std::min(11, h), kw = std::min(11, w);
  std::vector<double> win(kh * kw);
  double sum = 0;
  for (int i = 0; i < kh; ++i)
    for (int j = 0; j < kw; ++j) {
      const double dy = i - (kh - 1) / 2.0, dx = j - (kw - 1) / 2.0;
      sum += win[i * kw + j] = std::exp(-(dx * dx + dy * dy) / (2 * 1.5 * 1.5));
    }
  for (double& v : win) v /= sum;
  auto at = [&](const Image& img, int y, int x, int c) {
    return static_cast<double>(reinterpret_cast<const float*>(img.bytes.data())[(y * w + x) * channels + c]);
  };
  const double c1 = 1e-4, c2 = 9e-4;
  double total = 0;
  for (int c = 0; c < channels; ++c) {
    double channel = 0;
    for (int y0 = 0; y0 + kh <= h; ++y0)
      for (int x0 = 0; x0 + kw <= w; ++x0) {
        double mx = 0, my = 0;
        for (int i = 0; i < kh; ++i)
          for (int j = 0; j < kw; ++j) {
            mx += win[i * kw + j] * at(a, y0 + i, x0 + j, c);
            my += win[i * kw + j] * at(b, y0 + i, x0 + j, c);
          }
        double vx = 0, vy = 0, cov = 0;
        for (int i = 0; i < kh; ++i)
          for (int j = 0; j < kw; ++j) {
            const double dx = at(a, y0 + i, x0 + j, c) - mx, dy = at(b, y0 + i, x0 + j, c) - my;
            vx += win[i * kw + j] * dx * dx;
            vy += win[i * kw + j] * dy * dy;
            cov += win[i * kw + j] * dx * dy;
          }
        channel += ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      }
    total += channel / ((h - kh + 1) * (w - kw + 1));
  }
  return total / channels;
}

at::Tensor to_nchw(const Image& img) {
  const auto t = at::from_blob(const_cast<uint8_t*>(img.bytes.data()), {img.height, img.width, img.channels},
                               at::kFloat);
  return t.permute({2, 0, 1}).unsqueeze(0).clone();
}

// ---------------- PSNR ----------------

TEST(Psnr, ConstantDifferenceIsMinus20Log10D) {
  for (int d : {1, 5, 64, 255}) {
    const Image a = filled_u8(9, 7, 3, 0);
    const Image b = filled_u8(9, 7, 3, static_cast<uint8_t>(d));
    EXPECT_NEAR(psnr(a.view(), b.view()), -20.0 * std::log10(d / 255.0), 1e-9) << "d = " << d;
  }
  Image a = make_f32(2, 1, 1, {0.25f, 0.75f});
  Image b = make_f32(2, 1, 1, {0.35f, 0.65f});
  EXPECT_NEAR(psnr(a.view(), b.view()), 20.0, 1e-5);  // d = 0.1 everywhere
}

TEST(Psnr, HandComputedTwoByTwo) {
  // Differences 0.5, 0, 0.25, 0 -> MSE (0.25 + 0.0625) / 4 = 0.078125 -> 10 log10(12.8) dB.
  const Image a = make_f32(2, 2, 1, {0.0f, 0.5f, 1.0f, 0.25f});
  const Image b = make_f32(2, 2, 1, {0.5f, 0.5f, 0.75f, 0.25f});
  EXPECT_NEAR(psnr(a.view(), b.view()), 10.0 * std::log10(12.8), 1e-12);
  EXPECT_NEAR(psnr(a.view(), b.view()), 11.072099696478684, 1e-12);
}

TEST(Psnr, IdenticalIsInfinite) {
  const Image a = pattern(5, 4, 3, 0);
  EXPECT_EQ(psnr(a.view(), a.view()), std::numeric_limits<double>::infinity());
  EXPECT_EQ(psnr_seed_compat(a.view(), a.view()), std::numeric_limits<double>::infinity());
}

TEST(Psnr, SeedCompatAddsTwentyLog10Of255) {
  EXPECT_NEAR(kSeedCompatPsnrOffset, 20.0 * std::log10(255.0), 1e-12);
  const Image a = pattern(6, 5, 3, 0), b = pattern(6, 5, 3, 1);
  EXPECT_NEAR(psnr_seed_compat(a.view(), b.view()) - psnr(a.view(), b.view()), 48.1308036086791, 1e-9);
}

TEST(Psnr, U8AndU16AreNormalizedFirst) {
  const Image a8 = make_u8(2, 1, 1, {10, 200});
  Image a16(2, 1, 1, SampleType::U16);
  reinterpret_cast<uint16_t*>(a16.bytes.data())[0] = 10 * 257;
  reinterpret_cast<uint16_t*>(a16.bytes.data())[1] = 200 * 257;
  EXPECT_EQ(psnr(a8.view(), a16.view()), std::numeric_limits<double>::infinity());
  const Image b8 = make_u8(2, 1, 1, {20, 190});  // |d| = 10/255 on both samples
  EXPECT_NEAR(psnr(a16.view(), b8.view()), -20.0 * std::log10(10.0 / 255.0), 1e-9);
}

TEST(Psnr, AlphaIsIgnored) {
  Image a = make_u8(1, 2, 4, {10, 20, 30, 255, 40, 50, 60, 0});
  Image b = make_u8(1, 2, 4, {12, 20, 30, 0, 40, 50, 60, 255});  // one colour sample off by 2
  Image b_rgb = make_u8(1, 2, 3, {12, 20, 30, 40, 50, 60});
  const double expected = -10.0 * std::log10((2.0 / 255) * (2.0 / 255) / 6.0);
  EXPECT_NEAR(psnr(a.view(), b.view()), expected, 1e-9);
  EXPECT_NEAR(psnr(a.view(), b_rgb.view()), expected, 1e-9);
  Image ga = make_u8(2, 1, 2, {100, 0, 50, 0});
  Image gb = make_u8(2, 1, 2, {100, 255, 50, 7});
  EXPECT_EQ(psnr(ga.view(), gb.view()), std::numeric_limits<double>::infinity());
}

TEST(Psnr, MismatchedSizesNameBoth) {
  const Image a = filled_u8(4, 3, 3, 1), b = filled_u8(3, 4, 3, 1);
  try {
    psnr(a.view(), b.view());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("4x3x3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("3x4x3"), std::string::npos) << e.what();
  }
  const Image gray = filled_u8(4, 3, 1, 1);
  EXPECT_THROW(psnr(a.view(), gray.view()), Error);
  EXPECT_THROW(ssim(a.view(), b.view()), Error);
  EXPECT_THROW(psnr(a.view(), ImageView{}), Error);
}

TEST(PsnrGtMean, AGlobalGainIsForgiven) {
  // b = 2a exactly: the gain mean(b)/mean(a) = 2 recovers b, while plain PSNR sees the difference.
  const Image a = make_f32(2, 2, 1, {0.1f, 0.2f, 0.3f, 0.4f});
  const Image b = make_f32(2, 2, 1, {0.2f, 0.4f, 0.6f, 0.8f});
  EXPECT_EQ(psnr_gt_mean(a.view(), b.view()), std::numeric_limits<double>::infinity());
  EXPECT_LT(psnr(a.view(), b.view()), 15.0);
}

TEST(PsnrGtMean, HandComputedWithClamping) {
  // Means 0.25 and 0.5: gain 2 -> a' = {0, 1 (clamped from 1.2), 0.2, 0.6}; differences to b
  // {0, 0.5, 0.3, 0.4} -> MSE 0.5 / 4.
  const Image a = make_f32(2, 2, 1, {0.0f, 0.6f, 0.1f, 0.3f});
  const Image b = make_f32(2, 2, 1, {0.0f, 0.5f, 0.5f, 1.0f});
  EXPECT_NEAR(psnr_gt_mean(a.view(), b.view()), -10.0 * std::log10(0.125), 1e-5);
}

// ---------------- SSIM ----------------

TEST(Ssim, IdenticalIsOne) {
  const Image a = pattern(20, 15, 3, 0);
  EXPECT_NEAR(ssim(a.view(), a.view()), 1.0, 1e-12);
  const Image tiny = pattern(3, 2, 1, 0);
  EXPECT_NEAR(ssim(tiny.view(), tiny.view()), 1.0, 1e-12);
}

TEST(Ssim, ConstantImagesGiveTheLuminanceTerm) {
  // Zero variance: the contrast-structure term is C2 / C2 = 1, so SSIM = (2xy + C1) / (x^2 + y^2 + C1).
  Image a(16, 12, 1, SampleType::F32), b(16, 12, 1, SampleType::F32);
  std::fill(f32(a), f32(a) + 16 * 12, 0.25f);
  std::fill(f32(b), f32(b) + 16 * 12, 0.75f);
  const double expected = (2 * 0.25 * 0.75 + 1e-4) / (0.0625 + 0.5625 + 1e-4);  // 0.3751 / 0.6251
  EXPECT_NEAR(ssim(a.view(), b.view()), expected, 1e-9);
  EXPECT_NEAR(ssim(a.view(), b.view()), 0.6000639897616381, 1e-9);
  // A 1x1 image is its own window: the same luminance term.
  const Image p = make_f32(1, 1, 1, {0.25f}), q = make_f32(1, 1, 1, {0.75f});
  EXPECT_NEAR(ssim(p.view(), q.view()), expected, 1e-12);
}

TEST(Ssim, MatchesBruteForceDefinition) {
  const Image a = pattern(16, 13, 3, 0);
  const Image b = blend_pattern(a, pattern(16, 13, 3, 5));
  EXPECT_NEAR(ssim(a.view(), b.view()), brute_ssim(a, b), 1e-12);
  const Image c = pattern(7, 5, 1, 1), d = pattern(7, 5, 1, 2);  // smaller than the window
  EXPECT_NEAR(ssim(c.view(), d.view()), brute_ssim(c, d), 1e-12);
  const Image e = pattern(30, 11, 2, 3), f = pattern(30, 11, 2, 4);  // gray + alpha: alpha ignored
  Image e_gray(30, 11, 1, SampleType::F32), f_gray(30, 11, 1, SampleType::F32);
  for (int i = 0; i < 30 * 11; ++i) {
    f32(e_gray)[i] = reinterpret_cast<const float*>(e.bytes.data())[2 * i];
    f32(f_gray)[i] = reinterpret_cast<const float*>(f.bytes.data())[2 * i];
  }
  EXPECT_NEAR(ssim(e.view(), f.view()), brute_ssim(e_gray, f_gray), 1e-12);
}

TEST(Ssim, MatchesNumpyReference) {
  // numpy reference (metrics_reference.py): "ssim 16x13 rgb" and "ssim 7x5 gray".
  const Image a = pattern(16, 13, 3, 0);
  const Image b = blend_pattern(a, pattern(16, 13, 3, 5));
  EXPECT_NEAR(ssim(a.view(), b.view()), 0.9514562808139454, 1e-12);
  const Image c = pattern(7, 5, 1, 1), d = pattern(7, 5, 1, 2);
  EXPECT_NEAR(ssim(c.view(), d.view()), 0.82218083570667677, 1e-12);
  EXPECT_LT(ssim(c.view(), d.view()), 1.0);
}

// ---------------- tensor forms ----------------

TEST(TensorMetrics, AgreeWithImageForms) {
  const std::vector<std::pair<int, int>> sizes = {{16, 13}, {7, 5}, {1, 1}, {24, 11}};
  for (auto [w, h] : sizes) {
    const Image a0 = pattern(w, h, 3, 0), b0 = blend_pattern(a0, pattern(w, h, 3, 5));
    const Image a1 = pattern(w, h, 3, 2), b1 = pattern(w, h, 3, 7);
    const auto ta = at::cat({to_nchw(a0), to_nchw(a1)});
    const auto tb = at::cat({to_nchw(b0), to_nchw(b1)});
    for (auto type : {at::kFloat, at::kDouble}) {
      const double tol = type == at::kDouble ? 1e-10 : 1e-4;
      const auto p = psnr(ta.to(type), tb.to(type));
      const auto s = ssim(ta.to(type), tb.to(type));
      ASSERT_EQ(p.dim(), 1);
      ASSERT_EQ(p.size(0), 2);
      ASSERT_EQ(s.size(0), 2);
      EXPECT_NEAR(p[0].item<double>(), psnr(a0.view(), b0.view()), tol) << w << "x" << h;
      EXPECT_NEAR(p[1].item<double>(), psnr(a1.view(), b1.view()), tol) << w << "x" << h;
      EXPECT_NEAR(s[0].item<double>(), ssim(a0.view(), b0.view()), tol) << w << "x" << h;
      EXPECT_NEAR(s[1].item<double>(), ssim(a1.view(), b1.view()), tol) << w << "x" << h;
    }
  }
}

TEST(TensorMetrics, IdenticalAndErrors) {
  const auto t = at::rand({2, 3, 12, 12}, at::kFloat);
  EXPECT_TRUE(std::isinf(psnr(t, t)[0].item<double>()));
  EXPECT_NEAR(ssim(t, t)[1].item<double>(), 1.0, 1e-5);
  EXPECT_THROW(psnr(t, at::rand({2, 3, 12, 11})), Error);
  EXPECT_THROW(ssim(t, at::rand({3, 12, 12})), Error);
  EXPECT_THROW(ssim(t.to(at::kInt), t.to(at::kInt)), Error);
}

TEST(TensorMetrics, SsimIsDifferentiable) {
  auto a = at::rand({1, 3, 14, 14}).requires_grad_(true);
  const auto b = at::rand({1, 3, 14, 14});
  ssim(a, b).sum().backward();
  ASSERT_TRUE(a.grad().defined());
  EXPECT_GT(a.grad().abs().sum().item<double>(), 0.0);
}

// ---------------- autocontrast ----------------

TEST(Autocontrast, HandComputedRgb) {
  // R: lo 10, hi 20, scale 25.5: 11 -> 25.5 -> 25 (PIL truncates), 15 -> 127.5 -> 127, 20 -> 255.
  // G: one value -> left as is. B: already spans 0..255 -> identity.
  const Image in = make_u8(2, 2, 3, {10, 77, 0, 11, 77, 255, 15, 77, 9, 20, 77, 128});
  const Image out = autocontrast(in.view());
  const std::vector<uint8_t> expected = {0, 77, 0, 25, 77, 255, 127, 77, 9, 255, 77, 128};
  EXPECT_EQ(out.bytes, expected);
  EXPECT_EQ(out.type, SampleType::U8);
  EXPECT_EQ(out.channels, 3);
}

TEST(Autocontrast, AlphaIsCopiedAndGrayWorks) {
  const Image in = make_u8(3, 1, 2, {50, 1, 100, 2, 200, 3});
  const Image out = autocontrast(in.view());
  // scale 1.7, offset -85: 100 * 1.7 - 85 = 85, 200 -> 255.
  EXPECT_EQ(out.bytes, (std::vector<uint8_t>{0, 1, 85, 2, 255, 3}));
}

// Same as autocontrast_image() in metrics_reference.py.
Image autocontrast_input() {
  const int lo[3] = {30, 5, 100}, span[3] = {171, 56, 8};
  Image img(8, 6, 3, SampleType::U8);
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 8; ++x)
      for (int k = 0; k < 3; ++k)
        img.bytes[(y * 8 + x) * 3 + k] = static_cast<uint8_t>(lo[k] + (x * 37 + y * 91 + k * 53 + x * y * 7) % span[k]);
  return img;
}

TEST(Autocontrast, MatchesPil) {
  // PIL 9.4 ImageOps.autocontrast (metrics_reference.py, "pil autocontrast 8x6 rgb").
  const std::vector<uint8_t> pil = {
      0,   250, 72,  56,  160, 255, 113, 70,  145, 170, 245, 36,  227, 155, 218, 21,  66,  109, 78,  240,
      0,   135, 151, 182, 139, 151, 182, 207, 94,  36,  12,  37,  182, 79,  245, 36,  147, 188, 182, 215,
      132, 36,  19,  75,  182, 87,  18,  36,  16,  51,  0,   95,  28,  109, 173, 4,   218, 251, 245, 36,
      67,  221, 145, 145, 198, 255, 224, 174, 72,  39,  151, 182, 156, 217, 109, 245, 226, 182, 72,  236,
      255, 161, 245, 36,  250, 255, 109, 76,  0,   182, 165, 9,   255, 254, 18,  36,  33,  118, 218, 133,
      160, 255, 233, 203, 0,   70,  245, 36,  170, 23,  72,  7,   66,  109, 107, 108, 145, 207, 151, 182,
      173, 18,  36,  21,  94,  36,  132, 170, 36,  242, 245, 36,  90,  56,  36,  201, 132, 36,  49,  207,
      36,  159, 18,  36};
  EXPECT_EQ(autocontrast(autocontrast_input().view()).bytes, pil);
}

TEST(Autocontrast, LookupTableMatchesPilForEveryRange) {
  // For every 0 <= lo < hi <= 255: a gray row lo..hi, FNV-1a 64 over the outputs in order.
  // PIL's checksum: metrics_reference.py, "pil lut checksum".
  uint64_t hash = 0xcbf29ce484222325ull;
  for (int lo = 0; lo < 256; ++lo) {
    for (int hi = lo + 1; hi < 256; ++hi) {
      Image row(hi - lo + 1, 1, 1, SampleType::U8);
      for (int v = lo; v <= hi; ++v) row.bytes[v - lo] = static_cast<uint8_t>(v);
      for (uint8_t v : autocontrast(row.view()).bytes) {
        hash ^= v;
        hash *= 0x100000001b3ull;
      }
    }
  }
  EXPECT_EQ(hash, 0xcd2de2e5f4b5699aull);
}

TEST(Autocontrast, U16AndF32StretchToTheirRange) {
  Image u16(3, 1, 2, SampleType::U16);
  auto* s = reinterpret_cast<uint16_t*>(u16.bytes.data());
  const uint16_t in16[] = {1000, 7, 2000, 8, 3000, 9};
  std::copy(std::begin(in16), std::end(in16), s);
  const Image out16 = autocontrast(u16.view());
  const auto* o = reinterpret_cast<const uint16_t*>(out16.bytes.data());
  // scale 65535 / 2000 = 32.7675: 2000 -> 32767.5 -> 32767.
  EXPECT_EQ(std::vector<uint16_t>(o, o + 6), (std::vector<uint16_t>{0, 7, 32767, 8, 65535, 9}));

  Image f = make_f32(3, 1, 1, {0.2f, 0.4f, 0.6f});
  const Image outf = autocontrast(f.view());
  const auto* of = reinterpret_cast<const float*>(outf.bytes.data());
  EXPECT_FLOAT_EQ(of[0], 0.0f);
  EXPECT_FLOAT_EQ(of[1], 0.5f);
  EXPECT_FLOAT_EQ(of[2], 1.0f);

  Image flat = make_f32(2, 1, 1, {0.3f, 0.3f});
  EXPECT_EQ(autocontrast(flat.view()).bytes, flat.bytes);
}

TEST(Autocontrast, HonoursRowStride) {
  // 2x2 gray with 3 padding bytes per row that must not enter the histogram.
  std::vector<uint8_t> buffer = {40, 60, 0, 0, 255, 50, 80, 0, 0, 255};
  ImageView view{buffer.data(), 2, 2, 1, SampleType::U8, 5};
  const Image out = autocontrast(view);
  // lo 40, hi 80, scale 6.375: 60 -> 127.5 -> 127, 50 -> 63.75 -> 63.
  EXPECT_EQ(out.bytes, (std::vector<uint8_t>{0, 127, 63, 255}));
}

}  // namespace
}  // namespace lowlight
