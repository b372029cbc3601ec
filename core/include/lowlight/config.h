#pragma once
// Model configuration: a plain struct, cheap to include (no LibTorch).
#include <cstdint>
#include <string>

namespace lowlight {

struct ModelConfig {
  int channels = 64;          // C: width of the full-resolution stream
  int rrgs = 3;               // recursive residual groups
  int mrbs = 2;               // multi-scale residual blocks per RRG
  int streams = 3;            // parallel resolutions (2..4); stream i has C*2^i channels at 1/2^i scale
  int sa_kernel = 1;          // spatial-attention conv kernel (Keras: 1, official MIRNet: 5); odd
  int reduction = 8;          // squeeze ratio in channel attention and SKFF (hidden = max(1, ch/reduction))
  // Seed-compatibility with the Keras example; both false is the correct network.
  bool keras_last_skff = false;        // final SKFF gets the lowest stream in place of the second one
  bool keras_softmax_channels = false; // SKFF softmax over channels of each descriptor, not across streams
  // Width of the global exposure and colour branch (0: none, as in the paper and the Keras example). The branch
  // looks at a 32x32 thumbnail of the whole input and gives one gain, one gamma and one 3x3 colour matrix per
  // image, applied to the body's output (model.h, GlobalBranch). It costs no work per pixel beyond those.
  int global = 0;
};

// What the global branch gives per image: log gain, log gamma, and the 3x3 colour matrix's offsets from identity.
constexpr int kGlobalOutputs = 11;

// The paper's network: C=64, 3 RRG x 2 MRB, 3 streams, correct SKFF.
ModelConfig default_model_config();

// Throws lowlight::Error naming the first field that is out of range.
void validate(const ModelConfig& config);

std::string to_json(const ModelConfig& config);          // compact JSON object
ModelConfig model_config_from_json(const std::string& json);  // validates; unknown keys are an error

// Analytic counts (no model is built); tests check them against a built model.
int64_t parameter_count(const ModelConfig& config);
// Multiply-accumulates per megapixel of input, convolutions only (pooling and element-wise work excluded).
double macs_per_megapixel(const ModelConfig& config);

// Width of the squeeze layer in channel attention and SKFF for a stream of `channels`.
int squeeze_channels(int channels, const ModelConfig& config);

// Input sides are padded to a multiple of this (2^(streams-1)).
int size_multiple(const ModelConfig& config);

bool operator==(const ModelConfig& a, const ModelConfig& b);
inline bool operator!=(const ModelConfig& a, const ModelConfig& b) { return !(a == b); }

}  // namespace lowlight
