// Writes one /metrics response: every active collector's families, each collector's
// success and duration, the exporter's own metrics and the process_* metrics.
//
// Thread-safety: Scrape() runs on HTTP worker threads, concurrently; SetCollectors() runs on
// the main thread (start-up, reload). A scrape keeps the collector set it started with alive
// (shared_ptr), so a reload never pulls a collector from under a running scrape.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "exporter/app_config.h"
#include "exporter/exposition_writer.h"
#include "exporter/mutex.h"

namespace beam_exporter {

using CollectorSet = std::vector<ConfiguredCollector>;

struct BuildInfo {
  std::string version;
  std::string revision;
  std::string compiler;
};

class Scraper {
 public:
  explicit Scraper(const BuildInfo& build);

  void SetCollectors(std::shared_ptr<const CollectorSet> collectors) EXCLUDES(mu_);
  std::shared_ptr<const CollectorSet> collectors() const EXCLUDES(mu_);

  // Writes the whole response into *out (without finishing it); `deadline` is passed on to
  // every collector.
  void Stream(Collector::Clock::time_point deadline, ExpositionWriter* out) const;
  // Stream() into one string.
  std::string Scrape(Collector::Clock::time_point deadline) const;

  // The exporter's own registry (build info, reload status, scrape durations).
  prometheus::Registry& registry() { return *registry_; }
  void RecordReload(bool success);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Histogram* scrape_duration_;
  prometheus::Gauge* reload_successful_;
  prometheus::Gauge* reload_success_time_;
  prometheus::Counter* reloads_ok_;
  prometheus::Counter* reloads_failed_;
  mutable Mutex mu_;
  std::shared_ptr<const CollectorSet> collectors_ GUARDED_BY(mu_);
};

}  // namespace beam_exporter
