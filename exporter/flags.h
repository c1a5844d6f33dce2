// The command line, in the style of Prometheus exporters: --name=value or --name value,
// --collector.<name> / --no-collector.<name>. Every flag but --config.file/--config.check/
// --help/--version sets a key of the YAML configuration, so flags override the file.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "exporter/collector.h"

namespace beam_exporter {

class FlagError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FlagOverride {
  std::string yaml_path;  // e.g. "web.listen_address" or "collectors.beam.node"
  std::string value;
  std::string flag;       // as typed, for error messages: "--beam.node"
};

struct ParsedFlags {
  std::string config_file;
  bool config_check = false;
  bool help = false;
  bool version = false;
  std::vector<FlagOverride> overrides;
};

// Throws FlagError on an unknown flag or a missing value.
ParsedFlags ParseFlags(const std::vector<std::string>& args, const std::vector<CollectorDescriptor>& collectors);

std::string Usage(const std::vector<CollectorDescriptor>& collectors);

}  // namespace beam_exporter
