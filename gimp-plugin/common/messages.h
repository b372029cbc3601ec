#pragma once
// Text the user sees, the same in every GIMP version.
#include <exception>
#include <string>

namespace lowlight::plugin {

constexpr const char* kTitle = "Low-Light Enhance";
constexpr const char* kBlurb = "Brighten a dark photo with a MIRNet low-light enhancement model";
constexpr const char* kHelp =
    "Enhances the active layer (or the selection in it) with a MIRNet model trained to turn low-light "
    "photos into well-exposed ones. strength blends between the original (0) and the model's output (1); "
    "model is a shipped model name such as \"default\" or a path to a .safetensors file; device is "
    "0 (automatic: CUDA when available), 1 (CPU) or 2 (CUDA); tile-size is the side of the square tiles "
    "the image is processed in (0: chosen from available memory).";
// The help domain the plug-in registers with GIMP; its gimp-help.xml maps kProcedureName to the help page
// (docs/help/, installed with the models: model_lookup.h help_dir()).
constexpr const char* kHelpDomain = "lowlight-enhance";
constexpr const char* kAuthor = "Lowlight contributors";
constexpr const char* kDate = "2024";

constexpr const char* kTileTooltip =
    "Large layers are processed in square tiles of this side, in pixels, so that memory use stays bounded; "
    "0 chooses it from the free memory";

// "Uses 4 threads (the CPU's physical cores; OMP_NUM_THREADS before starting GIMP changes it)".
std::string threads_text();

// `text` with the command line options core's messages suggest ("use --device cpu") put in the dialog's words.
std::string gimp_words(std::string text);

// "Low-Light Enhance: <what>" on one line (in gimp_words), for gimp_message and the PDB error string.
std::string error_text(const std::exception& error);
std::string error_text(const std::string& detail);

}  // namespace lowlight::plugin
