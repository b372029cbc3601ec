#include "process.h"

#include <gegl.h>

#include <memory>

#include "../common/model_lookup.h"
#include "../common/render.h"
#include "lowlight/engine.h"
#include "lowlight/error.h"

namespace lowlight::plugin::gimp3 {
namespace {

struct BufferUnref {
  void operator()(GeglBuffer* buffer) const {
    if (buffer) g_object_unref(buffer);
  }
};
using BufferPtr = std::unique_ptr<GeglBuffer, BufferUnref>;

}  // namespace

Params params_from_config(GimpProcedureConfig* config) {
  gdouble strength = 1.0;
  gchar* model = nullptr;
  gint tile = 0;
  g_object_get(config, "strength", &strength, "model", &model, "tile-size", &tile, nullptr);
  Params params = default_params();
  params.strength = strength;
  params.model = model ? model : "";
  g_free(model);
  params.tile = tile;
  params.device = device_choice_from_int(gimp_procedure_config_get_choice_id(config, "device"));
  validate(params);
  return params;
}

std::vector<std::string> search_dirs() {
  const gchar* profile = gimp_directory();
  return model_dirs(executable_dir(), profile ? profile : "");
}

bool process_drawable(GimpDrawable* drawable, const Params& params) {
  validate(params);
  gint x = 0, y = 0, width = 0, height = 0;
  if (!gimp_drawable_mask_intersect(drawable, &x, &y, &width, &height)) return false;
  if (params.strength <= 0.0) return false;  // nothing would change: no undo step either

  const std::string path = find_model(params.model, search_dirs());
  gimp_progress_init("Low-light enhance: loading the model");
  const Enhancer enhancer(path, engine_settings(params));

  BufferPtr source(gimp_drawable_get_buffer(drawable));
  BufferPtr shadow(gimp_drawable_get_shadow_buffer(drawable));
  if (!source || !shadow) throw Error("could not access the layer's pixels");
  BufferPtr mask;
  Selection selection;
  GimpImage* image = gimp_item_get_image(GIMP_ITEM(drawable));
  if (!gimp_selection_is_empty(image)) {
    mask.reset(gimp_drawable_get_buffer(GIMP_DRAWABLE(gimp_image_get_selection(image))));
    gimp_drawable_get_offsets(drawable, &selection.dx, &selection.dy);
    selection.buffer = mask.get();
  }

  // GIMP cancels a plug-in's progress by ending the plug-in process; the pixels only ever go to the
  // shadow buffer, which is merged below, so a cancelled run leaves the layer as it was.
  gimp_progress_init_printf("Low-light enhance (%dx%d, %s)", width, height, device_name(enhancer.device()));
  const bool done = render(enhancer, source.get(), shadow.get(), Rect{x, y, width, height}, selection,
                           [](double fraction) {
                             gimp_progress_update(fraction);
                             return true;
                           });
  if (!done) throw Error("cancelled");
  gegl_buffer_flush(shadow.get());
  shadow.reset();
  source.reset();
  gimp_drawable_merge_shadow(drawable, TRUE);  // the one undo step
  gimp_drawable_update(drawable, x, y, width, height);
  gimp_progress_end();
  return true;
}

}  // namespace lowlight::plugin::gimp3
