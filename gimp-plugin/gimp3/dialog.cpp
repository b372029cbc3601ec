// The preview runs the model in a child process (common/preview_run.h) so the dialog stays responsive
// and a stale preview can be dropped at once; GIMP and GTK are only touched here, in the parent. The
// preview is computed at strength 1 and kept, so moving the strength slider only re-blends; the final
// render runs the engine at the chosen strength exactly as the CLI does. The arguments live in the
// procedure's config (GIMP stores it as the last values); the dialog re-reads it on every change.
#include "dialog.h"

#include <gegl.h>
#include <libgimp/gimpui.h>

#include <memory>
#include <string>
#include <vector>

#include "../common/estimate.h"
#include "../common/messages.h"
#include "../common/model_lookup.h"
#include "../common/preview_run.h"
#include "../common/render.h"
#include "lowlight/device.h"
#include "lowlight/error.h"
#include "lowlight/weights.h"
#include "process.h"

namespace lowlight::plugin::gimp3 {
namespace {

constexpr guint kPollMs = 40;

struct Dialog {
  GimpDrawable* drawable = nullptr;
  GimpProcedureConfig* config = nullptr;
  Params params;
  bool params_ok = true;
  std::vector<std::string> dirs;
  std::vector<ModelEntry> models;
  bool cuda = false;                      // asked once, in a child process
  int layer_width = 0, layer_height = 0;  // the part the filter will change
  GeglBuffer* source = nullptr;
  GtkWidget* window = nullptr;
  GtkWidget* preview = nullptr;
  GtkWidget* estimate = nullptr;
  GtkWidget* status = nullptr;
  GtkWidget* spinner = nullptr;
  std::unique_ptr<PreviewRun> run;  // the preview being computed
  std::string run_key;
  guint poll_id = 0;
  std::unique_ptr<RegionPixels> cached;  // the last finished preview (strength 1) and what it was made with
  std::string cached_key;
  Throughput rate;
  std::string rate_key;
};

// What the preview's pixels and the measured speed depend on (not the strength: see the top).
std::string engine_key(const std::string& path, const Params& p) {
  return path + "|" + std::to_string(static_cast<int>(p.device)) + "|" + std::to_string(p.tile);
}

DeviceKind shown_device(const Dialog& d) {
  if (d.params.device == DeviceChoice::CUDA) return DeviceKind::CUDA;
  if (d.params.device == DeviceChoice::CPU) return DeviceKind::CPU;
  return d.cuda ? DeviceKind::CUDA : DeviceKind::CPU;
}

void set_status(Dialog& d, const std::string& text, bool busy) {
  gtk_label_set_text(GTK_LABEL(d.status), text.c_str());
  if (busy) {
    gtk_widget_show(d.spinner);
    gtk_spinner_start(GTK_SPINNER(d.spinner));
  } else {
    gtk_spinner_stop(GTK_SPINNER(d.spinner));
    gtk_widget_hide(d.spinner);
  }
}

void update_estimate(Dialog& d) {
  std::string text;
  bool ok = d.params_ok;
  try {
    if (!d.params_ok) params_from_config(d.config);  // throws the reason
    const std::string path = find_model(d.params.model, d.dirs);
    const WeightsInfo info = read_weights_info(path);
    const DeviceKind device = shown_device(d);
    const Throughput rate = d.rate.measured && d.rate_key == engine_key(path, d.params) ? d.rate
                                                                                       : assumed_throughput(device);
    text = estimate_text(info.config, d.layer_width, d.layer_height, device, rate);
  } catch (const std::exception& e) {
    text = e.what();
    ok = false;
  }
  gtk_label_set_text(GTK_LABEL(d.estimate), text.c_str());
  gtk_dialog_set_response_sensitive(GTK_DIALOG(d.window), GTK_RESPONSE_OK, ok);
}

void draw_preview(Dialog& d, const RegionPixels& region) {
  const Rect& r = region.rect;
  const GeglRectangle rect{r.x, r.y, r.width, r.height};
  GeglBuffer* scratch = gegl_buffer_new(&rect, region.layout.native);
  write_region(region, d.source, scratch, d.params.strength);
  const Babl* format = preview_format(region.layout.native);
  const int bpp = babl_format_get_bytes_per_pixel(format);
  std::vector<guchar> pixels(static_cast<size_t>(r.width) * r.height * bpp);
  gegl_buffer_get(scratch, &rect, 1.0, format, pixels.data(), GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  g_object_unref(scratch);
  // The drawable preview blends this with the original by the selection itself.
  gimp_preview_draw_buffer(GIMP_PREVIEW(d.preview), pixels.data(), r.width * bpp);
}

gboolean poll_preview(gpointer data) {
  Dialog& d = *static_cast<Dialog*>(data);
  if (!d.run || !d.run->poll()) return TRUE;
  d.poll_id = 0;
  std::unique_ptr<PreviewRun> run = std::move(d.run);
  if (!run->ok()) {
    set_status(d, run->error().empty() ? "" : error_text(run->error()), false);
    return FALSE;
  }
  const Rect r = run->region().rect;
  set_status(d, "Preview " + std::to_string(r.width) + "x" + std::to_string(r.height) + " computed in " +
                    format_duration(run->seconds()), false);
  try {
    const ModelConfig config = read_weights_info(find_model(d.params.model, d.dirs)).config;
    const Throughput measured = measured_throughput(config, static_cast<double>(r.width) * r.height, run->seconds());
    if (measured.measured) {
      d.rate = measured;
      d.rate_key = d.run_key;
    }
  } catch (const std::exception&) {
    // The model vanished since: the estimate line reports it below.
  }
  d.cached = std::make_unique<RegionPixels>(std::move(run->region()));
  d.cached_key = d.run_key;
  draw_preview(d, *d.cached);
  update_estimate(d);
  return FALSE;
}

void stop_preview(Dialog& d) {
  if (d.poll_id) g_source_remove(d.poll_id);
  d.poll_id = 0;
  d.run.reset();  // kills the child at once
}

void start_preview(Dialog& d) {
  GimpPreview* preview = GIMP_PREVIEW(d.preview);
  Rect rect;
  gimp_preview_get_position(preview, &rect.x, &rect.y);
  gimp_preview_get_size(preview, &rect.width, &rect.height);
  if (rect.width < 1 || rect.height < 1 || !d.params_ok) return;
  std::string path;
  try {
    path = find_model(d.params.model, d.dirs);
  } catch (const std::exception& e) {
    stop_preview(d);
    set_status(d, error_text(e), false);
    return;
  }
  const std::string key = engine_key(path, d.params);
  const auto same_area = [&](const Rect& r) {
    return r.x == rect.x && r.y == rect.y && r.width == rect.width && r.height == rect.height;
  };
  if (d.cached && d.cached_key == key && same_area(d.cached->rect)) {
    stop_preview(d);
    draw_preview(d, *d.cached);  // only the strength changed
    return;
  }
  if (d.run && d.run_key == key && same_area(d.run->region().rect)) return;  // already on its way
  stop_preview(d);
  try {
    Params at_full = d.params;
    at_full.strength = 1.0;
    d.run = std::make_unique<PreviewRun>(path, engine_settings(at_full), read_region(d.source, rect, Selection{}));
  } catch (const std::exception& e) {
    set_status(d, error_text(e), false);
    return;
  }
  d.run_key = key;
  set_status(d, "Computing the preview (" + std::to_string(rect.width) + "x" + std::to_string(rect.height) + ")...", true);
  d.poll_id = g_timeout_add(kPollMs, poll_preview, &d);
}

void on_invalidated(GimpPreview*, gpointer data) { start_preview(*static_cast<Dialog*>(data)); }

// Any argument changed (slider, combo, spin button, or the model chooser below).
void on_config_changed(GObject*, GParamSpec*, gpointer data) {
  Dialog& d = *static_cast<Dialog*>(data);
  try {
    d.params = params_from_config(d.config);
    d.params_ok = true;
  } catch (const std::exception&) {
    d.params_ok = false;
  }
  update_estimate(d);
  gimp_preview_invalidate(GIMP_PREVIEW(d.preview));
}

void on_model(GtkComboBox* combo, gpointer data) {
  Dialog& d = *static_cast<Dialog*>(data);
  gchar* name = gtk_combo_box_text_get_active_text(GTK_COMBO_BOX_TEXT(combo));
  if (name) g_object_set(d.config, "model", name, nullptr);
  g_free(name);
}

// The model argument is a string (a name or a path); the dialog offers the models it finds.
GtkWidget* model_row(Dialog& d) {
  GtkWidget* row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget* label = gtk_label_new_with_mnemonic("_Model");
  GtkWidget* combo = gtk_combo_box_text_new();
  int active = -1, index = 0;
  for (const ModelEntry& m : d.models) {
    gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(combo), m.name.c_str());
    if (m.name == d.params.model || m.path == d.params.model) active = index;
    ++index;
  }
  if (active < 0) {  // a path given earlier, or a name that is not installed: keep it visible
    gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(combo), d.params.model.c_str());
    active = index;
  }
  gtk_combo_box_set_active(GTK_COMBO_BOX(combo), active);
  std::string where = "Models are looked up in:";
  for (const std::string& dir : d.dirs) where += "\n" + dir;
  gtk_widget_set_tooltip_text(combo, where.c_str());
  gtk_label_set_mnemonic_widget(GTK_LABEL(label), combo);
  g_signal_connect(combo, "changed", G_CALLBACK(on_model), &d);
  gtk_box_pack_start(GTK_BOX(row), label, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(row), combo, TRUE, TRUE, 0);
  return row;
}

GtkWidget* status_row(Dialog& d) {
  GtkWidget* row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  d.spinner = gtk_spinner_new();
  d.status = gtk_label_new("");
  gtk_label_set_xalign(GTK_LABEL(d.status), 0.0);
  gtk_box_pack_start(GTK_BOX(row), d.spinner, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(row), d.status, TRUE, TRUE, 0);
  return row;
}

// Packs `widget` into the dialog's content area right after the child that holds `after`.
void pack_after(GtkWidget* content, GtkWidget* widget, GtkWidget* after) {
  gtk_box_pack_start(GTK_BOX(content), widget, FALSE, FALSE, 0);
  while (after && gtk_widget_get_parent(after) != content) after = gtk_widget_get_parent(after);
  if (!after) return;
  gint position = 0;
  gtk_container_child_get(GTK_CONTAINER(content), after, "position", &position, nullptr);
  gtk_box_reorder_child(GTK_BOX(content), widget, position + 1);
}

void build(Dialog& d, GimpProcedure* procedure) {
  d.window = gimp_procedure_dialog_new(procedure, d.config, kTitle);
  GimpProcedureDialog* dialog = GIMP_PROCEDURE_DIALOG(d.window);
  gimp_window_set_transient(GTK_WINDOW(d.window));

  // CUDA stays listed (scripts and last values may name it) but cannot be chosen without a device.
  GParamSpec* device = g_object_class_find_property(G_OBJECT_GET_CLASS(d.config), "device");
  gimp_choice_set_sensitive(gimp_param_spec_choice_get_choice(device), kDeviceNicks[2], d.cuda);
  if (!d.cuda && d.params.device == DeviceChoice::CUDA) g_object_set(d.config, "device", kDeviceNicks[0], nullptr);

  d.preview = gimp_procedure_dialog_get_drawable_preview(dialog, "preview", d.drawable);
  GtkWidget* strength = gimp_procedure_dialog_get_scale_entry(dialog, "strength", 1.0);
  GtkWidget* device_widget = gimp_procedure_dialog_get_widget(dialog, "device", G_TYPE_NONE);
  if (!d.cuda) gtk_widget_set_tooltip_text(device_widget, "CUDA: no CUDA device found by LibTorch");
  gimp_procedure_dialog_fill(dialog, "preview", "strength", "device", "tile-size", nullptr);

  GtkWidget* content = gtk_dialog_get_content_area(GTK_DIALOG(d.window));
  pack_after(content, status_row(d), d.preview);
  pack_after(content, model_row(d), strength);
  d.estimate = gtk_label_new("");
  gtk_label_set_line_wrap(GTK_LABEL(d.estimate), TRUE);
  gtk_label_set_xalign(GTK_LABEL(d.estimate), 0.0);
  gtk_box_pack_start(GTK_BOX(content), d.estimate, FALSE, FALSE, 0);

  g_signal_connect(d.preview, "invalidated", G_CALLBACK(on_invalidated), &d);
  g_signal_connect(d.config, "notify", G_CALLBACK(on_config_changed), &d);
  gtk_widget_show_all(d.window);
  gtk_widget_hide(d.spinner);
}

}  // namespace

bool run_dialog(GimpProcedure* procedure, GimpProcedureConfig* config, GimpImage* /*image*/, GimpDrawable* drawable) {
  Dialog d;
  d.drawable = drawable;
  d.config = config;
  try {
    d.params = params_from_config(config);
  } catch (const std::exception&) {
    d.params = default_params();  // unusable last values: start from the defaults
    d.params_ok = false;
  }
  d.dirs = search_dirs();
  d.models = list_models(d.dirs);
  d.cuda = probe_cuda();
  gint x, y;
  gimp_drawable_mask_intersect(drawable, &x, &y, &d.layer_width, &d.layer_height);
  d.source = gimp_drawable_get_buffer(drawable);
  build(d, procedure);
  update_estimate(d);
  const bool ok = gimp_procedure_dialog_run(GIMP_PROCEDURE_DIALOG(d.window));
  stop_preview(d);
  g_signal_handlers_disconnect_by_data(d.config, &d);
  gtk_widget_destroy(d.window);
  g_object_unref(d.source);
  return ok;
}

}  // namespace lowlight::plugin::gimp3
