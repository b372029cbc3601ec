// The preview runs the model in a child process (common/preview_run.h) so the dialog stays responsive
// and a stale preview can be dropped at once; GIMP and GTK are only touched here, in the parent. The
// preview is computed at strength 1 and kept, so moving the strength slider only re-blends; the final
// render runs the engine at the chosen strength exactly as the CLI does.
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

namespace lowlight::plugin::gimp2 {
namespace {

constexpr int kScaleWidth = 200;
constexpr guint kPollMs = 40;

struct Dialog {
  gint32 drawable = -1;
  Params params;
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
  bool ok = true;
  try {
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
  if (rect.width < 1 || rect.height < 1) return;
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

void on_strength(GtkAdjustment* adjustment, gpointer data) {
  Dialog& d = *static_cast<Dialog*>(data);
  d.params.strength = gtk_adjustment_get_value(adjustment);
  gimp_preview_invalidate(GIMP_PREVIEW(d.preview));
}

void on_model(GtkComboBox* combo, gpointer data) {
  Dialog& d = *static_cast<Dialog*>(data);
  gchar* name = gtk_combo_box_text_get_active_text(GTK_COMBO_BOX_TEXT(combo));
  if (name) d.params.model = name;
  g_free(name);
  update_estimate(d);
  gimp_preview_invalidate(GIMP_PREVIEW(d.preview));
}

void on_device(GtkWidget* combo, gpointer data) {
  Dialog& d = *static_cast<Dialog*>(data);
  gint value = 0;
  if (gimp_int_combo_box_get_active(GIMP_INT_COMBO_BOX(combo), &value)) d.params.device = device_choice_from_int(value);
  update_estimate(d);
  gimp_preview_invalidate(GIMP_PREVIEW(d.preview));
}

void on_tile(GtkSpinButton* spin, gpointer data) {
  Dialog& d = *static_cast<Dialog*>(data);
  d.params.tile = gtk_spin_button_get_value_as_int(spin);
  gimp_preview_invalidate(GIMP_PREVIEW(d.preview));
}

gboolean device_sensitive(gint value, gpointer data) {
  return value != static_cast<gint>(DeviceChoice::CUDA) || static_cast<Dialog*>(data)->cuda;
}

GtkWidget* model_combo(Dialog& d) {
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
  g_signal_connect(combo, "changed", G_CALLBACK(on_model), &d);
  return combo;
}

GtkWidget* device_combo(Dialog& d) {
  const bool cuda = d.cuda;
  if (!cuda && d.params.device == DeviceChoice::CUDA) d.params.device = DeviceChoice::Auto;
  GtkWidget* combo = gimp_int_combo_box_new("Automatic", 0, "CPU", 1, cuda ? "CUDA" : "CUDA (no CUDA device found)", 2,
                                            nullptr);
  gimp_int_combo_box_set_sensitivity(GIMP_INT_COMBO_BOX(combo), device_sensitive, &d, nullptr);
  gimp_int_combo_box_set_active(GIMP_INT_COMBO_BOX(combo), static_cast<gint>(d.params.device));
  g_signal_connect(combo, "changed", G_CALLBACK(on_device), &d);
  return combo;
}

GtkWidget* controls(Dialog& d) {
  GtkWidget* table = gtk_table_new(4, 3, FALSE);
  gtk_table_set_col_spacings(GTK_TABLE(table), 6);
  gtk_table_set_row_spacings(GTK_TABLE(table), 6);
  GtkObject* strength = gimp_scale_entry_new(GTK_TABLE(table), 0, 0, "_Strength:", kScaleWidth, 6, d.params.strength,
                                             0.0, 1.0, 0.01, 0.1, 2, TRUE, 0, 0,
                                             "0 keeps the layer as it is, 1 is the model's full result", nullptr);
  g_signal_connect(strength, "value-changed", G_CALLBACK(on_strength), &d);
  gimp_table_attach_aligned(GTK_TABLE(table), 0, 1, "_Model:", 0.0, 0.5, model_combo(d), 2, FALSE);
  gimp_table_attach_aligned(GTK_TABLE(table), 0, 2, "_Device:", 0.0, 0.5, device_combo(d), 2, FALSE);
  GtkWidget* tile = gtk_spin_button_new_with_range(0, 8192, 16);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(tile), d.params.tile);
  gtk_widget_set_tooltip_text(tile, "Side of the square tiles the layer is processed in; 0 chooses it from free memory");
  g_signal_connect(tile, "value-changed", G_CALLBACK(on_tile), &d);
  gimp_table_attach_aligned(GTK_TABLE(table), 0, 3, "_Tile size (0 = auto):", 0.0, 0.5, tile, 1, TRUE);
  return table;
}

void build(Dialog& d) {
  d.window = gimp_dialog_new(kTitle, kBinaryName, nullptr, GtkDialogFlags(0), gimp_standard_help_func, kProcedureName,
                             "_Cancel", GTK_RESPONSE_CANCEL, "_OK", GTK_RESPONSE_OK, nullptr);
  gtk_dialog_set_alternative_button_order(GTK_DIALOG(d.window), GTK_RESPONSE_OK, GTK_RESPONSE_CANCEL, -1);
  gimp_window_set_transient(GTK_WINDOW(d.window));
  GtkWidget* box = gtk_vbox_new(FALSE, 12);
  gtk_container_set_border_width(GTK_CONTAINER(box), 12);
  gtk_box_pack_start(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(d.window))), box, TRUE, TRUE, 0);

  d.preview = gimp_drawable_preview_new_from_drawable_id(d.drawable);
  gtk_box_pack_start(GTK_BOX(box), d.preview, TRUE, TRUE, 0);
  GtkWidget* status_row = gtk_hbox_new(FALSE, 6);
  d.spinner = gtk_spinner_new();
  d.status = gtk_label_new("");
  gtk_misc_set_alignment(GTK_MISC(d.status), 0.0, 0.5);
  gtk_box_pack_start(GTK_BOX(status_row), d.spinner, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(status_row), d.status, TRUE, TRUE, 0);
  gtk_box_pack_start(GTK_BOX(box), status_row, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(box), controls(d), FALSE, FALSE, 0);
  d.estimate = gtk_label_new("");
  gtk_label_set_line_wrap(GTK_LABEL(d.estimate), TRUE);
  gtk_misc_set_alignment(GTK_MISC(d.estimate), 0.0, 0.5);
  gtk_box_pack_start(GTK_BOX(box), d.estimate, FALSE, FALSE, 0);
  g_signal_connect(d.preview, "invalidated", G_CALLBACK(on_invalidated), &d);
  gtk_widget_show_all(d.window);
  gtk_widget_hide(d.spinner);
}

}  // namespace

bool run_dialog(gint32 /*image*/, gint32 drawable, Params* params) {
  gimp_ui_init(kBinaryName, FALSE);
  Dialog d;
  d.drawable = drawable;
  d.params = *params;
  d.dirs = search_dirs();
  d.models = list_models(d.dirs);
  d.cuda = probe_cuda();
  gint x, y;
  gimp_drawable_mask_intersect(drawable, &x, &y, &d.layer_width, &d.layer_height);
  d.source = gimp_drawable_get_buffer(drawable);
  build(d);
  update_estimate(d);
  const bool ok = gimp_dialog_run(GIMP_DIALOG(d.window)) == GTK_RESPONSE_OK;
  stop_preview(d);
  gtk_widget_destroy(d.window);
  g_object_unref(d.source);
  if (ok) *params = d.params;
  return ok;
}

}  // namespace lowlight::plugin::gimp2
