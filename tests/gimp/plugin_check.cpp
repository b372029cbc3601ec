// The GIMP 2.10 plug-in inside the real, headless gimp-console: the shared checks
// (support/gimp_plugin_check.h) driven the GIMP 2.10 way, and how 2.10's batch mode reports a failure.
#include "support/gimp_plugin_check.h"

namespace lowlight::test {

GimpUnderTest gimp_under_test() {
  GimpUnderTest gimp;
  gimp.console_options = "-i -d -f";
  gimp.prelude = R"scm(
(define (ll-load path) (car (gimp-file-load RUN-NONINTERACTIVE path path)))
(define (ll-layer image) (car (gimp-image-get-active-drawable image)))
(define (ll-save image path) (gimp-file-save RUN-NONINTERACTIVE image (ll-layer image) path path))
(define (ll-enhance image strength model)
  (plug-in-lowlight-enhance RUN-NONINTERACTIVE image (ll-layer image) strength model 1 0 0))
)scm";
  gimp.last_command = "(gimp-quit 0)";  // 2.10 goes on after a failing command
  return gimp;
}

namespace {

TEST_F(GimpPluginCheck, GimpRanEveryCommandAndOnlyTheMissingModelFailed) {
  EXPECT_EQ(exit_code_, 0) << log_;
  EXPECT_EQ(count_in_log("execution error"), 1u) << log_;
}

}  // namespace
}  // namespace lowlight::test
