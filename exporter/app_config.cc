#include "exporter/app_config.h"

#include <sstream>

#include "exporter/web_defaults.h"

namespace beam_exporter {
namespace {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream in(path);
  std::string part;
  while (std::getline(in, part, '.')) parts.push_back(part);
  return parts;
}

void SetPath(YAML::Node node, const std::vector<std::string>& parts, size_t i, const std::string& value) {
  if (i + 1 == parts.size()) {
    node[parts[i]] = value;
    return;
  }
  if (!node[parts[i]] || !node[parts[i]].IsMap()) node[parts[i]] = YAML::Node(YAML::NodeType::Map);
  SetPath(node[parts[i]], parts, i + 1, value);
}

YAML::Node LoadYaml(const std::string& file) {
  if (file.empty()) return YAML::Node(YAML::NodeType::Map);
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::BadFile&) {
    throw ConfigError(file + ": cannot read the configuration file");
  } catch (const YAML::ParserException& e) {
    throw ConfigError(file + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                      ": invalid YAML: " + e.msg);
  }
  if (root.IsNull()) return YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw ConfigError(file + ": the configuration must be a YAML mapping");
  return root;
}

}  // namespace

MergedYaml ReadMergedYaml(const ParsedFlags& flags) {
  auto source = std::make_shared<ConfigSource>();
  source->file = flags.config_file;
  YAML::Node root = LoadYaml(flags.config_file);
  for (const auto& o : flags.overrides) {
    SetPath(root, SplitPath(o.yaml_path), 0, o.value);
    source->flag_for_path[o.yaml_path] = o.flag;
  }
  return {root, source};
}

std::unique_ptr<AppConfig> DecodeAppConfig(const MergedYaml& yaml, const std::vector<CollectorDescriptor>& descriptors) {
  auto config = std::make_unique<AppConfig>();
  ConfigMap top(yaml.root, yaml.source, "");

  ConfigMap web = top.GetMap("web");
  config->web.listen_address = web.GetString("listen_address", kDefaultListenAddress);
  config->web.telemetry_path = web.GetString("telemetry_path", kDefaultTelemetryPath);
  config->web.config_file = web.GetString("config_file", "");
  if (config->web.telemetry_path.empty() || config->web.telemetry_path[0] != '/') {
    web.Fail("telemetry_path", "must start with '/'");
  }
  web.CheckNoUnknownKeys();

  ConfigMap logging = top.GetMap("log");
  std::string level = logging.GetString("level", "info");
  if (!log::ParseLevel(level, &config->log_level)) logging.Fail("level", "expected debug, info, warn or error, got '" + level + "'");
  std::string format = logging.GetString("format", "logfmt");
  if (!log::ParseFormat(format, &config->log_format)) logging.Fail("format", "expected logfmt or json, got '" + format + "'");
  logging.CheckNoUnknownKeys();

  ConfigMap collectors = top.GetMap("collectors");
  for (const auto& d : descriptors) {
    ConfigMap section = collectors.GetMap(d.name);
    bool enabled = section.GetBool("enabled", d.enabled_by_default);
    // Disabled collectors are configured too, so a typo in their section is still reported.
    std::unique_ptr<Collector> collector = d.create();
    collector->Configure(section);
    if (enabled) config->collectors.push_back({d.name, std::move(collector)});
  }
  collectors.CheckNoUnknownKeys();
  top.CheckNoUnknownKeys();
  return config;
}

}  // namespace beam_exporter
