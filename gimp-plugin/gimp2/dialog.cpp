// The GTK2 dialog: widgets and GIMP 2.10 calls only. What it does with them (preview in a child process,
// status, estimate) is the shared PreviewSession; the preview is drawn by GIMP's zoom preview, which opens
// on the whole layer fitted into it and blends the preview with the original by the selection itself.
#include "dialog.h"

#include <libgimp/gimpui.h>

#include <string>

#include "../common/gtk_parts.h"
#include "../common/messages.h"
#include "../common/preview_session.h"
#include "../common/preview_widget.h"
#include "process.h"

namespace lowlight::plugin::gimp2 {
namespace {

constexpr int kScaleWidth = 200;

struct Dialog {
  PreviewSession& session;
  GtkWidget* window = nullptr;
  GtkWidget* preview = nullptr;
};

// Every control edits one field of the session's settings, then the preview and estimate follow.
template <typename Edit>
void change(gpointer data, Edit edit) {
  Dialog& d = *static_cast<Dialog*>(data);
  Params params = d.session.params();
  edit(params);
  d.session.set_params(params);
  gimp_preview_invalidate(GIMP_PREVIEW(d.preview));
}

void on_strength(GtkAdjustment* adjustment, gpointer data) {
  change(data, [adjustment](Params& p) { p.strength = gtk_adjustment_get_value(adjustment); });
}

void on_exposure(GtkAdjustment* adjustment, gpointer data) {
  change(data, [adjustment](Params& p) { p.exposure = gtk_adjustment_get_value(adjustment); });
}

void on_model(GtkComboBox* combo, gpointer data) {
  change(data, [combo](Params& p) { p.model = gtk::active_text(combo); });
}

void on_device(GtkWidget* combo, gpointer data) {
  gint value = 0;
  if (!gimp_int_combo_box_get_active(GIMP_INT_COMBO_BOX(combo), &value)) return;
  change(data, [value](Params& p) { p.device = device_choice_from_int(value); });
}

void on_tile(GtkSpinButton* spin, gpointer data) {
  change(data, [spin](Params& p) { p.tile = gtk_spin_button_get_value_as_int(spin); });
}

void on_invalidated(GimpPreview* preview, gpointer data) {
  gimp_ui::request_shown(preview, static_cast<Dialog*>(data)->session);
}

gboolean device_sensitive(gint value, gpointer data) {
  return value != static_cast<gint>(DeviceChoice::CUDA) || static_cast<Dialog*>(data)->session.cuda();
}

GtkWidget* device_combo(Dialog& d) {
  const bool cuda = d.session.cuda();
  GtkWidget* combo = gimp_int_combo_box_new("Automatic", 0, "CPU (processor)", 1,
                                            cuda ? "CUDA (graphics card)" : "CUDA (no CUDA graphics card found)", 2,
                                            nullptr);
  gimp_int_combo_box_set_sensitivity(GIMP_INT_COMBO_BOX(combo), device_sensitive, &d, nullptr);
  gimp_int_combo_box_set_active(GIMP_INT_COMBO_BOX(combo), static_cast<gint>(d.session.params().device));
  g_signal_connect(combo, "changed", G_CALLBACK(on_device), &d);
  return combo;
}

// Where the model runs and how: rarely changed, so folded away under "Advanced".
GtkWidget* advanced(Dialog& d) {
  GtkWidget* table = gtk_table_new(3, 3, FALSE);
  gtk_table_set_col_spacings(GTK_TABLE(table), 6);
  gtk_table_set_row_spacings(GTK_TABLE(table), 6);
  gtk_container_set_border_width(GTK_CONTAINER(table), 6);
  gimp_table_attach_aligned(GTK_TABLE(table), 0, 0, "_Device:", 0.0, 0.5, device_combo(d), 2, FALSE);
  // Steps of 32 from 0 (automatic): every value reached with the arrows is a tile the engine accepts (>= 32).
  GtkWidget* tile = gtk_spin_button_new_with_range(0, 8192, 32);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(tile), d.session.params().tile);
  gtk_widget_set_tooltip_text(tile, kTileTooltip);
  g_signal_connect(tile, "value-changed", G_CALLBACK(on_tile), &d);
  gimp_table_attach_aligned(GTK_TABLE(table), 0, 1, "_Tile size:", 0.0, 0.5, tile, 1, TRUE);
  GtkWidget* threads = gtk_label_new(threads_text().c_str());
  g_object_set(threads, "xalign", 0.0, nullptr);
  gimp_table_attach_aligned(GTK_TABLE(table), 0, 2, "Threads:", 0.0, 0.5, threads, 2, FALSE);
  GtkWidget* expander = gtk_expander_new_with_mnemonic("_Advanced");
  gtk_container_add(GTK_CONTAINER(expander), table);
  return expander;
}

GtkWidget* controls(Dialog& d) {
  const Params& params = d.session.params();
  GtkWidget* table = gtk_table_new(3, 3, FALSE);
  gtk_table_set_col_spacings(GTK_TABLE(table), 6);
  gtk_table_set_row_spacings(GTK_TABLE(table), 6);
  GtkObject* strength = gimp_scale_entry_new(GTK_TABLE(table), 0, 0, "_Strength:", kScaleWidth, 6, params.strength,
                                             0.0, 1.0, 0.01, 0.1, 2, TRUE, 0, 0,
                                             "0 keeps the layer as it is, 1 is the model's full result", nullptr);
  g_signal_connect(strength, "value-changed", G_CALLBACK(on_strength), &d);
  GtkObject* exposure = gimp_scale_entry_new(GTK_TABLE(table), 0, 1, "_Brightness (0 = automatic):", kScaleWidth, 6,
                                             params.exposure, 0.0, kMaxExposure, 0.01, 0.05, 2, TRUE, 0, 0,
                                             "Mean brightness of the result: lower if it comes out too bright, higher "
                                             "if too dark; 0 keeps the model's own",
                                             nullptr);
  g_signal_connect(exposure, "value-changed", G_CALLBACK(on_exposure), &d);
  GtkWidget* model = gtk::model_combo(model_choices(d.session.model_dirs(), params.model), G_CALLBACK(on_model), &d);
  gimp_table_attach_aligned(GTK_TABLE(table), 0, 2, "_Model:", 0.0, 0.5, model, 2, FALSE);
  return table;
}

void build(Dialog& d, gint32 drawable) {
  d.window = gimp_dialog_new(kTitle, kBinaryName, nullptr, GtkDialogFlags(0), gimp_standard_help_func, kProcedureName,
                             "_Cancel", GTK_RESPONSE_CANCEL, "_OK", GTK_RESPONSE_OK, nullptr);
  gtk_dialog_set_alternative_button_order(GTK_DIALOG(d.window), GTK_RESPONSE_OK, GTK_RESPONSE_CANCEL, -1);
  gimp_window_set_transient(GTK_WINDOW(d.window));
  GtkWidget* box = gtk_vbox_new(FALSE, 12);
  gtk_container_set_border_width(GTK_CONTAINER(box), 12);
  gtk_box_pack_start(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(d.window))), box, TRUE, TRUE, 0);

  // Zoom 1 of a zoom preview is the whole layer (or selection) fitted into the preview.
  d.preview = gimp_zoom_preview_new_from_drawable_id(drawable);
  d.session.view.preview = [&d](const uint8_t* pixels, int rowstride) {
    gimp_preview_draw_buffer(GIMP_PREVIEW(d.preview), pixels, rowstride);
  };
  gtk_box_pack_start(GTK_BOX(box), d.preview, TRUE, TRUE, 0);
  GtkWidget* status_row = gtk_hbox_new(FALSE, 6);
  gtk::fill_status_row(status_row, d.session.view);
  gtk_box_pack_start(GTK_BOX(box), status_row, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(box), controls(d), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(box), advanced(d), FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(box), gtk::estimate_label(GTK_DIALOG(d.window), d.session.view), FALSE, FALSE, 0);
  g_signal_connect(d.preview, "invalidated", G_CALLBACK(on_invalidated), &d);
  gtk_widget_show_all(d.window);
}

}  // namespace

bool run_dialog(gint32 /*image*/, gint32 drawable, Params* params) {
  gimp_ui_init(kBinaryName, FALSE);
  Rect area;
  gimp_drawable_mask_intersect(drawable, &area.x, &area.y, &area.width, &area.height);
  PreviewSession session(BufferPtr(gimp_drawable_get_buffer(drawable)), area.width, area.height, search_dirs(),
                         probe_cuda());
  Params start = *params;
  if (!session.cuda() && start.device == DeviceChoice::CUDA) start.device = DeviceChoice::Auto;
  session.set_params(start);  // before the widgets, which show these values
  Dialog d{session};
  build(d, drawable);
  session.set_params(start);  // the estimate line, now that it exists
  const bool ok = gimp_dialog_run(GIMP_DIALOG(d.window)) == GTK_RESPONSE_OK;
  session.stop();
  gtk_widget_destroy(d.window);
  if (ok) *params = session.params();
  return ok;
}

}  // namespace lowlight::plugin::gimp2
