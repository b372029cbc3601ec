#pragma once
// How a weight file stores its numbers. Light header, shared by weights.h (light) and safetensors.h
// (LibTorch) so the light one need not include the other.

namespace lowlight {

enum class DType { F32, F16 };

}  // namespace lowlight
