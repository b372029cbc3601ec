#pragma once
// The filter's work on one drawable, between GeglBuffers: read the region (in the model's colour space),
// run the engine (which applies the strength), blend by selection coverage, write back in the drawable's own format with
// alpha and unselected pixels copied bit for bit. The final render and the dialog's preview go through
// these same functions; only the target buffer differs (the shadow buffer, or a scratch buffer).
#include <gegl.h>

#include <vector>

#include "buffer_ptr.h"
#include "lowlight/engine.h"
#include "pixel_format.h"

namespace lowlight::plugin {

struct Rect {
  int x = 0, y = 0, width = 0, height = 0;
};

// Selection coverage under the region: `buffer` is the image's selection mask (image coordinates);
// the region's pixel (x, y) is covered by mask pixel (x + dx, y + dy). A null buffer selects everything.
struct Selection {
  GeglBuffer* buffer = nullptr;
  int dx = 0, dy = 0;
};

struct RegionPixels {
  Rect rect;                    // what was read: `inner` and a margin around it, inside the drawable
  Rect inner;                   // the part that is written back or shown
  PixelLayout layout;
  std::vector<float> original;  // work format, rect.width x rect.height x work_channels
  std::vector<float> enhanced;  // same layout, the engine's result (empty until enhanced)
  std::vector<float> coverage;  // one per pixel of rect in [0,1]; empty when everything is selected
};

// Pixels read around the part that changes, so that the network's convolutions near its edges see what
// they see in the whole layer (as the engine's tile overlap does).
constexpr int kRegionMargin = 64;
// The layer is read for its context pass (Enhancer::context) at no more than this many pixels; the engine
// reduces that copy to its own context size.
constexpr double kContextReadPixels = 1024.0 * 1024.0;

// `rect` and up to `margin` pixels around it, clipped to the buffer.
RegionPixels read_region(GeglBuffer* source, const Rect& rect, const Selection& selection, int margin = kRegionMargin);

// `area` of `source` scaled down to `width` x `height` (a preview of more pixels than it has), with up to
// `margin` pixels of the scaled layer around it, in the native format: a buffer in the scaled layer's
// coordinates, in which `area` is `inner`. read_region() and write_region() then work on it as on a layer.
BufferPtr read_scaled(GeglBuffer* source, const Rect& area, int width, int height, Rect& inner,
                      int margin = kRegionMargin);

// The whole buffer, scaled to at most kContextReadPixels: what the context pass reads.
RegionPixels read_context_pixels(GeglBuffer* source);

// The layer's context from read_context_pixels(): the same for the final render and every preview, so a
// preview crop and a selection come out as the whole layer does.
EnhanceContext layer_context(const Enhancer& enhancer, const RegionPixels& context_pixels);

// Runs the engine on region.original into region.enhanced, with the layer's context when given. Returns
// false when `progress` cancelled.
bool enhance_region(const Enhancer& enhancer, RegionPixels& region, const ProgressFn& progress = {},
                    const EnhanceContext* context = nullptr);

// Writes original + coverage * mix * (enhanced - original) into `target` over region.inner, in the native
// format. Unselected pixels and all alpha samples are copied from `source` unchanged, bit for bit.
// `mix` lets a preview computed at strength 1 show other strengths without rerunning the model (exact
// except where the model's output leaves [0,1]: the engine blends before clamping); the final render
// runs the engine at the chosen strength and uses mix 1, as the CLI does.
void write_region(const RegionPixels& region, GeglBuffer* source, GeglBuffer* target, double mix = 1.0);

// context + read + enhance + write, with progress over the whole: what a front end calls for the final result.
// Returns false when cancelled; `target` may then hold partial data and must be discarded.
bool render(const Enhancer& enhancer, GeglBuffer* source, GeglBuffer* target, const Rect& rect,
            const Selection& selection, const ProgressFn& progress = {});

}  // namespace lowlight::plugin
