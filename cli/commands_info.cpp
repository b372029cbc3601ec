// `lowlight info W`: what a weight file holds, without building the model.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "lowlight/config.h"
#include "lowlight/models.h"
#include "lowlight/weights.h"

namespace lowlight::cli {

CLI::App* add_info_command(CLI::App& app, InfoOptions& o) {
  CLI::App* cmd = app.add_subcommand("info", "Describe a weight file: config, parameters, cost, metadata");
  cmd->add_option("weights", o.weights, "Weight file, or a model name on the model path")->required();
  cmd->add_flag("--json", o.json, "Print JSON");
  return cmd;
}

int run_info(const InfoOptions& o) {
  std::error_code ec;
  const std::string path = std::filesystem::exists(o.weights, ec) ? o.weights : find_model(o.weights);
  const WeightsInfo info = read_weights_info(path);
  load_weights(path);  // the tensors too (shapes, finite values): a file info describes is one that loads
  const ModelConfig& c = info.config;
  const int64_t formula = parameter_count(c);
  const double gmacs = macs_per_megapixel(c) / 1e9;
  const char* dtype = info.dtype == DType::F16 ? "F16" : "F32";
  if (o.json) {
    nlohmann::json doc = {{"path", path},
                          {"config", nlohmann::json::parse(to_json(c))},
                          {"dtype", dtype},
                          {"parameters_in_file", info.parameters},
                          {"parameters_from_config", formula},
                          {"macs_per_megapixel", macs_per_megapixel(c)},
                          {"metadata", info.metadata}};
    std::cout << doc.dump(2) << "\n";
    return 0;
  }
  std::printf("file: %s\n", path.c_str());
  std::printf("config: %s\n", to_json(c).c_str());
  std::printf("  C=%d, %d RRG x %d MRB, %d streams, spatial-attention kernel %d, reduction %d%s\n", c.channels,
              c.rrgs, c.mrbs, c.streams, c.sa_kernel, c.reduction,
              c.keras_last_skff || c.keras_softmax_channels ? ", Keras quirks on" : "");
  if (c.global > 0)
    std::printf("  global exposure and colour branch: width %d, on a 32x32 thumbnail of the whole image (one gain, "
                "gamma and colour matrix per image, keys global.*)\n", c.global);
  std::printf("dtype: %s\n", dtype);
  std::printf("parameters: %lld in the file, %lld from the config's formula%s\n",
              static_cast<long long>(info.parameters), static_cast<long long>(formula),
              info.parameters == formula ? "" : " (MISMATCH)");
  std::printf("MACs per megapixel: %.1f G (convolutions only)\n", gmacs);
  std::printf("metadata:\n");
  for (const auto& [key, value] : info.metadata) std::printf("  %s: %s\n", key.c_str(), value.c_str());
  return 0;
}

}  // namespace lowlight::cli
