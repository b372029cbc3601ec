#include "render.h"

#include <algorithm>
#include <cmath>
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

// Blends one band of rows [y0, y0 + rows) of region.inner: `native_in` holds the source rows in the native
// format, `native_out` receives them.
void blend_band(const RegionPixels& region, float mix, int y0, int rows, const uint8_t* native_in,
                uint8_t* native_out, std::vector<float>& work_row, const Babl* fish) {
  const PixelLayout& l = region.layout;
  const int w = region.inner.width;
  const int c = l.work_channels;
  const int dx = region.inner.x - region.rect.x, dy = region.inner.y - region.rect.y;
  const size_t row_bytes = static_cast<size_t>(w) * l.native_bpp;
  for (int y = y0; y < y0 + rows; ++y) {
    const size_t base = static_cast<size_t>(y + dy) * region.rect.width + dx;
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

RegionPixels read_region(GeglBuffer* source, const Rect& inner, const Selection& selection, int margin) {
  check_rect(inner);
  const GeglRectangle* extent = gegl_buffer_get_extent(source);
  const int x0 = std::max(extent->x, inner.x - margin), y0 = std::max(extent->y, inner.y - margin);
  const int x1 = std::min(extent->x + extent->width, inner.x + inner.width + margin);
  const int y1 = std::min(extent->y + extent->height, inner.y + inner.height + margin);
  const bool inside = inner.x >= extent->x && inner.y >= extent->y && inner.x + inner.width <= x1 &&
                      inner.y + inner.height <= y1;
  RegionPixels region;
  region.rect = inside ? Rect{x0, y0, x1 - x0, y1 - y0} : inner;  // a part outside the buffer: no margin
  region.inner = inner;
  region.layout = pixel_layout(gegl_buffer_get_format(source));
  const Rect& read = region.rect;
  const size_t pixels = static_cast<size_t>(read.width) * read.height;
  region.original.resize(pixels * region.layout.work_channels);
  const GeglRectangle r = gegl_rect(read, 0, read.height);
  gegl_buffer_get(source, &r, 1.0, region.layout.work, region.original.data(), GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  if (selection.buffer) {
    region.coverage.resize(pixels);
    const GeglRectangle m{read.x + selection.dx, read.y + selection.dy, read.width, read.height};
    gegl_buffer_get(selection.buffer, &m, 1.0, mask_format(), region.coverage.data(), GEGL_AUTO_ROWSTRIDE,
                    GEGL_ABYSS_NONE);
  }
  return region;
}

BufferPtr read_scaled(GeglBuffer* source, const Rect& area, int width, int height, Rect& inner, int margin) {
  check_rect(area);
  check_rect(Rect{0, 0, width, height});
  const double scale = static_cast<double>(width) / area.width;
  inner = Rect{static_cast<int>(std::lround(area.x * scale)), static_cast<int>(std::lround(area.y * scale)), width,
               height};
  // Pixel X of the scaled layer covers [X / scale, (X + 1) / scale) of the layer (GEGL's scaled reads).
  const GeglRectangle* e = gegl_buffer_get_extent(source);
  const int x0 = std::min(inner.x, std::max(static_cast<int>(std::floor(e->x * scale)), inner.x - margin));
  const int y0 = std::min(inner.y, std::max(static_cast<int>(std::floor(e->y * scale)), inner.y - margin));
  const int x1 = std::max(inner.x + width,
                          std::min(static_cast<int>(std::floor((e->x + e->width) * scale)), inner.x + width + margin));
  const int y1 = std::max(inner.y + height,
                          std::min(static_cast<int>(std::floor((e->y + e->height) * scale)), inner.y + height + margin));
  const GeglRectangle rect{x0, y0, x1 - x0, y1 - y0};
  const Babl* format = gegl_buffer_get_format(source);
  std::vector<uint8_t> pixels(static_cast<size_t>(rect.width) * rect.height * babl_format_get_bytes_per_pixel(format));
  gegl_buffer_get(source, &rect, scale, format, pixels.data(), GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_CLAMP);
  BufferPtr scaled(gegl_buffer_new(&rect, format));
  gegl_buffer_set(scaled.get(), &rect, 0, format, pixels.data(), GEGL_AUTO_ROWSTRIDE);
  return scaled;
}

RegionPixels read_context_pixels(GeglBuffer* source) {
  const GeglRectangle* extent = gegl_buffer_get_extent(source);
  check_rect(Rect{extent->x, extent->y, extent->width, extent->height});
  const double pixels = static_cast<double>(extent->width) * extent->height;
  const double scale = std::min(1.0, std::sqrt(kContextReadPixels / pixels));
  RegionPixels region;
  region.rect = Rect{0, 0, std::max(1, static_cast<int>(extent->width * scale)),
                     std::max(1, static_cast<int>(extent->height * scale))};
  region.inner = region.rect;
  region.layout = pixel_layout(gegl_buffer_get_format(source));
  region.original.resize(static_cast<size_t>(region.rect.width) * region.rect.height * region.layout.work_channels);
  // GEGL reads a scaled buffer in scaled coordinates: the rectangle's origin is the extent's, times scale.
  const GeglRectangle r{static_cast<int>(extent->x * scale), static_cast<int>(extent->y * scale), region.rect.width,
                        region.rect.height};
  gegl_buffer_get(source, &r, scale, region.layout.work, region.original.data(), GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_CLAMP);
  return region;
}

namespace {
ImageView work_view(const RegionPixels& region, const std::vector<float>& pixels) {
  ImageView view;
  view.data = const_cast<float*>(pixels.data());
  view.width = region.rect.width;
  view.height = region.rect.height;
  view.channels = region.layout.work_channels;
  view.type = SampleType::F32;
  return view;
}
}  // namespace

EnhanceContext layer_context(const Enhancer& enhancer, const RegionPixels& context_pixels) {
  return enhancer.context(work_view(context_pixels, context_pixels.original));
}

bool enhance_region(const Enhancer& enhancer, RegionPixels& region, const ProgressFn& progress,
                    const EnhanceContext* context) {
  region.enhanced.assign(region.original.size(), 0.0f);
  const ImageView in = work_view(region, region.original);
  const ImageView out = work_view(region, region.enhanced);
  if (!enhancer.enhance(in, out, progress, context)) {
    region.enhanced.clear();
    return false;
  }
  return true;
}

void write_region(const RegionPixels& region, GeglBuffer* source, GeglBuffer* target, double mix) {
  const Rect& rect = region.inner;
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
  constexpr double kContext = 0.05, kRead = 0.07, kModel = 0.95;
  if (progress && !progress(0.0)) return false;
  const EnhanceContext context = layer_context(enhancer, read_context_pixels(source));
  if (progress && !progress(kContext)) return false;
  RegionPixels region = read_region(source, rect, selection);
  if (progress && !progress(kRead)) return false;
  const ProgressFn model_progress = [&](double f) { return !progress || progress(kRead + f * (kModel - kRead)); };
  if (!enhance_region(enhancer, region, model_progress, &context)) return false;
  write_region(region, source, target);
  return !progress || progress(1.0);
}

}  // namespace lowlight::plugin
