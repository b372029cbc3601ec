// ModelConfig: defaults, validation, JSON, and analytic parameter / MAC counts.
#include "lowlight/config.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "lowlight/error.h"

namespace lowlight {
namespace {

using json = nlohmann::json;

// Parameters and MACs (per full-resolution pixel) accumulate together; `area` is the fraction of
// full-resolution pixels a layer's output has.
struct Cost {
  int64_t params = 0;
  double macs = 0;  // per full-resolution pixel

  void conv(int k, int in, int out, double area) {
    params += int64_t(k) * k * in * out + out;
    macs += double(k) * k * in * out * area;
  }
  // A 1x1 conv applied to a pooled 1x1 map: parameters but no per-pixel work.
  void pooled_conv(int in, int out) { params += int64_t(in) * out + out; }
};

double stream_area(int stream) { return 1.0 / double(1 << (2 * stream)); }

void down_sample(Cost& c, int ch, double area) {
  c.conv(1, ch, ch, area);
  c.conv(3, ch, ch, area);
  c.conv(1, ch, 2 * ch, area / 4);
  c.conv(1, ch, 2 * ch, area / 4);
}

void up_sample(Cost& c, int ch, double area) {
  c.conv(1, ch, ch, area);
  c.conv(3, ch, ch, area);
  c.conv(1, ch, ch / 2, area * 4);
  c.conv(1, ch, ch / 2, area * 4);
}

void resample(Cost& c, int base, int from, int to) {
  for (int s = from; s < to; ++s) down_sample(c, base << s, stream_area(s));
  for (int s = from; s > to; --s) up_sample(c, base << s, stream_area(s));
}

void dual_attention(Cost& c, int ch, const ModelConfig& cfg, double area) {
  c.conv(3, ch, ch, area);
  c.conv(3, ch, ch, area);
  c.pooled_conv(ch, squeeze_channels(ch, cfg));
  c.pooled_conv(squeeze_channels(ch, cfg), ch);
  c.conv(cfg.sa_kernel, 2, 1, area);
  c.conv(1, 2 * ch, ch, area);
}

void skff(Cost& c, int ch, int inputs, const ModelConfig& cfg) {
  c.pooled_conv(ch, squeeze_channels(ch, cfg));
  for (int i = 0; i < inputs; ++i) c.pooled_conv(squeeze_channels(ch, cfg), ch);
}

void mrb(Cost& c, const ModelConfig& cfg) {
  const int S = cfg.streams, C = cfg.channels;
  for (int i = 0; i + 1 < S; ++i) down_sample(c, C << i, stream_area(i));
  for (int i = 0; i < S; ++i) dual_attention(c, C << i, cfg, stream_area(i));
  for (int i = 0; i < S; ++i) {
    if (cfg.keras_last_skff && S > 2 && i == 1) continue;
    for (int j = 0; j < S; ++j)
      if (j != i) resample(c, C, j, i);
    skff(c, C << i, S, cfg);
    dual_attention(c, C << i, cfg, stream_area(i));
    resample(c, C, i, 0);
  }
  skff(c, C, S, cfg);
  c.conv(3, C, C, 1.0);
}

Cost model_cost(const ModelConfig& cfg) {
  validate(cfg);
  Cost c;
  c.conv(3, 3, cfg.channels, 1.0);
  for (int g = 0; g < cfg.rrgs; ++g) {
    c.conv(3, cfg.channels, cfg.channels, 1.0);
    for (int b = 0; b < cfg.mrbs; ++b) mrb(c, cfg);
    c.conv(3, cfg.channels, cfg.channels, 1.0);
  }
  c.conv(3, cfg.channels, 3, 1.0);
  if (cfg.global > 0) {
    // On a fixed thumbnail: parameters, and no work that grows with the image (area 0).
    const int G = cfg.global;
    c.conv(3, 3, G, 0.0);
    c.conv(3, G, 2 * G, 0.0);
    c.conv(3, 2 * G, 2 * G, 0.0);
    c.pooled_conv(2 * G, 2 * G);
    c.pooled_conv(2 * G, kGlobalOutputs);
  }
  return c;
}

void check_range(const char* field, int value, int lo, int hi) {
  if (value < lo || value > hi)
    throw Error(std::string("model config: ") + field + " must be in [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "], found " + std::to_string(value));
}

}  // namespace

ModelConfig default_model_config() { return ModelConfig{}; }

void validate(const ModelConfig& config) {
  check_range("channels", config.channels, 1, 1024);
  check_range("rrgs", config.rrgs, 1, 64);
  check_range("mrbs", config.mrbs, 1, 64);
  check_range("streams", config.streams, 2, 4);
  check_range("sa_kernel", config.sa_kernel, 1, 15);
  if (config.sa_kernel % 2 == 0)
    throw Error("model config: sa_kernel must be odd, found " + std::to_string(config.sa_kernel));
  check_range("reduction", config.reduction, 1, 1024);
  check_range("global", config.global, 0, 256);
}

std::string to_json(const ModelConfig& config) {
  json j = {{"channels", config.channels},
            {"rrgs", config.rrgs},
            {"mrbs", config.mrbs},
            {"streams", config.streams},
            {"sa_kernel", config.sa_kernel},
            {"reduction", config.reduction},
            {"keras_last_skff", config.keras_last_skff},
            {"keras_softmax_channels", config.keras_softmax_channels}};
  // Written only when present, so the configs (and weight files) of networks without it stay as they were.
  if (config.global > 0) j["global"] = config.global;
  return j.dump();
}

ModelConfig model_config_from_json(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) throw Error("model config: not a JSON object: " + text.substr(0, 80));
  ModelConfig config = default_model_config();
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    auto integer = [&](int& field) {
      if (!v.is_number_integer()) throw Error("model config: " + key + " must be an integer, found " + v.dump());
      const int64_t value = v.get<int64_t>();
      field = int(std::clamp<int64_t>(value, -1, 1 << 20));
    };
    auto boolean = [&](bool& field) {
      if (!v.is_boolean()) throw Error("model config: " + key + " must be true or false, found " + v.dump());
      field = v.get<bool>();
    };
    if (key == "channels") integer(config.channels);
    else if (key == "rrgs") integer(config.rrgs);
    else if (key == "mrbs") integer(config.mrbs);
    else if (key == "streams") integer(config.streams);
    else if (key == "sa_kernel") integer(config.sa_kernel);
    else if (key == "reduction") integer(config.reduction);
    else if (key == "keras_last_skff") boolean(config.keras_last_skff);
    else if (key == "keras_softmax_channels") boolean(config.keras_softmax_channels);
    else if (key == "global") integer(config.global);
    else throw Error("model config: unknown key \"" + key + "\"");
  }
  validate(config);
  return config;
}

int64_t parameter_count(const ModelConfig& config) { return model_cost(config).params; }

double macs_per_megapixel(const ModelConfig& config) { return model_cost(config).macs * 1e6; }

int squeeze_channels(int channels, const ModelConfig& config) { return std::max(1, channels / config.reduction); }

int size_multiple(const ModelConfig& config) { return 1 << (config.streams - 1); }

bool operator==(const ModelConfig& a, const ModelConfig& b) {
  return a.channels == b.channels && a.rrgs == b.rrgs && a.mrbs == b.mrbs && a.streams == b.streams &&
         a.sa_kernel == b.sa_kernel && a.reduction == b.reduction && a.keras_last_skff == b.keras_last_skff &&
         a.keras_softmax_channels == b.keras_softmax_channels && a.global == b.global;
}

}  // namespace lowlight
