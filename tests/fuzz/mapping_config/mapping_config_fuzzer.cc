// Feeds arbitrary text as a mapping file (`mappings:` list) to the rule loader; rules that
// load are then applied to a few sample names. A bad file must end in ConfigError (or a YAML
// parse error), never a crash. Inputs nested deeper than 100 levels are skipped: yaml-cpp
// parses recursively, and config files are operator-written, not network input.
#include <cstddef>
#include <cstdint>
#include <string>

#include <yaml-cpp/yaml.h>

#include "collectors/telemetry/mapper.h"

namespace {

bool TooDeep(const std::string& text) {
  int depth = 0;
  for (char c : text) {
    if (c == '[' || c == '{') ++depth;
    if (depth > 100) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace beam_exporter;
  using namespace beam_exporter::telemetry;
  std::string text(reinterpret_cast<const char*>(data), size);
  if (TooDeep(text)) return 0;
  MappingRules rules;
  try {
    auto source = std::make_shared<ConfigSource>();
    source->file = "fuzz.yml";
    ConfigMap root(YAML::Load(text), source, "");
    rules.AddRules(root.GetMapList("mappings"));
    root.CheckNoUnknownKeys();
  } catch (const ConfigError&) {
    return 0;
  } catch (const YAML::Exception&) {
    return 0;
  }
  Mapper mapper(rules);
  Tag tags[] = {{"method", "GET"}, {"route", "/a/:id"}, {"status", "200"}};
  MappedSample out;
  for (const char* name : {"phoenix.router_dispatch.stop.duration", "a.b.c", "x", "", "a..b", "my_app.repo.query.total_time"}) {
    for (SampleKind kind : {SampleKind::kCounter, SampleKind::kGauge, SampleKind::kObserver}) {
      Sample s;
      s.name = name;
      s.kind = kind;
      s.value = 1;
      s.tags = tags;
      mapper.Map(s, &out);
    }
  }
  return 0;
}
