// The one interface every collector implements, and how a collector makes itself known.
//
// Life cycle (all on the main thread): create -> Configure -> Start -> ... -> Stop -> destroy.
// A reload builds and configures a new instance first, so a bad config never touches the
// running one. Collect() is called from HTTP worker threads, possibly concurrently, and must
// be thread-safe and must not wait on I/O: a collector that talks to something slow polls it
// on its own thread and serves the last snapshot here.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>

#include "exporter/config_map.h"
#include "exporter/exposition_writer.h"
#include "exporter/status.h"

namespace beam_exporter {

class Collector {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~Collector() = default;

  // Reads this collector's YAML section (flags already merged in). Throws ConfigError.
  // Must have no side effects beyond this object: it also runs for --config.check.
  virtual void Configure(ConfigMap& section) = 0;
  // Starts background work (threads, sockets). Throws std::exception when it cannot.
  virtual void Start() {}
  // Stops background work; returns promptly (the daemon must exit within a second).
  virtual void Stop() {}
  // Appends this collector's families to *out. A non-OK status makes the scrape report
  // beam_exporter_collector_success{collector=...} 0; whatever was appended is still served.
  virtual Status Collect(Clock::time_point deadline, std::vector<prometheus::MetricFamily>* out) = 0;
  // Writes this collector's families into the response (the scrape path). The default writes
  // what Collect() appends; a collector with many series overrides it to write straight from
  // its store, so a scrape's memory does not grow with the series count. Same status contract.
  virtual Status Stream(Clock::time_point deadline, ExpositionWriter* out) {
    std::vector<prometheus::MetricFamily> families;
    Status status = Collect(deadline, &families);
    out->Write(families);
    return status;
  }
};

// A flag that sets one key of the collector's YAML section, e.g. --beam.node -> beam.node.
struct CollectorFlag {
  std::string flag;  // without the leading "--"
  std::string key;   // key within the collector's section
  std::string help;
};

struct CollectorDescriptor {
  std::string name;  // also the YAML section under `collectors:` and the --collector.<name> flag
  std::string help;
  bool enabled_by_default = true;
  std::vector<CollectorFlag> flags;
  std::function<std::unique_ptr<Collector>()> create;
};

// Every collector compiled into the binary (collectors/builtin_collectors.cc).
const std::vector<CollectorDescriptor>& BuiltinCollectors();

}  // namespace beam_exporter
