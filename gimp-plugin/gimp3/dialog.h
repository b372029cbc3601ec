#pragma once
// The GIMP 3 dialog (GimpProcedureDialog, GTK3): preview, strength, model, device, tile size, time estimate.
#include <libgimp/gimp.h>

namespace lowlight::plugin::gimp3 {

// Shows the dialog for `drawable`, editing `config` (the procedure's arguments, last values loaded); true
// when the user pressed OK.
bool run_dialog(GimpProcedure* procedure, GimpProcedureConfig* config, GimpImage* image, GimpDrawable* drawable);

}  // namespace lowlight::plugin::gimp3
