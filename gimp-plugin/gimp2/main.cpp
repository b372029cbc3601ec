// GIMP 2.10 entry points: registration and the run-mode switch. Everything that is not a GIMP call lives
// in ../common/ so the GIMP 3 front end can share it.
#include <gegl.h>
#include <libgimp/gimp.h>

#include <exception>
#include <string>

#include "../common/messages.h"
#include "../common/model_lookup.h"
#include "../common/params.h"
#include "dialog.h"
#include "lowlight/device.h"
#include "process.h"

namespace {

using lowlight::plugin::Params;
namespace plugin = lowlight::plugin;

// Scripts written before the exposure argument pass 7 (the exposure is then automatic).
constexpr int kParamCount = 8, kOldParamCount = 7;

gchar* text(const char* s) { return const_cast<gchar*>(s); }

void query() {
  static const GimpParamDef args[] = {
      {GIMP_PDB_INT32, text("run-mode"), text("The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1), RUN-WITH-LAST-VALS (2) }")},
      {GIMP_PDB_IMAGE, text("image"), text("Input image")},
      {GIMP_PDB_DRAWABLE, text("drawable"), text("Input drawable")},
      {GIMP_PDB_FLOAT, text("strength"), text("Blend between the original (0) and the enhanced result (1)")},
      {GIMP_PDB_STRING, text("model"), text("Shipped model name (\"default\") or path to a .safetensors file")},
      {GIMP_PDB_INT32, text("device"), text("Device { AUTO (0), CPU (1), CUDA (2) }")},
      {GIMP_PDB_INT32, text("tile-size"), text("Tile side in pixels (0: automatic)")},
      {GIMP_PDB_FLOAT, text("exposure"), text("Mean brightness of the result, 0.02 (dark) to 0.98 (bright); 0: automatic")},
  };
  gimp_install_procedure(plugin::kProcedureName, plugin::kBlurb, plugin::kHelp, plugin::kAuthor, plugin::kAuthor,
                         plugin::kDate, plugin::kMenuLabel, plugin::kImageTypes, GIMP_PLUGIN, G_N_ELEMENTS(args), 0,
                         args, nullptr);
  gimp_plugin_menu_register(plugin::kProcedureName, plugin::kMenuPath);
  // The dialog's Help button opens this page instead of GIMP's "user manual not installed" box.
  const std::string help = plugin::help_dir(plugin::executable_dir());
  if (!help.empty()) {
    gchar* uri = g_filename_to_uri(help.c_str(), nullptr, nullptr);
    if (uri) gimp_plugin_help_register(plugin::kHelpDomain, uri);
    g_free(uri);
  }
}

void load_last_values(Params* params) {
  plugin::SavedParams saved;
  if (gimp_get_data_size(plugin::kProcedureName) == sizeof saved && gimp_get_data(plugin::kProcedureName, &saved))
    plugin::from_saved(saved, params);
}

void save_last_values(const Params& params) {
  const plugin::SavedParams saved = plugin::to_saved(params);
  gimp_set_data(plugin::kProcedureName, &saved, sizeof saved);
}

Params params_from_pdb(const GimpParam* param, gint nparams) {
  Params params = plugin::default_params();
  params.strength = param[3].data.d_float;
  params.model = param[4].data.d_string ? param[4].data.d_string : "";
  params.device = plugin::device_choice_from_int(param[5].data.d_int32);
  params.tile = param[6].data.d_int32;
  if (nparams > kOldParamCount) params.exposure = param[7].data.d_float;
  plugin::validate(params);
  return params;
}

void run(const gchar* /*name*/, gint nparams, const GimpParam* param, gint* nreturn_vals, GimpParam** return_vals) {
  static GimpParam values[2];
  static std::string error;  // must outlive run(): GIMP reads the returned string afterwards
  *nreturn_vals = 1;
  *return_vals = values;
  values[0].type = GIMP_PDB_STATUS;
  values[0].data.d_status = GIMP_PDB_SUCCESS;

  const GimpRunMode mode = nparams > 0 ? static_cast<GimpRunMode>(param[0].data.d_int32) : GIMP_RUN_NONINTERACTIVE;
  const auto fail = [&](GimpPDBStatusType status, const std::string& message) {
    error = message;
    values[0].data.d_status = status;
    values[1].type = GIMP_PDB_STRING;
    values[1].data.d_string = const_cast<gchar*>(error.c_str());
    *nreturn_vals = 2;
    if (mode != GIMP_RUN_NONINTERACTIVE) gimp_message(error.c_str());
  };
  if (nparams < 3) return fail(GIMP_PDB_CALLING_ERROR, plugin::error_text("expected at least 3 arguments"));
  const gint32 image = param[1].data.d_image;
  const gint32 drawable = param[2].data.d_drawable;
  gegl_init(nullptr, nullptr);

  try {
    Params params = plugin::default_params();
    switch (mode) {
      case GIMP_RUN_INTERACTIVE:
        load_last_values(&params);
        if (!plugin::gimp2::run_dialog(image, drawable, &params)) {
          values[0].data.d_status = GIMP_PDB_CANCEL;
          return;
        }
        break;
      case GIMP_RUN_NONINTERACTIVE:
        if (nparams != kParamCount && nparams != kOldParamCount)
          return fail(GIMP_PDB_CALLING_ERROR, plugin::error_text("expected " + std::to_string(kParamCount) +
                                                                 " arguments, got " + std::to_string(nparams)));
        params = params_from_pdb(param, nparams);
        break;
      case GIMP_RUN_WITH_LAST_VALS:
        load_last_values(&params);
        break;
    }
    plugin::gimp2::process_drawable(drawable, params);
    if (mode != GIMP_RUN_NONINTERACTIVE) gimp_displays_flush();
    if (mode == GIMP_RUN_INTERACTIVE) save_last_values(params);
  } catch (const std::exception& e) {
    fail(GIMP_PDB_EXECUTION_ERROR, plugin::error_text(e));
  } catch (...) {
    fail(GIMP_PDB_EXECUTION_ERROR, plugin::error_text("unexpected internal error"));
  }
}

}  // namespace

const GimpPlugInInfo PLUG_IN_INFO = {nullptr, nullptr, query, run};

// MAIN() spelled out, so the process settings that make CPU inference fast (lowlight/device.h) come first.
int main(int argc, char** argv) {
  lowlight::init_process(argc, argv);  // may re-execute the plug-in once; GIMP's pipes stay open across it
  return gimp_main(&PLUG_IN_INFO, argc, argv);
}
