#pragma once
// What the filter's dialog does, apart from its widgets, in every GIMP front end: which preview to compute,
// keep or drop, polling the child process that computes it (preview_run.h) from the GLib main loop, the
// status line, and the time estimate that also decides whether OK may be pressed. The preview is computed
// at strength 1 and kept, so moving the strength slider only re-blends; the final render runs the engine
// at the chosen strength exactly as the CLI does. Every preview runs with the layer's context (render.h),
// computed by the first one and kept for the dialog's life, so it shows what the final render will put
// there. The front end hands in settings and the preview area and shows what the session reports through
// DialogView.
#include <gegl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "buffer_ptr.h"
#include "estimate.h"
#include "params.h"
#include "preview_run.h"
#include "render.h"

namespace lowlight::plugin {

// The front end's widget calls; until it sets them they do nothing (the widgets may not exist yet).
struct DialogView {
  // busy: a preview is being computed
  std::function<void(const std::string& text, bool busy)> status = [](const std::string&, bool) {};
  // the preview area's pixels in preview_format
  std::function<void(const uint8_t* pixels, int rowstride)> preview = [](const uint8_t*, int) {};
  // runnable false: the settings cannot run, OK must be off
  std::function<void(const std::string& text, bool runnable)> estimate = [](const std::string&, bool) {};
};

class PreviewSession {
 public:
  // `source`: the drawable's pixels; `layer_width` x `layer_height`: the part the filter changes; `cuda`:
  // whether a CUDA device is there (probe_cuda()), for what "automatic" means in the estimate.
  PreviewSession(BufferPtr source, int layer_width, int layer_height, std::vector<std::string> model_dirs,
                 bool cuda);
  ~PreviewSession() { stop(); }
  PreviewSession(const PreviewSession&) = delete;
  PreviewSession& operator=(const PreviewSession&) = delete;

  DialogView view;

  // The dialog's settings changed; `problem`, when not empty, says why they cannot be used (no preview,
  // OK off). Refreshes the estimate.
  void set_params(const Params& params, const std::string& problem = {});
  const Params& params() const { return params_; }
  const std::vector<std::string>& model_dirs() const { return dirs_; }
  bool cuda() const { return cuda_; }

  // Shows the preview of `area` (drawable coordinates) drawn `width` x `height` pixels: the kept one when
  // only the strength changed, else a new computation, dropping one that no longer fits. At 1:1 or larger
  // (a zoomed-in preview) the model runs on `area` itself, so the preview is the applied result there,
  // enlarged pixel by pixel; smaller (the whole layer fitted into the dialog) it runs on `area` scaled down
  // to the preview's size, with the layer's context all the same, so a 3 MP layer costs a 200-pixel preview.
  void request(const Rect& area, int width, int height);
  void request(const Rect& area) { request(area, area.width, area.height); }
  void stop();  // drops the computation under way, if any

 private:
  static gboolean on_poll(gpointer self);
  bool poll();  // false once the run has ended
  // What a preview shows: a part of the drawable and the size it is drawn at.
  struct View {
    Rect area;
    int width = 0, height = 0;
    bool operator==(const View& o) const;
    bool scaled_down() const { return width < area.width; }
  };
  void start(const std::string& path, const std::string& key, const View& wanted);
  void finish(PreviewRun& run);
  void measure(const Rect& computed, double seconds);
  void draw();  // the kept preview, at the current strength
  void show_estimate();
  DeviceKind shown_device() const;

  BufferPtr source_;
  int layer_width_, layer_height_;
  std::vector<std::string> dirs_;
  bool cuda_;
  Params params_;
  std::string problem_;
  std::unique_ptr<PreviewRun> run_;
  std::string run_key_;
  View run_view_;
  BufferPtr run_source_;  // what run_ reads: source_'s pixels, scaled down when the view is
  guint poll_id_ = 0;
  std::unique_ptr<RegionPixels> kept_;  // the last finished preview (strength 1) and what it was made with
  std::string kept_key_;
  View kept_view_;
  BufferPtr kept_source_;
  // The layer's context for the engine key it was made with, and the scaled layer it is computed from.
  std::optional<EnhanceContext> context_;
  std::string context_key_;
  std::shared_ptr<const RegionPixels> context_pixels_;
  Throughput rate_;
  std::string rate_key_;
};

}  // namespace lowlight::plugin
