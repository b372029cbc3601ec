#include "process.h"

#include "../common/apply.h"
#include "../common/model_lookup.h"

namespace lowlight::plugin::gimp3 {
namespace {

class Drawable final : public FilterTarget {
 public:
  explicit Drawable(GimpDrawable* drawable) : drawable_(drawable) {}

  bool bounds(Rect& r) override { return gimp_drawable_mask_intersect(drawable_, &r.x, &r.y, &r.width, &r.height); }
  BufferPtr pixels() override { return BufferPtr(gimp_drawable_get_buffer(drawable_)); }
  BufferPtr shadow() override { return BufferPtr(gimp_drawable_get_shadow_buffer(drawable_)); }
  BufferPtr selection_mask(int& dx, int& dy) override {
    GimpImage* image = gimp_item_get_image(GIMP_ITEM(drawable_));
    if (gimp_selection_is_empty(image)) return nullptr;
    gimp_drawable_get_offsets(drawable_, &dx, &dy);
    return BufferPtr(gimp_drawable_get_buffer(GIMP_DRAWABLE(gimp_image_get_selection(image))));
  }
  void merge(const Rect& r) override {
    gimp_drawable_merge_shadow(drawable_, TRUE);
    gimp_drawable_update(drawable_, r.x, r.y, r.width, r.height);
  }

 private:
  GimpDrawable* drawable_;
};

}  // namespace

Params params_from_config(GimpProcedureConfig* config) {
  gdouble strength = 1.0, exposure = 0.0;
  gchar* model = nullptr;
  gint tile = 0;
  g_object_get(config, "strength", &strength, "model", &model, "tile-size", &tile, "exposure", &exposure, nullptr);
  Params params = default_params();
  params.strength = strength;
  params.exposure = exposure;
  params.model = model ? model : "";
  g_free(model);
  params.tile = tile;
  params.device = device_choice_from_int(gimp_procedure_config_get_choice_id(config, "device"));
  validate(params);
  return params;
}

std::vector<std::string> search_dirs() { return plugin_model_dirs(gimp_directory()); }

bool process_drawable(GimpDrawable* drawable, const Params& params) {
  Drawable target(drawable);
  return apply_filter(target, {gimp_progress_init, gimp_progress_update, gimp_progress_end}, params, search_dirs());
}

}  // namespace lowlight::plugin::gimp3
