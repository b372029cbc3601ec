#pragma once
// The GimpPreview calls GIMP 2.10 and GIMP 3 share, wired to a PreviewSession. Header-only for the same
// reason as gtk_parts.h: each front end compiles it against its own libgimpui, and the library has no GIMP UI.
#include <libgimp/gimpui.h>

#include "preview_session.h"

namespace lowlight::plugin::gimp_ui {

// Asks `session` for what `preview` shows now: the part of the drawable between its corners and the size
// it is drawn at. A GimpZoomPreview opens on the whole layer (or selection) fitted into it; zooming in
// narrows the part, down to 1:1 and past it.
inline void request_shown(GimpPreview* preview, PreviewSession& session) {
  gint width = 0, height = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  gimp_preview_get_size(preview, &width, &height);
  gimp_preview_untransform(preview, 0, 0, &x0, &y0);
  gimp_preview_untransform(preview, width, height, &x1, &y1);
  session.request(Rect{x0, y0, x1 - x0, y1 - y0}, width, height);
}

}  // namespace lowlight::plugin::gimp_ui
