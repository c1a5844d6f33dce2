#include "exporter/flags.h"

#include <sstream>

#include "exporter/web_defaults.h"

namespace beam_exporter {
namespace {

struct CoreFlag {
  std::string name;
  std::string yaml_path;
  std::string help;
};

// Flags that map to a key of the YAML file.
const CoreFlag kCoreFlags[] = {
    {"web.listen-address", "web.listen_address",
     std::string("Address to listen on for the web interface and telemetry (default \"") + kDefaultListenAddress + "\")."},
    {"web.telemetry-path", "web.telemetry_path",
     std::string("Path under which to expose metrics (default \"") + kDefaultTelemetryPath + "\")."},
    {"web.config.file", "web.config_file", "Path to a web configuration file (exporter-toolkit format) enabling TLS and/or basic auth."},
    {"log.level", "log.level", "Only log messages with the given severity or above: debug, info, warn, error (default \"info\")."},
    {"log.format", "log.format", "Output format of log messages: logfmt, json (default \"logfmt\")."},
};

}  // namespace

ParsedFlags ParseFlags(const std::vector<std::string>& args, const std::vector<CollectorDescriptor>& collectors) {
  ParsedFlags out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) throw FlagError("unexpected argument '" + arg + "'");
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    auto take_value = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= args.size()) throw FlagError("flag --" + name + " needs a value");
      return args[++i];
    };
    auto no_value = [&] {
      if (has_value) throw FlagError("flag --" + name + " takes no value");
    };
    if (name == "help" || name == "h") {
      out.help = true;
      continue;
    }
    if (name == "version") {
      out.version = true;
      continue;
    }
    if (name == "config.check") {
      no_value();
      out.config_check = true;
      continue;
    }
    if (name == "config.file") {
      out.config_file = take_value();
      continue;
    }
    bool matched = false;
    for (const auto& f : kCoreFlags) {
      if (name == f.name) {
        out.overrides.push_back({f.yaml_path, take_value(), "--" + name});
        matched = true;
        break;
      }
    }
    for (const auto& c : collectors) {
      if (matched) break;
      if (name == "collector." + c.name || name == "no-collector." + c.name) {
        no_value();
        out.overrides.push_back({"collectors." + c.name + ".enabled", name[0] == 'n' ? "false" : "true", "--" + name});
        matched = true;
        break;
      }
      for (const auto& f : c.flags) {
        if (name == f.flag) {
          out.overrides.push_back({"collectors." + c.name + "." + f.key, take_value(), "--" + name});
          matched = true;
          break;
        }
      }
    }
    if (!matched) throw FlagError("unknown flag --" + name + " (see --help)");
  }
  return out;
}

std::string Usage(const std::vector<CollectorDescriptor>& collectors) {
  std::ostringstream out;
  out << "usage: beam_exporter [<flags>]\n\n"
         "A Prometheus exporter for Erlang/Elixir (BEAM) systems: reads the node from outside as a hidden\n"
         "C node and receives :telemetry events over UDP.\n\nFlags:\n";
  auto line = [&](const std::string& flag, const std::string& help) {
    out << "  " << flag;
    if (flag.size() < 34) out << std::string(34 - flag.size(), ' ');
    else out << "\n" << std::string(36, ' ');
    out << help << "\n";
  };
  line("-h, --help", "Show this help and exit.");
  line("--version", "Show the version and exit.");
  line("--config.file=PATH", "YAML configuration file (see config/beam_exporter.yml). Flags override it.");
  line("--config.check", "Validate the configuration (file and flags) and exit: 0 when valid.");
  for (const auto& f : kCoreFlags) line("--" + f.name + "=VALUE", f.help);
  for (const auto& c : collectors) {
    line("--[no-]collector." + c.name,
         c.help + " (default: " + (c.enabled_by_default ? "enabled" : "disabled") + ").");
    for (const auto& f : c.flags) line("--" + f.flag + "=VALUE", f.help);
  }
  out << "\nSignals: SIGHUP reloads the configuration (so does POST /-/reload); SIGTERM/SIGINT stop.\n";
  return out.str();
}

}  // namespace beam_exporter
