// GIMP 3 entry points: the GimpPlugIn subclass, the procedure's registration and the run-mode switch.
// Everything that is not a GIMP call lives in ../common/, shared with the GIMP 2.10 front end.
#include <gegl.h>
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

#include <exception>
#include <string>

#include "../common/messages.h"
#include "../common/model_lookup.h"
#include "../common/params.h"
#include "dialog.h"
#include "lowlight/device.h"
#include "process.h"

namespace {

namespace plugin = lowlight::plugin;

GimpValueArray* failure(GimpProcedure* procedure, GimpRunMode mode, GimpPDBStatusType status,
                        const std::string& message) {
  // A batch caller gets the text with the status; an interactive user also sees it as a GIMP message.
  if (mode != GIMP_RUN_NONINTERACTIVE) gimp_message(message.c_str());
  return gimp_procedure_new_return_values(procedure, status,
                                          g_error_new_literal(GIMP_PLUG_IN_ERROR, 0, message.c_str()));
}

GimpValueArray* run(GimpProcedure* procedure, GimpRunMode mode, GimpImage* image, GimpDrawable** drawables,
                    GimpProcedureConfig* config, gpointer /*run_data*/) {
  int count = 0;
  while (drawables && drawables[count]) ++count;
  // The menu entry is only active with one selected drawable; a script may still pass several.
  if (count != 1)
    return failure(procedure, mode, GIMP_PDB_CALLING_ERROR,
                   plugin::error_text("works on exactly one layer or channel at a time, " + std::to_string(count) +
                                      " were given (select a single layer)"));
  GimpDrawable* drawable = drawables[0];
  gegl_init(nullptr, nullptr);

  try {
    // Last values (interactive, with-last-vals) and script arguments are all in `config` already:
    // GimpProcedure loads them before run() and stores them after a successful run.
    if (mode == GIMP_RUN_INTERACTIVE) {
      gimp_ui_init(plugin::kBinaryName);
      if (!plugin::gimp3::run_dialog(procedure, config, image, drawable))
        return gimp_procedure_new_return_values(procedure, GIMP_PDB_CANCEL, nullptr);
    }
    const plugin::Params params = plugin::gimp3::params_from_config(config);
    plugin::gimp3::process_drawable(drawable, params);
    if (mode != GIMP_RUN_NONINTERACTIVE) gimp_displays_flush();
  } catch (const std::exception& e) {
    return failure(procedure, mode, GIMP_PDB_EXECUTION_ERROR, plugin::error_text(e));
  } catch (...) {
    return failure(procedure, mode, GIMP_PDB_EXECUTION_ERROR, plugin::error_text("unexpected internal error"));
  }
  return gimp_procedure_new_return_values(procedure, GIMP_PDB_SUCCESS, nullptr);
}

GimpProcedure* create_procedure(GimpPlugIn* plug_in, const gchar* name) {
  if (g_strcmp0(name, plugin::kProcedureName) != 0) return nullptr;
  GimpProcedure* procedure = gimp_image_procedure_new(plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN, run, nullptr, nullptr);
  gimp_procedure_set_image_types(procedure, plugin::kImageTypes);
  gimp_procedure_set_sensitivity_mask(procedure, GIMP_PROCEDURE_SENSITIVE_DRAWABLE);
  gimp_procedure_set_menu_label(procedure, plugin::kMenuLabel);
  gimp_procedure_add_menu_path(procedure, plugin::kMenuPath);
  gimp_procedure_set_documentation(procedure, plugin::kBlurb, plugin::kHelp, name);
  gimp_procedure_set_attribution(procedure, plugin::kAuthor, plugin::kAuthor, plugin::kDate);

  const plugin::Params defaults = plugin::default_params();
  gimp_procedure_add_double_argument(procedure, "strength", "Stren_gth",
                                     "Blend between the original (0) and the enhanced result (1)", 0.0, 1.0,
                                     defaults.strength, G_PARAM_READWRITE);
  gimp_procedure_add_string_argument(procedure, "model", "_Model",
                                     "Shipped model name (\"default\") or path to a .safetensors file",
                                     defaults.model.c_str(), G_PARAM_READWRITE);
  using plugin::DeviceChoice;
  using plugin::gimp3::kDeviceNicks;
  const auto id = [](DeviceChoice c) { return static_cast<gint>(c); };
  GimpChoice* devices = gimp_choice_new_with_values(
      kDeviceNicks[id(DeviceChoice::Auto)], id(DeviceChoice::Auto), plugin::device_label(DeviceChoice::Auto),
      "CUDA when available, else the CPU",  //
      kDeviceNicks[id(DeviceChoice::CPU)], id(DeviceChoice::CPU), plugin::device_label(DeviceChoice::CPU),
      "the processor", kDeviceNicks[id(DeviceChoice::CUDA)], id(DeviceChoice::CUDA),
      plugin::device_label(DeviceChoice::CUDA), "an NVIDIA graphics card (needs a plug-in built with CUDA)", nullptr);
  gimp_procedure_add_choice_argument(procedure, "device", "_Device", "Where the model runs", devices,
                                     kDeviceNicks[id(defaults.device)], G_PARAM_READWRITE);
  gimp_procedure_add_int_argument(procedure, "tile-size", "_Tile size", plugin::kTileTooltip, 0, 8192, defaults.tile,
                                  G_PARAM_READWRITE);
  gimp_procedure_add_double_argument(procedure, "exposure", "_Brightness (0 = automatic)",
                                     "Mean brightness of the result, 0.02 (dark) to 0.98 (bright); 0: the model's own",
                                     0.0, plugin::kMaxExposure, defaults.exposure, G_PARAM_READWRITE);
  return procedure;
}

GList* query_procedures(GimpPlugIn* plug_in) {
  // The dialog's Help button opens this page instead of GIMP's "user manual not installed" box.
  const std::string help = plugin::help_dir(plugin::executable_dir());
  if (!help.empty()) {
    GFile* dir = g_file_new_for_path(help.c_str());
    gimp_plug_in_set_help_domain(plug_in, plugin::kHelpDomain, dir);
    g_object_unref(dir);
  }
  return g_list_append(nullptr, g_strdup(plugin::kProcedureName));
}

gboolean set_i18n(GimpPlugIn*, const gchar*, gchar**, gchar**) { return FALSE; }  // English only

}  // namespace

#define LOWLIGHT_TYPE_PLUG_IN (lowlight_plug_in_get_type())
G_DECLARE_FINAL_TYPE(LowlightPlugIn, lowlight_plug_in, LOWLIGHT, PLUG_IN, GimpPlugIn)

struct _LowlightPlugIn {
  GimpPlugIn parent_instance;
};

G_DEFINE_TYPE(LowlightPlugIn, lowlight_plug_in, GIMP_TYPE_PLUG_IN)

static void lowlight_plug_in_class_init(LowlightPlugInClass* klass) {
  GimpPlugInClass* plug_in_class = GIMP_PLUG_IN_CLASS(klass);
  plug_in_class->query_procedures = query_procedures;
  plug_in_class->create_procedure = create_procedure;
  plug_in_class->set_i18n = set_i18n;
}

static void lowlight_plug_in_init(LowlightPlugIn* /*self*/) {}

// GIMP_MAIN() spelled out, so the process settings that make CPU inference fast (lowlight/device.h) come first.
int main(int argc, char** argv) {
  lowlight::init_process(argc, argv);  // may re-execute the plug-in once; GIMP's pipes stay open across it
  return gimp_main(LOWLIGHT_TYPE_PLUG_IN, argc, argv);
}
