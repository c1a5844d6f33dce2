// Typed, checked access to one YAML mapping of the configuration.
//
// Every getter records the key as known; CheckNoUnknownKeys() then rejects any key the
// collector did not ask for, so a typo never silently falls back to a default. Errors throw
// ConfigError (start-up and reload only) with a message naming the file, the key path and
// the line, or the command-line flag when the value came from one.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace beam_exporter {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where values came from: the file name, and the flags that overrode keys ("a.b.c" -> "--x").
struct ConfigSource {
  std::string file;
  std::map<std::string, std::string> flag_for_path;
};

class ConfigMap {
 public:
  // `node` must be a mapping or null (an absent section reads as empty).
  ConfigMap(YAML::Node node, std::shared_ptr<const ConfigSource> source, std::string path);

  bool Has(const std::string& key) const;
  std::string GetString(const std::string& key, const std::string& def);
  bool GetBool(const std::string& key, bool def);
  int64_t GetInt(const std::string& key, int64_t def, int64_t min, int64_t max);
  double GetDouble(const std::string& key, double def, double min, double max);
  // Durations in Prometheus style: "500ms", "5s", "1m", "2h".
  std::chrono::milliseconds GetDuration(const std::string& key, std::chrono::milliseconds def);
  std::vector<std::string> GetStringList(const std::string& key, const std::vector<std::string>& def);
  std::vector<double> GetDoubleList(const std::string& key, const std::vector<double>& def);
  // A nested mapping (empty when absent).
  ConfigMap GetMap(const std::string& key);
  // A list of mappings (empty when absent).
  std::vector<ConfigMap> GetMapList(const std::string& key);

  void CheckNoUnknownKeys() const;

  // Throws a ConfigError about `key` of this map with `what` as the reason.
  [[noreturn]] void Fail(const std::string& key, const std::string& what) const;

  const std::string& path() const { return path_; }
  const YAML::Node& node() const { return node_; }
  const std::string& source_file() const { return source_->file; }  // "" without a file

 private:
  std::string KeyPath(const std::string& key) const;
  std::string Where(const YAML::Node& at, const std::string& key_path) const;
  YAML::Node Lookup(const std::string& key);

  YAML::Node node_;
  std::shared_ptr<const ConfigSource> source_;
  std::string path_;
  std::set<std::string> known_;
};

// Parses "500ms", "5s", "1m", "2h", "1h30m". Returns false on anything else.
bool ParseDuration(const std::string& text, std::chrono::milliseconds* out);

}  // namespace beam_exporter
