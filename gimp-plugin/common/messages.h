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
constexpr const char* kAuthor = "Lowlight contributors";
constexpr const char* kDate = "2024";

// "Low-Light Enhance: <what>" on one line, for gimp_message and the PDB error string.
std::string error_text(const std::exception& error);
std::string error_text(const std::string& detail);

}  // namespace lowlight::plugin
