#pragma once
// The final render of one drawable, the same steps in the same order for every GIMP version. Each front
// end supplies the GIMP calls through FilterTarget, so a port only writes those.
#include <string>
#include <vector>

#include "buffer_ptr.h"
#include "params.h"
#include "render.h"

namespace lowlight::plugin {

class FilterTarget {
 public:
  virtual ~FilterTarget() = default;
  // The part of the drawable the filter changes (selection bounds, drawable coordinates); false when the
  // selection misses the drawable.
  virtual bool bounds(Rect& rect) = 0;
  virtual BufferPtr pixels() = 0;
  virtual BufferPtr shadow() = 0;
  // The image's selection mask (null when nothing is selected) and the drawable's offsets in the image.
  virtual BufferPtr selection_mask(int& dx, int& dy) = 0;
  // Merges the shadow buffer over `rect` as one undo step.
  virtual void merge(const Rect& rect) = 0;
};

// libgimp's progress functions have the same signatures in GIMP 2.10 and 3: front ends pass them as they are.
struct ProgressCalls {
  gboolean (*init)(const gchar* message);
  gboolean (*update)(gdouble fraction);
  gboolean (*end)();
};

// Enhances the target's selected part with the model found in `model_dirs`. Returns false when there was
// nothing to do (selection outside the drawable, strength 0). Throws lowlight::Error (or std::exception)
// on failure, with the drawable unchanged: pixels only reach it through the final merge.
bool apply_filter(FilterTarget& target, const ProgressCalls& progress, const Params& params,
                  const std::vector<std::string>& model_dirs);

}  // namespace lowlight::plugin
