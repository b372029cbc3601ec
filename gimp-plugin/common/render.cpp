#include "render.h"

#include <algorithm>
#include <cstring>

#include "lowlight/error.h"
#include "lowlight/image.h"

namespace lowlight::plugin {
namespace {

// Rows per gegl_buffer_get/set when writing: bounds the native scratch memory for any layer width.
constexpr int kBandRows = 64;

GeglRectangle gegl_rect(const Rect& r, int y0, int rows) { return GeglRectangle{r.x, r.y + y0, r.width, rows}; }

void check_rect(const Rect& rect) {
  if (rect.width < 1 || rect.height < 1)
    throw Error("empty region " + std::to_string(rect.width) + "x" + std::to_string(rect.height));
}

// Blends one band: `native_in` holds the source rows in the native format, `native_out` receives them.
void blend_band(const RegionPixels& region, float mix, int y0, int rows, const uint8_t* native_in,
                uint8_t* native_out, std::vector<float>& work_row, const Babl* fish) {
  const PixelLayout& l = region.layout;
  const int w = region.rect.width;
  const int c = l.work_channels;
  const size_t row_bytes = static_cast<size_t>(w) * l.native_bpp;
  for (int y = y0; y < y0 + rows; ++y) {
    const size_t base = static_cast<size_t>(y) * w;
    const float* orig = region.original.data() + base * c;
    const float* enh = region.enhanced.data() + base * c;
    const float* cov = region.coverage.empty() ? nullptr : region.coverage.data() + base;
    for (int x = 0; x < w; ++x) {
      const float t = mix * (cov ? std::clamp(cov[x], 0.0f, 1.0f) : 1.0f);
      for (int k = 0; k < c; ++k) {
        const float o = orig[x * c + k];
        work_row[x * c + k] = o + t * (enh[x * c + k] - o);
      }
    }
    const uint8_t* in = native_in + (y - y0) * row_bytes;
    uint8_t* out = native_out + (y - y0) * row_bytes;
    babl_process(fish, work_row.data(), out, w);
    for (int x = 0; x < w; ++x) {
      const size_t p = static_cast<size_t>(x) * l.native_bpp;
      const bool untouched = !(mix > 0.0f) || (cov && !(cov[x] > 0.0f));
      if (untouched) std::memcpy(out + p, in + p, l.native_bpp);
      else if (l.has_alpha) std::memcpy(out + p + l.alpha_offset, in + p + l.alpha_offset, l.alpha_bytes);
    }
  }
}

}  // namespace

RegionPixels read_region(GeglBuffer* source, const Rect& rect, const Selection& selection) {
  check_rect(rect);
  RegionPixels region;
  region.rect = rect;
  region.layout = pixel_layout(gegl_buffer_get_format(source));
  const size_t pixels = static_cast<size_t>(rect.width) * rect.height;
  region.original.resize(pixels * region.layout.work_channels);
  const GeglRectangle r = gegl_rect(rect, 0, rect.height);
  gegl_buffer_get(source, &r, 1.0, region.layout.work, region.original.data(), GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  if (selection.buffer) {
    region.coverage.resize(pixels);
    const GeglRectangle m{rect.x + selection.dx, rect.y + selection.dy, rect.width, rect.height};
    gegl_buffer_get(selection.buffer, &m, 1.0, mask_format(), region.coverage.data(), GEGL_AUTO_ROWSTRIDE,
                    GEGL_ABYSS_NONE);
  }
  return region;
}

bool enhance_region(const Enhancer& enhancer, RegionPixels& region, const ProgressFn& progress) {
  region.enhanced.assign(region.original.size(), 0.0f);
  ImageView in;
  in.data = region.original.data();
  in.width = region.rect.width;
  in.height = region.rect.height;
  in.channels = region.layout.work_channels;
  in.type = SampleType::F32;
  ImageView out = in;
  out.data = region.enhanced.data();
  if (!enhancer.enhance(in, out, progress)) {
    region.enhanced.clear();
    return false;
  }
  return true;
}

void write_region(const RegionPixels& region, GeglBuffer* source, GeglBuffer* target, double mix) {
  const Rect& rect = region.rect;
  if (region.enhanced.size() != region.original.size())
    throw Error("internal: region written before it was enhanced");
  const PixelLayout& l = region.layout;
  const Babl* fish = babl_fish(l.work, l.native);
  const int band = std::min(kBandRows, rect.height);
  std::vector<uint8_t> native_in(static_cast<size_t>(rect.width) * band * l.native_bpp);
  std::vector<uint8_t> native_out(native_in.size());
  std::vector<float> work_row(static_cast<size_t>(rect.width) * l.work_channels);
  for (int y0 = 0; y0 < rect.height; y0 += band) {
    const int rows = std::min(band, rect.height - y0);
    const GeglRectangle r = gegl_rect(rect, y0, rows);
    gegl_buffer_get(source, &r, 1.0, l.native, native_in.data(), GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    blend_band(region, static_cast<float>(std::clamp(mix, 0.0, 1.0)), y0, rows, native_in.data(), native_out.data(), work_row, fish);
    gegl_buffer_set(target, &r, 0, l.native, native_out.data(), GEGL_AUTO_ROWSTRIDE);
  }
}

bool render(const Enhancer& enhancer, GeglBuffer* source, GeglBuffer* target, const Rect& rect,
            const Selection& selection, const ProgressFn& progress) {
  // Reading and writing are fast next to the model; they get the first and last few percent.
  constexpr double kRead = 0.02, kModel = 0.95;
  if (progress && !progress(0.0)) return false;
  RegionPixels region = read_region(source, rect, selection);
  if (progress && !progress(kRead)) return false;
  const ProgressFn model_progress = [&](double f) { return !progress || progress(kRead + f * (kModel - kRead)); };
  if (!enhance_region(enhancer, region, model_progress)) return false;
  write_region(region, source, target);
  return !progress || progress(1.0);
}

}  // namespace lowlight::plugin
