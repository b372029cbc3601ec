#pragma once
// The checks every GIMP front end must pass inside the real, headless GIMP (tests/gimp for 2.10, tests/gimp3
// for 3). GIMP starts once per test program (SetUpTestSuite): a temporary profile holds the freshly built
// plug-in and a tiny random model next to it, one Script-Fu session runs every scenario and saves its
// results, and each test checks one of them against `lowlight enhance` (see gimp_check.h). The tests all
// versions share are in gimp_plugin_check.cpp; each version's plugin_check.cpp defines gimp_under_test()
// and adds the tests of its own behaviour.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "lowlight/image.h"

namespace lowlight::test {

// How one GIMP version is driven. The rest comes from the build: LOWLIGHT_GIMP_PLUGIN (the binary),
// LOWLIGHT_GIMP_CONSOLE (the program), LOWLIGHT_BATCH_SCRIPT (examples/batch-enhance*.scm).
struct GimpUnderTest {
  std::string console_options;  // before the -b commands
  // Script-Fu defining (ll-load path), (ll-layer image), (ll-save image path) and
  // (ll-enhance image strength model: "tiny" on the CPU) for this version.
  std::string prelude;
  std::vector<std::string> extra_commands;  // run after the shared scenarios, before the failing ones
  std::string last_command;                 // after the failing one, when GIMP goes on after failures
};

// Defined by each version's plugin_check.cpp; called once the fixture's folders exist (in(), command()).
GimpUnderTest gimp_under_test();

class GimpPluginCheck : public ::testing::Test {
 public:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

  static std::filesystem::path in(const std::string& name) { return root_ / "in" / name; }
  static std::filesystem::path out(const std::string& name) { return root_ / "out" / name; }
  // A -b command: loads the scenario helpers (GIMP forgets definitions between -b commands), then `body`.
  static std::string command(const std::string& body);
  static std::string quoted(const std::filesystem::path& path) { return "\"" + path.string() + "\""; }

 protected:
  static Image reference(const Image& input, float strength);
  static size_t count_in_log(const std::string& what);

  static std::filesystem::path root_, weights_;
  static std::string log_;
  static int exit_code_;
  static double seconds_;
  static size_t commands_;

 private:
  static void write_bad_models(const std::filesystem::path& dir);
  static void write_inputs();
  static void write_helpers(const std::string& prelude);
  static std::vector<std::string> commands(const GimpUnderTest& gimp);
  static void run_gimp(const GimpUnderTest& gimp);
};

}  // namespace lowlight::test
