#include "preview_session.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "lowlight/weights.h"
#include "messages.h"
#include "model_lookup.h"

namespace lowlight::plugin {
namespace {

constexpr guint kPollMs = 40;

// What the preview's pixels and the measured speed depend on; not the strength (see the header).
std::string engine_key(const std::string& path, const Params& p) {
  return path + "|" + std::to_string(static_cast<int>(p.device)) + "|" + std::to_string(p.tile) + "|" +
         std::to_string(p.exposure);
}

bool same_area(const Rect& a, const Rect& b) {
  return a.x == b.x && a.y == b.y && a.width == b.width && a.height == b.height;
}

std::string size_text(int width, int height) { return std::to_string(width) + "x" + std::to_string(height); }

// "200x133 at 7 %" for a view scaled down, "96x96" at 1:1 or zoomed in (the model's pixels are the layer's).
std::string view_text(const Rect& computed, const Rect& area) {
  std::string text = size_text(computed.width, computed.height);
  if (computed.width < area.width) {
    const int percent = std::max(1, static_cast<int>(std::lround(100.0 * computed.width / area.width)));
    text += " at " + std::to_string(percent) + " %";
  }
  return text;
}

// Enlarges `pixels` (width x height, `bpp` bytes a pixel) to `to_width` x `to_height` by repeating pixels, as
// GIMP's own zoomed-in previews show a layer.
std::vector<uint8_t> enlarge(const std::vector<uint8_t>& pixels, int width, int height, int bpp, int to_width,
                             int to_height) {
  std::vector<uint8_t> out(static_cast<size_t>(to_width) * to_height * bpp);
  for (int y = 0; y < to_height; ++y) {
    const uint8_t* row = pixels.data() + static_cast<size_t>(y * static_cast<int64_t>(height) / to_height) * width * bpp;
    for (int x = 0; x < to_width; ++x)
      std::memcpy(&out[(static_cast<size_t>(y) * to_width + x) * bpp],
                  row + static_cast<size_t>(x * static_cast<int64_t>(width) / to_width) * bpp, bpp);
  }
  return out;
}

// The region blended at `mix` over `source`, as the 8-bit pixels GIMP's preview widgets draw.
std::vector<uint8_t> preview_pixels(const RegionPixels& region, GeglBuffer* source, double mix, int* rowstride) {
  const Rect& r = region.inner;
  const GeglRectangle rect{r.x, r.y, r.width, r.height};
  const BufferPtr scratch(gegl_buffer_new(&rect, region.layout.native));
  write_region(region, source, scratch.get(), mix);
  const Babl* format = preview_format(region.layout.native);
  *rowstride = r.width * babl_format_get_bytes_per_pixel(format);
  std::vector<uint8_t> pixels(static_cast<size_t>(*rowstride) * r.height);
  gegl_buffer_get(scratch.get(), &rect, 1.0, format, pixels.data(), GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  return pixels;
}

}  // namespace

PreviewSession::PreviewSession(BufferPtr source, int layer_width, int layer_height,
                               std::vector<std::string> model_dirs, bool cuda)
    : source_(std::move(source)),
      layer_width_(layer_width),
      layer_height_(layer_height),
      dirs_(std::move(model_dirs)),
      cuda_(cuda),
      params_(default_params()) {}

void PreviewSession::set_params(const Params& params, const std::string& problem) {
  params_ = params;
  problem_ = problem;
  show_estimate();
}

DeviceKind PreviewSession::shown_device() const {
  if (params_.device == DeviceChoice::Auto) return cuda_ ? DeviceKind::CUDA : DeviceKind::CPU;
  return to_device_kind(params_.device);
}

void PreviewSession::show_estimate() {
  if (!problem_.empty()) return view.estimate(problem_, false);
  std::string text;
  try {
    const std::string path = find_model(params_.model, dirs_);
    const ModelConfig config = read_weights_info(path).config;
    const bool measured = rate_.measured && rate_key_ == engine_key(path, params_);
    const Throughput rate = measured ? rate_ : assumed_throughput(shown_device());
    text = estimate_text(config, layer_width_, layer_height_, shown_device(), rate);
  } catch (const std::exception& e) {
    return view.estimate(gimp_words(e.what()), false);
  }
  view.estimate(text, true);
}

bool PreviewSession::View::operator==(const View& o) const {
  return same_area(area, o.area) && width == o.width && height == o.height;
}

void PreviewSession::request(const Rect& area, int width, int height) {
  if (area.width < 1 || area.height < 1 || width < 1 || height < 1 || !problem_.empty()) return;
  const View wanted{area, width, height};
  std::string path;
  try {
    path = find_model(params_.model, dirs_);
  } catch (const std::exception&) {
    stop();
    return view.status("", false);  // the estimate line says why (once)
  }
  const std::string key = engine_key(path, params_);
  if (kept_ && kept_key_ == key && kept_view_ == wanted) {
    stop();
    return draw();  // only the strength changed
  }
  if (run_ && run_key_ == key && run_view_ == wanted) return;  // already on its way
  stop();
  start(path, key, wanted);
}

void PreviewSession::start(const std::string& path, const std::string& key, const View& wanted) {
  Rect computed = wanted.area;
  try {
    // The model reads the pixels it will show: the layer's own, or the layer scaled down to the view.
    run_source_ = wanted.scaled_down() ? read_scaled(source_.get(), wanted.area, wanted.width, wanted.height, computed)
                                     : BufferPtr(static_cast<GeglBuffer*>(g_object_ref(source_.get())));
    Params at_full = params_;
    at_full.strength = 1.0;
    // The layer's context is computed once (by the first preview's child) and kept while it fits.
    std::optional<EnhanceContext> context;
    if (context_ && context_key_ == key) context = context_;
    else if (!context_pixels_) context_pixels_ = std::make_shared<RegionPixels>(read_context_pixels(source_.get()));
    run_ = std::make_unique<PreviewRun>(path, engine_settings(at_full),
                                        read_region(run_source_.get(), computed, Selection{}), std::move(context),
                                        context_pixels_);
  } catch (const std::exception& e) {
    run_source_.reset();
    return view.status(error_text(e), false);
  }
  run_key_ = key;
  run_view_ = wanted;
  view.status("Computing the preview (" + view_text(computed, wanted.area) + ")...", true);
  poll_id_ = g_timeout_add(kPollMs, on_poll, this);
}

void PreviewSession::stop() {
  if (poll_id_) g_source_remove(poll_id_);
  poll_id_ = 0;
  run_.reset();  // kills the child at once
  run_source_.reset();
}

gboolean PreviewSession::on_poll(gpointer self) {
  return static_cast<PreviewSession*>(self)->poll() ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

bool PreviewSession::poll() {
  if (run_ && !run_->poll()) return true;
  poll_id_ = 0;
  if (!run_) return false;
  const std::unique_ptr<PreviewRun> run = std::move(run_);
  if (run->ok()) finish(*run);
  else view.status(run->error().empty() ? "" : error_text(run->error()), false);
  return false;
}

void PreviewSession::finish(PreviewRun& run) {
  const Rect computed = run.region().inner;
  if (run.context()) {
    context_ = run.context();
    context_key_ = run_key_;
  }
  view.status("Preview " + view_text(computed, run_view_.area) + " computed in " +
                  format_duration(run.seconds(), DurationStyle::Words),
              false);
  measure(computed, run.seconds());
  kept_ = std::make_unique<RegionPixels>(std::move(run.region()));
  kept_key_ = run_key_;
  kept_view_ = run_view_;
  kept_source_ = std::move(run_source_);
  draw();
  show_estimate();
}

void PreviewSession::measure(const Rect& computed, double seconds) {
  try {
    const ModelConfig config = read_weights_info(find_model(params_.model, dirs_)).config;
    const Throughput measured =
        measured_throughput(config, static_cast<double>(computed.width) * computed.height, seconds);
    if (!measured.measured) return;
    rate_ = measured;
    rate_key_ = run_key_;
  } catch (const std::exception&) {
    // The model vanished since: the estimate line reports it.
  }
}

void PreviewSession::draw() {
  int rowstride = 0;
  const Rect& r = kept_->inner;
  const std::vector<uint8_t> pixels = preview_pixels(*kept_, kept_source_.get(), params_.strength, &rowstride);
  if (r.width == kept_view_.width && r.height == kept_view_.height) return view.preview(pixels.data(), rowstride);
  const int bpp = rowstride / r.width;
  const std::vector<uint8_t> shown = enlarge(pixels, r.width, r.height, bpp, kept_view_.width, kept_view_.height);
  view.preview(shown.data(), kept_view_.width * bpp);
}

}  // namespace lowlight::plugin
