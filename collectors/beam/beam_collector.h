// The BEAM collector: reads a running Erlang/Elixir node over erl_interface.
//
// A poll thread owns the node connection (NodeConnection) and runs the Poller (poller.h) on it:
// every `interval` one collection (the probe's collect/1, or plain BIF calls with load_probe:
// false), converted into metric families and published here as an immutable snapshot; between
// collections it keeps reading the connection so net ticks are answered. Collect() never talks
// to the node: it copies the last snapshot, and reports beam_up 0 without node values when that
// snapshot is stale or the last collection failed.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/metric_family.h>

#include "collectors/beam/beam_config.h"
#include "collectors/beam/poller.h"
#include "exporter/collector.h"
#include "exporter/mutex.h"

namespace beam_exporter::beam {

CollectorDescriptor Descriptor();

// The poll thread publishes through the PollerSink side; scrapes read through the Collector side.
class BeamCollector : public Collector, private PollerSink {
 public:
  BeamCollector() = default;
  ~BeamCollector() override;

  void Configure(ConfigMap& section) override;
  void Start() override;
  void Stop() override;
  Status Collect(Clock::time_point deadline, std::vector<prometheus::MetricFamily>* out) override;
  // Writes the snapshot's families straight from the snapshot, without copying them.
  Status Stream(Clock::time_point deadline, ExpositionWriter* out) override;

  const BeamConfig& config() const { return config_; }

 private:
  // One successful collection, ready to serve.
  struct Snapshot {
    std::vector<prometheus::MetricFamily> families;
    Clock::time_point taken;
  };
  class WakeableClock;

  void PublishSuccess(Collection collection) override EXCLUDES(mu_);
  void PublishFailure(FailureReason reason) override EXCLUDES(mu_);
  // Hands the collector's state families, then (when fresh) the snapshot's, to `emit`.
  Status Serve(const std::function<void(const std::vector<prometheus::MetricFamily>&)>& emit) EXCLUDES(mu_);

  BeamConfig config_;   // set by Configure, read-only afterwards
  std::string cookie_;  // never logged
  std::atomic<bool> stop_{false};
  std::thread thread_;
  // Lets Stop() interrupt the poll thread's backoff waits.
  Mutex wake_mu_;
  std::condition_variable_any wake_;

  Mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_ GUARDED_BY(mu_);
  bool last_poll_ok_ GUARDED_BY(mu_) = false;
  std::map<std::string, uint64_t> connect_errors_ GUARDED_BY(mu_);
  double last_success_unix_ GUARDED_BY(mu_) = 0;
  double last_duration_seconds_ GUARDED_BY(mu_) = 0;
  double last_reply_bytes_ GUARDED_BY(mu_) = 0;
};

}  // namespace beam_exporter::beam
