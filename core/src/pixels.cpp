// Sample conversion for the engine. The inner loops are templated on the sample types so the per-pixel
// work is a load, a multiply and a store, not a switch.
#include "pixels.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "lowlight/error.h"

namespace lowlight::pixels {
namespace {

template <typename T> struct Sample;
template <> struct Sample<uint8_t> {
  static constexpr double kMax = 255.0;
};
template <> struct Sample<uint16_t> {
  static constexpr double kMax = 65535.0;
};
template <> struct Sample<float> {
  static constexpr double kMax = 1.0;
};

inline float unit_clamp(float v) { return v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f; }  // NaN -> 0

template <typename T> inline float to_unit(T v) {
  return static_cast<float>(v) * static_cast<float>(1.0 / Sample<T>::kMax);
}
template <> inline float to_unit<float>(float v) { return v; }

// Rounds to nearest after clamping; the exact inverse of to_unit for every integer sample value.
template <typename T> inline T from_unit(double v) {
  if constexpr (std::is_same_v<T, float>) {
    return static_cast<float>(v);
  } else {
    const double c = v > 0.0 ? (v < 1.0 ? v : 1.0) : 0.0;
    return static_cast<T>(std::lround(c * Sample<T>::kMax));
  }
}

template <typename T> const T* row_of(const ConstImageView& image, int y) {
  return reinterpret_cast<const T*>(static_cast<const uint8_t*>(image.data) + image.stride() * y);
}
template <typename T> T* mutable_row_of(const ImageView& image, int y) {
  return reinterpret_cast<T*>(static_cast<uint8_t*>(image.data) + image.stride() * y);
}

template <typename T> void read_rgb_t(const ConstImageView& in, int y, int x0, int count, float* rgb) {
  const int c = in.channels;
  const T* src = row_of<T>(in, y) + static_cast<size_t>(x0) * c;
  for (int i = 0; i < count; ++i, src += c, rgb += 3) {
    if (c <= 2) {
      rgb[0] = rgb[1] = rgb[2] = unit_clamp(to_unit(src[0]));
    } else {
      rgb[0] = unit_clamp(to_unit(src[0]));
      rgb[1] = unit_clamp(to_unit(src[1]));
      rgb[2] = unit_clamp(to_unit(src[2]));
    }
  }
}

template <typename TI, typename TO>
void write_blended_t(const ConstImageView& in, const ImageView& out, int y, const float* enh, float s) {
  const int c = in.channels;
  const TI* src = row_of<TI>(in, y);
  TO* dst = mutable_row_of<TO>(out, y);
  const bool alpha = in.has_alpha();
  for (int x = 0; x < in.width; ++x, src += c, dst += c, enh += 3) {
    if (c <= 2) {
      // Gray came in replicated; the model's colour goes back as luma.
      const float e = 0.299f * enh[0] + 0.587f * enh[1] + 0.114f * enh[2];
      const float v = unit_clamp(to_unit(src[0]));
      dst[0] = from_unit<TO>(unit_clamp(v + s * (e - v)));
    } else {
      for (int k = 0; k < 3; ++k) {
        const float v = unit_clamp(to_unit(src[k]));
        dst[k] = from_unit<TO>(unit_clamp(v + s * (enh[k] - v)));
      }
    }
    if (alpha) {
      if constexpr (std::is_same_v<TI, TO>) {
        dst[c - 1] = src[c - 1];
      } else {
        dst[c - 1] = from_unit<TO>(static_cast<double>(src[c - 1]) / Sample<TI>::kMax);
      }
    }
  }
}

template <typename TI, typename TO> void copy_row_t(const ConstImageView& in, const ImageView& out, int y) {
  const TI* src = row_of<TI>(in, y);
  TO* dst = mutable_row_of<TO>(out, y);
  const size_t n = static_cast<size_t>(in.width) * in.channels;
  if constexpr (std::is_same_v<TI, TO>) {
    if (static_cast<const void*>(src) != static_cast<void*>(dst)) std::memmove(dst, src, n * sizeof(TI));
  } else {
    for (size_t i = 0; i < n; ++i) dst[i] = from_unit<TO>(static_cast<double>(src[i]) / Sample<TI>::kMax);
  }
}

// Calls f.template operator()<T>() with T the C++ type of `type` (C++17: a tag argument instead).
template <typename T> struct Tag { using type = T; };
template <typename F> void dispatch(SampleType type, F&& f) {
  switch (type) {
    case SampleType::U8: return f(Tag<uint8_t>{});
    case SampleType::U16: return f(Tag<uint16_t>{});
    case SampleType::F32: return f(Tag<float>{});
  }
  throw Error("unknown sample type " + std::to_string(static_cast<int>(type)));
}

}  // namespace

void validate_view(const ConstImageView& image, const char* what) {
  const std::string name(what);
  if (image.width < 1 || image.height < 1)
    throw Error(name + " image is empty (" + std::to_string(image.width) + "x" + std::to_string(image.height) + ")");
  if (image.channels < 1 || image.channels > 4)
    throw Error(name + " image has " + std::to_string(image.channels) + " channels (expected 1 to 4)");
  if (!image.data) throw Error(name + " image has no pixel data");
  const size_t row = static_cast<size_t>(image.width) * image.channels * sample_size(image.type);
  if (image.stride() < row)
    throw Error(name + " image row stride " + std::to_string(image.stride()) + " is smaller than a row (" +
                std::to_string(row) + " bytes)");
  // Samples are read as uint16_t / float: a misaligned buffer or stride would be undefined behaviour.
  const size_t sample = sample_size(image.type);
  if (reinterpret_cast<uintptr_t>(image.data) % sample != 0 || image.stride() % sample != 0)
    throw Error(name + " image data or row stride (" + std::to_string(image.stride()) +
                ") is not aligned to its " + std::to_string(sample) + "-byte samples");
}

void read_rgb(const ConstImageView& in, int y, int x0, int count, float* rgb) {
  dispatch(in.type, [&](auto t) { read_rgb_t<typename decltype(t)::type>(in, y, x0, count, rgb); });
}

void write_blended(const ConstImageView& in, const ImageView& out, int y, const float* enhanced, float strength) {
  dispatch(in.type, [&](auto ti) {
    dispatch(out.type, [&](auto to) {
      write_blended_t<typename decltype(ti)::type, typename decltype(to)::type>(in, out, y, enhanced, strength);
    });
  });
}

void copy_row(const ConstImageView& in, const ImageView& out, int y) {
  dispatch(in.type, [&](auto ti) {
    dispatch(out.type, [&](auto to) {
      copy_row_t<typename decltype(ti)::type, typename decltype(to)::type>(in, out, y);
    });
  });
}

}  // namespace lowlight::pixels
