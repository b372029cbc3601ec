#pragma once
// The GIMP 2.10 dialog (GTK2): preview, strength, model, device, tile size, time estimate.
#include <libgimp/gimp.h>

#include "../common/params.h"

namespace lowlight::plugin::gimp2 {

// Shows the dialog for `drawable` starting from `params`; true (and `params` updated) when the user
// pressed OK.
bool run_dialog(gint32 image, gint32 drawable, Params* params);

}  // namespace lowlight::plugin::gimp2
