// The GIMP 2.10 dialog in the real GIMP user interface (Xvfb, driven with xdotool, captured with ImageMagick):
// what the user sees when it opens, what its Help button opens, and what OK does when the model has gone
// since the dialog opened. Built only when gimp-2.10, Xvfb, xdotool and import are found
// (tests/gimp/CMakeLists.txt). Each case starts its own GIMP.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "lowlight/image.h"
#include "support/gimp_gui.h"
#include "support/tiny_weights.h"

namespace fs = std::filesystem;
using namespace lowlight;

namespace {

struct Rgb {
  int r, g, b;
};

// A dark layer the size of a small photo with a coloured marker in each corner, a tenth of its width and
// height: the corners are far apart, so a preview shows all four only when it shows the whole layer.
constexpr int kWidth = 1200, kHeight = 900, kMarkerW = 120, kMarkerH = 90;
constexpr Rgb kBackground{35, 45, 60};
constexpr Rgb kMarkers[4] = {{200, 40, 160}, {40, 180, 170}, {90, 60, 200}, {230, 150, 20}};  // TL TR BL BR

Image marker_layer() {
  Image image(kWidth, kHeight, 3, SampleType::U8);
  for (int y = 0; y < kHeight; ++y)
    for (int x = 0; x < kWidth; ++x) {
      const bool left = x < kMarkerW, right = x >= kWidth - kMarkerW, top = y < kMarkerH, bottom = y >= kHeight - kMarkerH;
      Rgb c = kBackground;
      if (top && left) c = kMarkers[0];
      if (top && right) c = kMarkers[1];
      if (bottom && left) c = kMarkers[2];
      if (bottom && right) c = kMarkers[3];
      uint8_t* p = &image.bytes[(static_cast<size_t>(y) * kWidth + x) * 3];
      p[0] = c.r, p[1] = c.g, p[2] = c.b;
    }
  return image;
}

Rgb pixel(const Image& shot, int x, int y) {
  const uint8_t* p = &shot.bytes[(static_cast<size_t>(y) * shot.width + x) * shot.channels];
  return shot.channels >= 3 ? Rgb{p[0], p[1], p[2]} : Rgb{p[0], p[0], p[0]};
}

int distance(const Rgb& a, const Rgb& b) {
  return std::max({std::abs(a.r - b.r), std::abs(a.g - b.g), std::abs(a.b - b.b)});
}

struct Box {
  int x0 = INT_MAX, y0 = INT_MAX, x1 = -1, y1 = -1, count = 0;  // x1, y1 exclusive
  int width() const { return x1 - x0; }
  int height() const { return y1 - y0; }
  Rgb centre(const Image& shot) const { return pixel(shot, (x0 + x1) / 2, (y0 + y1) / 2); }
};

Box find_colour(const Image& shot, const Rgb& colour) {
  Box box;
  for (int y = 0; y < shot.height; ++y)
    for (int x = 0; x < shot.width; ++x)
      if (distance(pixel(shot, x, y), colour) <= 2) {
        box.x0 = std::min(box.x0, x), box.y0 = std::min(box.y0, y);
        box.x1 = std::max(box.x1, x + 1), box.y1 = std::max(box.y1, y + 1);
        ++box.count;
      }
  return box;
}

// GIMP with the plug-in, a tiny model under the default name and the help page, on Xvfb, running `script`
// after loading the marker layer as `image` / `drawable` in a display.
struct DialogFixture {
  test::GimpOnXvfb gimp;
  std::string in, out;

  explicit DialogFixture(const std::string& name) : gimp(test::temp_dir(name)) {
    fs::create_directories(gimp.plugin_dir());
    fs::copy_file(LOWLIGHT_GIMP_PLUGIN, gimp.plugin_dir() / "lowlight-enhance");
    test::make_tiny_weights((gimp.plugin_dir() / "default.safetensors").string());
    fs::copy(LOWLIGHT_SOURCE_DIR "/docs/help", gimp.plugin_dir() / "help", fs::copy_options::recursive);
    in = (gimp.root() / "in.png").string();
    out = (gimp.root() / "out.png").string();
    write_image(in, marker_layer().view());
  }

  // Opens the dialog (interactive run) and, once it has closed, saves the layer to `out` and quits.
  bool open_dialog(const std::string& env = "") {
    if (!gimp.start_x()) return false;
    gimp.start_gimp("(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"" + in + "\" \"" + in + "\")))"
                    "       (drawable (car (gimp-image-get-active-drawable image))))"
                    "  (gimp-display-new image)"
                    "  (catch #f (plug-in-lowlight-enhance RUN-INTERACTIVE image drawable 1.0 \"default\" 0 0 0))"
                    "  (gimp-file-save RUN-NONINTERACTIVE image drawable \"" + out + "\" \"" + out + "\")"
                    "  (gimp-quit 1))",
                    env);
    return true;
  }

  std::string dialog() { return gimp.find_window("^Low-Light Enhance$", 90); }

  // Types `value` into the Strength field (Alt+S reaches it) and leaves it, as a user does.
  void set_strength(const std::string& window, const std::string& value) {
    gimp.keys(window, "alt+s");
    gimp.keys(window, "ctrl+a");
    gimp.type(window, value);
    gimp.keys(window, "Tab");
  }

  Image capture(const std::string& window, const std::string& name) {
    const fs::path png = gimp.root() / name;
    if (!gimp.capture(window, png)) return Image();
    return read_image(png.string());
  }
};

// The dialog opens on the whole layer fitted into the preview (not on 1:1 pixels of a part of it), and what
// it draws there is the filter's preview of the whole layer.
TEST(GimpDialog, PreviewOpensOnTheWholeLayerFitted) {
  DialogFixture f("gimp-dialog-fit");
  ASSERT_TRUE(f.open_dialog()) << "Xvfb did not start";
  const std::string window = f.dialog();
  ASSERT_FALSE(window.empty()) << "the dialog did not appear\n" << f.gimp.log();
  test::pause_s(3);  // the first preview (the tiny model: well under a second)

  // At strength 0 the preview is the layer itself, exactly: find it in the window by its colours.
  f.set_strength(window, "0");
  test::pause_s(2);
  const Image original = f.capture(window, "strength0.png");
  ASSERT_GT(original.width, 0) << "no capture";
  Box markers[4], all;
  for (int i = 0; i < 4; ++i) {
    markers[i] = find_colour(original, kMarkers[i]);
    ASSERT_GT(markers[i].count, 50) << "corner marker " << i << " is not in the preview: it does not show the whole layer";
    all.x0 = std::min(all.x0, markers[i].x0), all.y0 = std::min(all.y0, markers[i].y0);
    all.x1 = std::max(all.x1, markers[i].x1), all.y1 = std::max(all.y1, markers[i].y1);
  }
  std::printf("[dialog] the 1200x900 layer is shown as %dx%d pixels at (%d, %d) in the %dx%d dialog\n", all.width(),
              all.height(), all.x0, all.y0, original.width, original.height);
  // The markers sit in the corners of one rectangle with the layer's shape, each a tenth of it: the layer
  // scaled as a whole, nothing cut off.
  EXPECT_NEAR(static_cast<double>(all.width()) / all.height(), 4.0 / 3.0, 0.06);
  for (const Box& m : markers) {
    EXPECT_NEAR(static_cast<double>(m.width()) / all.width(), 0.1, 0.03);
    EXPECT_NEAR(static_cast<double>(m.height()) / all.height(), 0.1, 0.03);
  }
  EXPECT_LE(markers[0].x1, markers[1].x0);
  EXPECT_LE(markers[0].y1, markers[2].y0);
  EXPECT_LE(markers[2].x1, markers[3].x0);
  EXPECT_LE(markers[1].y1, markers[3].y0);
  EXPECT_GT(find_colour(original, kBackground).count, all.width() * all.height() / 2);

  // At strength 1 the enhanced preview covers the same rectangle, corners included.
  f.set_strength(window, "1");
  Image enhanced;
  for (int i = 0; i < 60; ++i) {
    test::pause_s(0.5);
    enhanced = f.capture(window, "strength1.png");
    if (enhanced.width == original.width && distance(all.centre(enhanced), kBackground) > 4) break;
  }
  ASSERT_EQ(enhanced.width, original.width);
  EXPECT_GT(distance(all.centre(enhanced), all.centre(original)), 4) << "the middle of the preview is not enhanced";
  for (int i = 0; i < 4; ++i)
    EXPECT_GT(distance(markers[i].centre(enhanced), kMarkers[i]), 4) << "corner " << i << " of the preview is not enhanced";
  f.gimp.keys(window, "Escape");
}

// Help opens the page shipped with the plug-in (docs/help/, registered as its help domain), not GIMP's
// "user manual not installed" box. GIMP hands the page to its web-browser plug-in, which opens it with the
// desktop's default application for web pages (gtk_show_uri): here a recorder standing in for a browser.
TEST(GimpDialog, HelpOpensTheShippedPage) {
  DialogFixture f("gimp-dialog-help");
  const fs::path home = f.gimp.root() / "home", opened = f.gimp.root() / "opened";
  const fs::path recorder = f.gimp.root() / "browser.sh";
  std::ofstream(recorder) << "#!/bin/sh\necho \"$1\" >> " << opened.string() << "\n";
  fs::permissions(recorder, fs::perms::owner_all);
  fs::create_directories(home / ".local/share/applications");
  fs::create_directories(home / ".config");
  std::ofstream(home / ".local/share/applications/lowlight-test-browser.desktop")
      << "[Desktop Entry]\nType=Application\nName=Test browser\nExec=" << recorder.string()
      << " %u\nMimeType=text/html;x-scheme-handler/http;x-scheme-handler/https;\n";
  // Debian's default, said explicitly: GIMP's own help browser is not packaged, and when it is, the web
  // browser is what a user without the manual sets.
  std::ofstream(f.gimp.root() / "profile" / "gimprc") << "(help-browser web-browser)\n";
  std::ofstream(home / ".config/mimeapps.list")
      << "[Default Applications]\ntext/html=lowlight-test-browser.desktop\n"
         "x-scheme-handler/http=lowlight-test-browser.desktop\nx-scheme-handler/https=lowlight-test-browser.desktop\n";
  ASSERT_TRUE(f.open_dialog("XDG_DATA_HOME=" + (home / ".local/share").string())) << "Xvfb did not start";
  const std::string window = f.dialog();
  ASSERT_FALSE(window.empty()) << "the dialog did not appear\n" << f.gimp.log();
  test::pause_s(1);
  f.gimp.keys(window, "F1");
  const bool asked = test::wait_for(opened, 30);
  test::pause_s(0.5);
  const std::string missing = f.gimp.find_window("[Mm]anual|[Hh]elp [Bb]rowser", 1);
  f.gimp.keys(window, "Escape");
  ASSERT_TRUE(asked) << "no page was opened\n" << f.gimp.log();
  const std::string url = test::slurp_text(opened);
  std::printf("[dialog] Help opened %s", url.c_str());  // a path or a file:// URI: GIO's choice
  EXPECT_NE(url.find((f.gimp.plugin_dir() / "help/en/index.html").string()), std::string::npos) << url;
  EXPECT_TRUE(missing.empty()) << "GIMP also showed a manual or help-browser box";
}

// A model deleted while the dialog is open: OK gives a GIMP message naming the problem (here on GIMP's
// output, -c) and leaves the layer exactly as it was.
TEST(GimpDialog, ModelDeletedWhileTheDialogIsOpenGivesAMessageAndKeepsTheLayer) {
  DialogFixture f("gimp-dialog-gone");
  ASSERT_TRUE(f.open_dialog()) << "Xvfb did not start";
  const std::string window = f.dialog();
  ASSERT_FALSE(window.empty()) << "the dialog did not appear\n" << f.gimp.log();
  test::pause_s(3);  // the preview was made with the model
  ASSERT_TRUE(fs::remove(f.gimp.plugin_dir() / "default.safetensors"));
  f.gimp.keys(window, "alt+o");
  ASSERT_TRUE(test::wait_for(f.out, 60)) << "the layer was not saved after OK\n" << f.gimp.log();
  test::pause_s(0.5);
  const std::string log = f.gimp.log();
  // The plug-in's own gimp_message (GIMP prints it as "<plug-in>-Warning: ..." with -c), not only the error
  // status GIMP reports to the calling script.
  EXPECT_NE(log.find("Low-Light Enhance-Warning: Low-Light Enhance: model 'default' not found"), std::string::npos)
      << log;
  const Image after = read_image(f.out);
  EXPECT_TRUE(after.bytes == marker_layer().bytes) << "the layer changed";
}

}  // namespace
