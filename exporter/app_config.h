// The whole configuration: the YAML file with the command-line flags merged over it, decoded
// into settings and configured (not yet started) collectors. Loading throws ConfigError;
// nothing is started, so a failed load (at start or on reload) leaves no trace.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "exporter/collector.h"
#include "exporter/flags.h"
#include "exporter/logging.h"

namespace beam_exporter {

struct WebSettings {
  std::string listen_address;
  std::string telemetry_path;
  std::string config_file;  // exporter-toolkit web config (TLS, basic auth); empty: none
};

struct ConfiguredCollector {
  std::string name;
  std::unique_ptr<Collector> collector;
};

struct AppConfig {
  WebSettings web;
  log::Level log_level = log::Level::kInfo;
  log::Format log_format = log::Format::kLogfmt;
  // The enabled collectors, configured, in descriptor order.
  std::vector<ConfiguredCollector> collectors;
};

// The YAML file with the flags merged over it, and where each value came from. Throws ConfigError.
struct MergedYaml {
  YAML::Node root;
  std::shared_ptr<const ConfigSource> source;
};
MergedYaml ReadMergedYaml(const ParsedFlags& flags);

// Decodes settings and configures every collector. Does not modify `yaml`.
std::unique_ptr<AppConfig> DecodeAppConfig(const MergedYaml& yaml, const std::vector<CollectorDescriptor>& descriptors);

}  // namespace beam_exporter
