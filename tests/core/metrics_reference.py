#!/usr/bin/python3
"""Independent reference numbers for tests/core/metrics_test.cpp.

Run with the system Python that has numpy and PIL:  /usr/bin/python3 tests/core/metrics_reference.py
It prints the values the C++ test keeps inline; a change here must be copied there by hand.

- SSIM of the two deterministic test images (see `pattern`), computed with a plain numpy 2-D Gaussian
  window (no separable filtering, no shared code with core/src/metrics.cpp).
- PIL ImageOps.autocontrast (cutoff 0) of the deterministic 8-bit RGB test image, and an FNV-1a checksum
  of PIL's output for every 8-bit (lo, hi) pair, so the C++ lookup table is checked exhaustively against
  PIL's rounding.
"""
import numpy as np
from PIL import Image, ImageOps


def pattern(w, h, c, salt):
    """Same formula as pattern() in metrics_test.cpp: values in [0,1] on a 1/255 grid."""
    out = np.zeros((h, w, c))
    for y in range(h):
        for x in range(w):
            for k in range(c):
                out[y, x, k] = ((x * 37 + y * 91 + k * 53 + x * y * 7 + salt * 11) % 256) / 255.0
    return out


def ssim_reference(a, b):
    h, w, c = a.shape
    kh, kw = min(11, h), min(11, w)
    dy = np.arange(kh) - (kh - 1) / 2.0
    dx = np.arange(kw) - (kw - 1) / 2.0
    win = np.exp(-(dy[:, None] ** 2 + dx[None, :] ** 2) / (2 * 1.5 ** 2))
    win /= win.sum()
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    per_channel = []
    for k in range(c):
        x, y = a[:, :, k], b[:, :, k]
        values = []
        for i in range(h - kh + 1):
            for j in range(w - kw + 1):
                px, py = x[i:i + kh, j:j + kw], y[i:i + kh, j:j + kw]
                mx, my = (win * px).sum(), (win * py).sum()
                vx = (win * (px - mx) ** 2).sum()
                vy = (win * (py - my) ** 2).sum()
                cov = (win * (px - mx) * (py - my)).sum()
                values.append(((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2)))
        per_channel.append(np.mean(values))
    return float(np.mean(per_channel))


def autocontrast_image():
    """Same as autocontrast_input() in metrics_test.cpp: 8x6 RGB, each channel in its own narrow range."""
    lo = [30, 5, 100]
    span = [171, 56, 8]
    img = np.zeros((6, 8, 3), np.uint8)
    for y in range(6):
        for x in range(8):
            for k in range(3):
                img[y, x, k] = lo[k] + (x * 37 + y * 91 + k * 53 + x * y * 7) % span[k]
    return img


def lut_checksum():
    """FNV-1a 64 over PIL's output for a gray row lo..hi, for every 0 <= lo < hi <= 255 in order."""
    h = 0xcbf29ce484222325
    for lo in range(256):
        for hi in range(lo + 1, 256):
            row = np.arange(lo, hi + 1, dtype=np.uint8)[None, :]
            out = np.asarray(ImageOps.autocontrast(Image.fromarray(row, "L"))).ravel()
            for v in out.tolist():
                h ^= v
                h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    # The C++ test holds samples as float32: round the same way so the numbers agree to double precision.
    f32 = lambda v: v.astype(np.float32).astype(np.float64)
    a = f32(pattern(16, 13, 3, 0))
    b = f32(np.clip(a * 0.8 + f32(pattern(16, 13, 3, 5)) * 0.2, 0, 1))
    print("ssim 16x13 rgb: %.17g" % ssim_reference(a, b))
    a_small = f32(pattern(7, 5, 1, 1))
    b_small = f32(pattern(7, 5, 1, 2))
    print("ssim 7x5 gray: %.17g" % ssim_reference(a_small, b_small))
    out = np.asarray(ImageOps.autocontrast(Image.fromarray(autocontrast_image(), "RGB")))
    print("pil autocontrast 8x6 rgb:", ", ".join(str(v) for v in out.ravel().tolist()))
    print("pil lut checksum: 0x%016x" % lut_checksum())


if __name__ == "__main__":
    main()
