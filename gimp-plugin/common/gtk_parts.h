#pragma once
// Dialog parts built only from GTK calls that GTK 2 (GIMP 2.10) and GTK 3 (GIMP 3) both have, wired to a
// PreviewSession's view. Header-only on purpose: each front end compiles it against its own GTK, and the
// shared library stays free of GTK. A front end on another toolkit writes its own instead.
#include <gtk/gtk.h>

#include <string>

#include "model_lookup.h"
#include "preview_session.h"

namespace lowlight::plugin::gtk {

// Long messages (a model not found lists the folders searched) wrap at this width instead of widening the
// dialog.
constexpr int kLabelChars = 60;

inline GtkWidget* wrapping_label() {
  GtkWidget* label = gtk_label_new("");
  gtk_label_set_line_wrap(GTK_LABEL(label), TRUE);
  gtk_label_set_max_width_chars(GTK_LABEL(label), kLabelChars);
  gtk_label_set_width_chars(GTK_LABEL(label), kLabelChars);
  g_object_set(label, "xalign", 0.0, nullptr);
  return label;
}

// Fills `row` (a horizontal box) with a spinner and the session's status line.
inline void fill_status_row(GtkWidget* row, DialogView& view) {
  GtkWidget* spinner = gtk_spinner_new();
  GtkWidget* label = wrapping_label();
  gtk_widget_set_no_show_all(spinner, TRUE);  // shown only while busy
  gtk_box_pack_start(GTK_BOX(row), spinner, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(row), label, TRUE, TRUE, 0);
  view.status = [spinner, label](const std::string& text, bool busy) {
    gtk_label_set_text(GTK_LABEL(label), text.c_str());
    g_object_set(spinner, "active", gboolean(busy), "visible", gboolean(busy), nullptr);
  };
}

// The estimate line; it also turns the dialog's OK button off while the settings cannot run.
inline GtkWidget* estimate_label(GtkDialog* dialog, DialogView& view) {
  GtkWidget* label = wrapping_label();
  view.estimate = [dialog, label](const std::string& text, bool runnable) {
    gtk_label_set_text(GTK_LABEL(label), text.c_str());
    gtk_dialog_set_response_sensitive(dialog, GTK_RESPONSE_OK, runnable);
  };
  return label;
}

// A chooser offering `choices`; `changed(combo, data)` runs on every change (see active_text).
inline GtkWidget* model_combo(const ModelChoices& choices, GCallback changed, gpointer data) {
  GtkWidget* combo = gtk_combo_box_text_new();
  for (const std::string& name : choices.names)
    gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(combo), name.c_str());
  gtk_combo_box_set_active(GTK_COMBO_BOX(combo), choices.active);
  gtk_widget_set_tooltip_text(combo, choices.tooltip.c_str());
  g_signal_connect(combo, "changed", changed, data);
  return combo;
}

// The chosen entry of a model_combo, empty when none is.
inline std::string active_text(GtkComboBox* combo) {
  gchar* text = gtk_combo_box_text_get_active_text(GTK_COMBO_BOX_TEXT(combo));
  const std::string result = text ? text : "";
  g_free(text);
  return result;
}

}  // namespace lowlight::plugin::gtk
