#include "apply.h"

#include "lowlight/error.h"
#include "messages.h"
#include "model_lookup.h"

namespace lowlight::plugin {
namespace {

// The enhanced pixels go to the drawable's shadow buffer only; false when cancelled. The buffers are released
// on return, before the merge, as GIMP wants.
bool render_to_shadow(FilterTarget& target, const ProgressCalls& progress, const Enhancer& enhancer,
                      const Rect& rect) {
  const BufferPtr source = target.pixels();
  const BufferPtr shadow = target.shadow();
  if (!source || !shadow) throw Error("could not access the layer's pixels");
  Selection selection;
  const BufferPtr mask = target.selection_mask(selection.dx, selection.dy);
  selection.buffer = mask.get();
  const std::string title = std::string(kTitle) + " (" + std::to_string(rect.width) + "x" + std::to_string(rect.height) +
                            ", " + device_name(enhancer.device()) + ")";
  progress.init(title.c_str());
  const bool done = render(enhancer, source.get(), shadow.get(), rect, selection, [&progress](double fraction) {
    progress.update(fraction);
    return true;
  });
  if (done) gegl_buffer_flush(shadow.get());
  return done;
}

}  // namespace

bool apply_filter(FilterTarget& target, const ProgressCalls& progress, const Params& params,
                  const std::vector<std::string>& model_dirs) {
  validate(params);
  Rect rect;
  if (!target.bounds(rect)) return false;
  if (params.strength <= 0.0) return false;  // nothing would change: no undo step either

  const std::string path = find_model(params.model, model_dirs);
  progress.init((std::string(kTitle) + ": loading the model").c_str());
  const Enhancer enhancer(path, engine_settings(params));
  // GIMP cancels a plug-in's progress by ending the plug-in process, so a cancelled run never reaches the
  // merge and leaves the drawable as it was.
  if (!render_to_shadow(target, progress, enhancer, rect)) throw Error("cancelled");
  target.merge(rect);
  progress.end();
  return true;
}

}  // namespace lowlight::plugin
