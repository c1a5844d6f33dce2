#include "exporter/config_map.h"

#include <cctype>
#include <cmath>
#include <sstream>

namespace beam_exporter {
namespace {
// Missing and explicitly null (`key:` or `key: ~`) both mean "use the default".
bool Absent(const YAML::Node& v) { return !v.IsDefined() || v.IsNull(); }
}  // namespace

ConfigMap::ConfigMap(YAML::Node node, std::shared_ptr<const ConfigSource> source, std::string path)
    : node_(std::move(node)), source_(std::move(source)), path_(std::move(path)) {
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) {
    throw ConfigError(Where(node_, path_) + ": " + (path_.empty() ? "document" : "key " + path_) +
                      ": expected a mapping");
  }
}

std::string ConfigMap::KeyPath(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

std::string ConfigMap::Where(const YAML::Node& at, const std::string& key_path) const {
  auto flag = source_->flag_for_path.find(key_path);
  if (flag != source_->flag_for_path.end()) return "flag " + flag->second;
  std::ostringstream out;
  out << (source_->file.empty() ? "<defaults>" : source_->file);
  if (at.IsDefined() && at.Mark().line >= 0) out << ":" << at.Mark().line + 1 << ":" << at.Mark().column + 1;
  return out.str();
}

void ConfigMap::Fail(const std::string& key, const std::string& what) const {
  YAML::Node at = node_;
  for (const auto& kv : node_.IsMap() ? node_ : YAML::Node()) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) at.reset(kv.second);  // reset: operator= would overwrite node_ itself
  }
  throw ConfigError(Where(at, KeyPath(key)) + ": key " + KeyPath(key) + ": " + what);
}

bool ConfigMap::Has(const std::string& key) const {
  for (const auto& kv : node_.IsMap() ? node_ : YAML::Node()) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return !Absent(kv.second);
  }
  return false;
}

YAML::Node ConfigMap::Lookup(const std::string& key) {
  known_.insert(key);
  if (!node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  // Search instead of operator[]: a lookup must never insert the key into the shared tree.
  for (const auto& kv : node_) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

std::string ConfigMap::GetString(const std::string& key, const std::string& def) {
  YAML::Node v = Lookup(key);
  if (Absent(v)) return def;
  if (!v.IsScalar()) Fail(key, "expected a string");
  return v.Scalar();
}

bool ConfigMap::GetBool(const std::string& key, bool def) {
  YAML::Node v = Lookup(key);
  if (Absent(v)) return def;
  bool out = false;
  if (!v.IsScalar() || !YAML::convert<bool>::decode(v, out)) Fail(key, "expected true or false, got '" + v.Scalar() + "'");
  return out;
}

int64_t ConfigMap::GetInt(const std::string& key, int64_t def, int64_t min, int64_t max) {
  YAML::Node v = Lookup(key);
  if (Absent(v)) return def;
  if (!v.IsScalar()) Fail(key, "expected an integer");
  const std::string& s = v.Scalar();
  size_t used = 0;
  int64_t out = 0;
  try {
    out = std::stoll(s, &used, 10);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s.size()) Fail(key, "expected an integer, got '" + s + "'");
  if (out < min || out > max) {
    Fail(key, "value " + s + " out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return out;
}

double ConfigMap::GetDouble(const std::string& key, double def, double min, double max) {
  YAML::Node v = Lookup(key);
  if (Absent(v)) return def;
  if (!v.IsScalar()) Fail(key, "expected a number");
  const std::string& s = v.Scalar();
  size_t used = 0;
  double out = 0;
  try {
    out = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s.size() || !std::isfinite(out)) Fail(key, "expected a number, got '" + s + "'");
  if (out < min || out > max) Fail(key, "value " + s + " out of range");
  return out;
}

bool ParseDuration(const std::string& text, std::chrono::milliseconds* out) {
  if (text.empty()) return false;
  int64_t total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
    int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      n = n * 10 + (text[i] - '0');
      if (n > 1'000'000'000) return false;
      ++i;
    }
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(unit_start, i - unit_start);
    int64_t scale = 0;
    if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m") scale = 60'000;
    else if (unit == "h") scale = 3'600'000;
    else return false;
    total_ms += n * scale;
  }
  *out = std::chrono::milliseconds(total_ms);
  return true;
}

std::chrono::milliseconds ConfigMap::GetDuration(const std::string& key, std::chrono::milliseconds def) {
  YAML::Node v = Lookup(key);
  if (Absent(v)) return def;
  std::chrono::milliseconds out{};
  if (!v.IsScalar() || !ParseDuration(v.Scalar(), &out)) {
    Fail(key, "expected a duration such as 500ms, 5s or 1m, got '" + (v.IsScalar() ? v.Scalar() : "") + "'");
  }
  return out;
}

std::vector<std::string> ConfigMap::GetStringList(const std::string& key, const std::vector<std::string>& def) {
  YAML::Node v = Lookup(key);
  if (Absent(v)) return def;
  if (!v.IsSequence()) Fail(key, "expected a list of strings");
  std::vector<std::string> out;
  for (const auto& item : v) {
    if (!item.IsScalar()) Fail(key, "expected a list of strings");
    out.push_back(item.Scalar());
  }
  return out;
}

std::vector<double> ConfigMap::GetDoubleList(const std::string& key, const std::vector<double>& def) {
  YAML::Node v = Lookup(key);
  if (Absent(v)) return def;
  if (!v.IsSequence()) Fail(key, "expected a list of numbers");
  std::vector<double> out;
  for (const auto& item : v) {
    double d = 0;
    if (!item.IsScalar() || !YAML::convert<double>::decode(item, d) || !std::isfinite(d)) {
      Fail(key, "expected a list of numbers");
    }
    out.push_back(d);
  }
  return out;
}

ConfigMap ConfigMap::GetMap(const std::string& key) {
  YAML::Node v = Lookup(key);
  if (!Absent(v) && !v.IsMap()) Fail(key, "expected a mapping");
  return ConfigMap(v, source_, KeyPath(key));
}

std::vector<ConfigMap> ConfigMap::GetMapList(const std::string& key) {
  YAML::Node v = Lookup(key);
  std::vector<ConfigMap> out;
  if (Absent(v)) return out;
  if (!v.IsSequence()) Fail(key, "expected a list of mappings");
  for (size_t i = 0; i < v.size(); ++i) {
    YAML::Node item = v[i];
    std::string item_path = KeyPath(key) + "[" + std::to_string(i) + "]";
    if (!item.IsMap()) throw ConfigError(Where(item, item_path) + ": key " + item_path + ": expected a mapping");
    out.emplace_back(item, source_, item_path);
  }
  return out;
}

void ConfigMap::CheckNoUnknownKeys() const {
  if (!node_.IsMap()) return;
  for (const auto& kv : node_) {
    std::string key = kv.first.Scalar();
    if (!known_.count(key)) {
      throw ConfigError(Where(kv.first, KeyPath(key)) + ": unknown key " + KeyPath(key));
    }
  }
}

}  // namespace beam_exporter
