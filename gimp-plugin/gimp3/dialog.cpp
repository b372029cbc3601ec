// The GTK3 dialog: widgets and GIMP 3 calls only. What it does with them (preview in a child process,
// status, estimate) is the shared PreviewSession; the preview is drawn by GIMP's zoom preview, which opens
// on the whole layer fitted into it and blends the preview with the original by the selection itself. The arguments live in the procedure's config
// (GIMP stores it as the last values); the session re-reads it on every change.
#include "dialog.h"

#include <libgimp/gimpui.h>

#include <string>

#include "../common/gtk_parts.h"
#include "../common/messages.h"
#include "../common/preview_session.h"
#include "../common/preview_widget.h"
#include "process.h"

namespace lowlight::plugin::gimp3 {
namespace {

struct Dialog {
  PreviewSession& session;
  GimpProcedureConfig* config;
  GtkWidget* window = nullptr;
  GtkWidget* preview = nullptr;
};

// Values the dialog cannot use (from a script's last run, say) keep the last usable ones and say why.
void read_config(Dialog& d) {
  try {
    d.session.set_params(params_from_config(d.config));
  } catch (const std::exception& e) {
    d.session.set_params(d.session.params(), e.what());
  }
}

// Any argument changed (slider, combo, spin button, or the model chooser below).
void on_config_changed(GObject*, GParamSpec*, gpointer data) {
  Dialog& d = *static_cast<Dialog*>(data);
  read_config(d);
  gimp_preview_invalidate(GIMP_PREVIEW(d.preview));
}

void on_model(GtkComboBox* combo, gpointer data) {
  const std::string name = gtk::active_text(combo);
  if (!name.empty()) g_object_set(static_cast<Dialog*>(data)->config, "model", name.c_str(), nullptr);
}

void on_invalidated(GimpPreview* preview, gpointer data) {
  gimp_ui::request_shown(preview, static_cast<Dialog*>(data)->session);
}

// CUDA stays listed (scripts and last values may name it) but cannot be chosen without a device.
void offer_devices(Dialog& d) {
  GParamSpec* device = g_object_class_find_property(G_OBJECT_GET_CLASS(d.config), "device");
  gimp_choice_set_sensitive(gimp_param_spec_choice_get_choice(device), kDeviceNicks[2], d.session.cuda());
  const bool cuda_chosen = gimp_procedure_config_get_choice_id(d.config, "device") == int(DeviceChoice::CUDA);
  if (cuda_chosen && !d.session.cuda()) g_object_set(d.config, "device", kDeviceNicks[0], nullptr);
}

// The model argument is a string (a name or a path); the dialog offers the models it finds.
GtkWidget* model_row(Dialog& d) {
  GtkWidget* row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget* label = gtk_label_new_with_mnemonic("_Model");
  const ModelChoices choices = model_choices(d.session.model_dirs(), d.session.params().model);
  GtkWidget* combo = gtk::model_combo(choices, G_CALLBACK(on_model), &d);
  gtk_label_set_mnemonic_widget(GTK_LABEL(label), combo);
  gtk_box_pack_start(GTK_BOX(row), label, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(row), combo, TRUE, TRUE, 0);
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

void build(Dialog& d, GimpProcedure* procedure, GimpDrawable* drawable) {
  d.window = gimp_procedure_dialog_new(procedure, d.config, kTitle);
  GimpProcedureDialog* dialog = GIMP_PROCEDURE_DIALOG(d.window);
  gimp_window_set_transient(GTK_WINDOW(d.window));
  // Zoom 1 of a zoom preview is the whole layer (or selection) fitted into the preview; the procedure dialog
  // only makes drawable previews (1:1), so this one is packed by hand, first.
  d.preview = gimp_zoom_preview_new_from_drawable(drawable);
  d.session.view.preview = [&d](const uint8_t* pixels, int rowstride) {
    gimp_preview_draw_buffer(GIMP_PREVIEW(d.preview), pixels, rowstride);
  };
  GtkWidget* strength = gimp_procedure_dialog_get_scale_entry(dialog, "strength", 1.0);
  gimp_procedure_dialog_get_scale_entry(dialog, "exposure", 1.0);
  GtkWidget* device = gimp_procedure_dialog_get_widget(dialog, "device", G_TYPE_NONE);
  if (!d.session.cuda()) gtk_widget_set_tooltip_text(device, "CUDA: no CUDA device found by LibTorch");
  // Where the model runs and how: rarely changed, so folded away under "Advanced".
  gimp_procedure_dialog_get_label(dialog, "advanced-title", "_Advanced", FALSE, TRUE);
  GtkWidget* threads = gimp_procedure_dialog_get_label(dialog, "threads-label", ("Threads: " + threads_text()).c_str(),
                                                       FALSE, FALSE);
  gtk_label_set_xalign(GTK_LABEL(threads), 0.0);
  gimp_procedure_dialog_fill_box(dialog, "advanced-box", "device", "tile-size", "threads-label", nullptr);
  gimp_procedure_dialog_fill_expander(dialog, "advanced", "advanced-title", FALSE, "advanced-box");
  gimp_procedure_dialog_fill(dialog, "strength", "exposure", "advanced", nullptr);

  GtkWidget* content = gtk_dialog_get_content_area(GTK_DIALOG(d.window));
  gtk_box_pack_start(GTK_BOX(content), d.preview, TRUE, TRUE, 0);
  gtk_box_reorder_child(GTK_BOX(content), d.preview, 0);
  GtkWidget* status_row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  gtk::fill_status_row(status_row, d.session.view);
  pack_after(content, status_row, d.preview);
  pack_after(content, model_row(d), strength);
  gtk_box_pack_start(GTK_BOX(content), gtk::estimate_label(GTK_DIALOG(d.window), d.session.view), FALSE, FALSE, 0);
  g_signal_connect(d.preview, "invalidated", G_CALLBACK(on_invalidated), &d);
  g_signal_connect(d.config, "notify", G_CALLBACK(on_config_changed), &d);
  gtk_widget_show_all(d.window);
}

}  // namespace

bool run_dialog(GimpProcedure* procedure, GimpProcedureConfig* config, GimpImage* /*image*/, GimpDrawable* drawable) {
  Rect area;
  gimp_drawable_mask_intersect(drawable, &area.x, &area.y, &area.width, &area.height);
  PreviewSession session(BufferPtr(gimp_drawable_get_buffer(drawable)), area.width, area.height, search_dirs(),
                         probe_cuda());
  Dialog d{session, config};
  offer_devices(d);
  read_config(d);  // before the widgets, which show these values
  build(d, procedure, drawable);
  read_config(d);  // the estimate line, now that it exists
  const bool ok = gimp_procedure_dialog_run(GIMP_PROCEDURE_DIALOG(d.window));
  session.stop();
  g_signal_handlers_disconnect_by_data(config, &d);
  gtk_widget_destroy(d.window);
  return ok;
}

}  // namespace lowlight::plugin::gimp3
