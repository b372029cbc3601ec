// The GIMP 3 plug-in inside the real, headless gimp-console-3.0: the shared checks
// (support/gimp_plugin_check.h) driven the GIMP 3 way (GIMP3_DIRECTORY profile, keyword arguments, an array
// of drawables), how GIMP 3's batch mode stops at the failing command, and the refusal of several drawables.
#include "support/gimp_plugin_check.h"

namespace lowlight::test {

GimpUnderTest gimp_under_test() {
  GimpUnderTest gimp;
  gimp.console_options = "-i -d -f --quit --batch-interpreter=plug-in-script-fu-eval";
  gimp.prelude = R"scm(
(define (ll-load path) (car (gimp-file-load RUN-NONINTERACTIVE path)))
(define (ll-layer image) (vector-ref (car (gimp-image-get-selected-drawables image)) 0))
(define (ll-save image path) (gimp-file-save RUN-NONINTERACTIVE image path -1))
(define (ll-enhance-drawables image drawables strength model)
  (plug-in-lowlight-enhance #:run-mode RUN-NONINTERACTIVE #:image image #:drawables drawables
                            #:strength strength #:model model #:device "cpu" #:tile-size 0))
(define (ll-enhance image strength model)
  (ll-enhance-drawables image (vector (ll-layer image)) strength model))
)scm";
  // Two drawables at once are refused with a message (caught here).
  gimp.extra_commands = {GimpPluginCheck::command(
      "(let* ((image (ll-load " + GimpPluginCheck::quoted(GimpPluginCheck::in("rgb8.png")) +
      ")) (layer (ll-layer image))) (catch (gimp-message \"LL-MULTI-CAUGHT\") "
      "(ll-enhance-drawables image (vector layer layer) 1.0 \"tiny\") (gimp-message \"LL-MULTI-NOT-FAILED\")))")};
  return gimp;
}

namespace {

TEST_F(GimpPluginCheck, GimpStoppedAtTheMissingModelAfterEveryOtherCommand) {
  EXPECT_EQ(count_in_log("batch command executed successfully"), commands_ - 1) << log_;
  // Exactly one batch command fails, the last one, as an execution error (not a calling error or a crash).
  EXPECT_EQ(count_in_log("batch command experienced an execution error"), 1u) << log_;
  EXPECT_NE(log_.find("Stopping at failing batch command [" + std::to_string(commands_ - 1) + "]"),
            std::string::npos) << log_;
  EXPECT_NE(log_.find("Procedure execution of plug-in-lowlight-enhance failed: Low-Light Enhance: model"),
            std::string::npos) << log_;
}

TEST_F(GimpPluginCheck, SeveralDrawablesAreRefusedClearly) {
  EXPECT_NE(log_.find("LL-MULTI-CAUGHT"), std::string::npos) << log_;
  EXPECT_EQ(log_.find("LL-MULTI-NOT-FAILED"), std::string::npos) << log_;
  EXPECT_NE(log_.find("works on exactly one layer or channel at a time, 2 were given"), std::string::npos) << log_;
}

}  // namespace
}  // namespace lowlight::test
