#include "process.h"

#include "../common/apply.h"
#include "../common/model_lookup.h"

namespace lowlight::plugin::gimp2 {
namespace {

// GIMP 2.10 names drawables and images by integer ids.
class Drawable final : public FilterTarget {
 public:
  explicit Drawable(gint32 id) : id_(id) {}

  bool bounds(Rect& r) override { return gimp_drawable_mask_intersect(id_, &r.x, &r.y, &r.width, &r.height); }
  BufferPtr pixels() override { return BufferPtr(gimp_drawable_get_buffer(id_)); }
  BufferPtr shadow() override { return BufferPtr(gimp_drawable_get_shadow_buffer(id_)); }
  BufferPtr selection_mask(int& dx, int& dy) override {
    const gint32 image = gimp_item_get_image(id_);
    if (gimp_selection_is_empty(image)) return nullptr;
    gimp_drawable_offsets(id_, &dx, &dy);
    return BufferPtr(gimp_drawable_get_buffer(gimp_image_get_selection(image)));
  }
  void merge(const Rect& r) override {
    gimp_drawable_merge_shadow(id_, TRUE);
    gimp_drawable_update(id_, r.x, r.y, r.width, r.height);
  }

 private:
  gint32 id_;
};

}  // namespace

std::vector<std::string> search_dirs() { return plugin_model_dirs(gimp_directory()); }

bool process_drawable(gint32 drawable, const Params& params) {
  Drawable target(drawable);
  return apply_filter(target, {gimp_progress_init, gimp_progress_update, gimp_progress_end}, params, search_dirs());
}

}  // namespace lowlight::plugin::gimp2
