#pragma once
// The filter's work on one drawable, between GeglBuffers: read the region (in the model's colour space),
// run the engine (which applies the strength), blend by selection coverage, write back in the drawable's own format with
// alpha and unselected pixels copied bit for bit. The final render and the dialog's preview go through
// these same functions; only the target buffer differs (the shadow buffer, or a scratch buffer).
#include <gegl.h>

#include <vector>

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
  Rect rect;
  PixelLayout layout;
  std::vector<float> original;  // work format, rect.width x rect.height x work_channels
  std::vector<float> enhanced;  // same layout, the engine's result (empty until enhanced)
  std::vector<float> coverage;  // one per pixel in [0,1]; empty when everything is selected
};

RegionPixels read_region(GeglBuffer* source, const Rect& rect, const Selection& selection);

// Runs the engine on region.original into region.enhanced. Returns false when `progress` cancelled.
bool enhance_region(const Enhancer& enhancer, RegionPixels& region, const ProgressFn& progress = {});

// Writes original + coverage * mix * (enhanced - original) into `target` over region.rect, in the native
// format. Unselected pixels and all alpha samples are copied from `source` unchanged, bit for bit.
// `mix` lets a preview computed at strength 1 show other strengths without rerunning the model (exact
// except where the model's output leaves [0,1]: the engine blends before clamping); the final render
// runs the engine at the chosen strength and uses mix 1, as the CLI does.
void write_region(const RegionPixels& region, GeglBuffer* source, GeglBuffer* target, double mix = 1.0);

// read + enhance + write, with progress over the whole: what a front end calls for the final result.
// Returns false when cancelled; `target` may then hold partial data and must be discarded.
bool render(const Enhancer& enhancer, GeglBuffer* source, GeglBuffer* target, const Rect& rect,
            const Selection& selection, const ProgressFn& progress = {});

}  // namespace lowlight::plugin
