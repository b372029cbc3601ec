#pragma once
// Image quality metrics on [0,1] data, and the paper's baseline (PIL ImageOps.autocontrast).
#include "lowlight/image.h"

namespace at { class Tensor; }

namespace lowlight {

// 20*log10(255): what the Keras example's PSNR (max_val 255 on [0,1] data) adds to the true value.
constexpr double kSeedCompatPsnrOffset = 48.130803608679102;

// PSNR with peak 1 on [0,1] data (peak 255 on 8-bit data is the same number). Identical images give
// +infinity. Both images must have the same size and channel count (alpha is ignored).
double psnr(const ConstImageView& a, const ConstImageView& b);
// The Keras example's number: psnr() + kSeedCompatPsnrOffset. Label it "seed-compatible" wherever shown.
inline double psnr_seed_compat(const ConstImageView& a, const ConstImageView& b) {
  return psnr(a, b) + kSeedCompatPsnrOffset;
}

// PSNR of `result` after one gain, mean(reference) / mean(result) over the colour samples, and clamping to
// [0,1] ("GT-mean" PSNR). On LoL the ground truth's exposure varies from scene to scene in ways the low
// input does not show; this separates that global-brightness error from everything else. Not a
// substitute for psnr(): it uses the reference to correct the result.
double psnr_gt_mean(const ConstImageView& result, const ConstImageView& reference);

// SSIM: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, data range 1, valid region only,
// per colour channel, averaged. Along an axis shorter than 11 the window is that axis's length (the
// central taps of the same Gaussian, renormalized), so small images still score; 1x1 gives the luminance term.
double ssim(const ConstImageView& a, const ConstImageView& b);

// Tensor forms for training: N x C x H x W float in [0,1]; results are per image (N values).
at::Tensor psnr(const at::Tensor& a, const at::Tensor& b);
at::Tensor ssim(const at::Tensor& a, const at::Tensor& b);

// PIL ImageOps.autocontrast(image, cutoff=0) applied per colour channel: each channel's darkest value
// maps to 0 and its brightest to the top of the range (a channel with one value is left as is).
// Alpha is copied. Works for U8, U16 and F32.
Image autocontrast(const ConstImageView& image);

}  // namespace lowlight
