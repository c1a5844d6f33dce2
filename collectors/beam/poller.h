// The BEAM collector's poll loop: connects, makes sure the probe of this build is loaded on the
// node (loading it when it is missing or of another version), keeps the scheduler_wall_time
// holder running, asks for the cheap reads every interval and for each scan when its budget
// credit allows (scan_budget.h), rotates the memory scan's slice, serves each scan's latest
// values until it runs again, and backs off between reconnects. Without the probe
// (load_probe: false) it calls plain BIFs instead.
//
// Everything outside is injected, so the unit tests drive it with literal replies and a manual
// clock: the node (NodeLink), the time and the waits (PollerClock), and where results go
// (PollerSink). Pure: no sockets, no threads. Threading: one thread (BeamCollector's poll
// thread) owns a Poller and calls everything on it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>

#include "collectors/beam/backoff.h"
#include "collectors/beam/beam_config.h"
#include "collectors/beam/convert.h"
#include "collectors/beam/node_link.h"
#include "collectors/beam/node_sample.h"
#include "collectors/beam/probe_args.h"
#include "collectors/beam/scan_budget.h"

namespace beam_exporter::beam {

// One successful collection.
struct Collection {
  NodeSample sample;  // what was read: each scan's latest values, with their time (scan_timestamps)
  std::vector<prometheus::MetricFamily> families;  // the sample as metrics (convert.h)
  std::chrono::steady_clock::time_point taken;
  double unix_time = 0;
  double duration_seconds = 0;  // all RPCs, decoding and conversion
  size_t reply_bytes = 0;       // of every reply in this collection
};

// Where the poller's results go (BeamCollector serves them to scrapes).
class PollerSink {
 public:
  virtual ~PollerSink() = default;
  virtual void PublishSuccess(Collection collection) = 0;
  // Called for every failed connect, collection or idle; the data served is stale from now on.
  virtual void PublishFailure(FailureReason reason) = 0;
};

// The poller's time, and its wait between reconnect attempts.
class PollerClock {
 public:
  virtual ~PollerClock() = default;
  virtual std::chrono::steady_clock::time_point Now() = 0;
  // The Unix time scans and collections are stamped with.
  virtual double UnixSeconds() = 0;
  // Waits `delay` before the next connection attempt, or less when the collector stops.
  virtual void WaitForRetry(std::chrono::milliseconds delay) = 0;
};

class Poller {
 public:
  // The arguments must outlive the poller. `stop` ends Run() (and shortens the idle waits).
  Poller(const BeamConfig& config, NodeLink* link, PollerClock* clock, PollerSink* sink, const std::atomic<bool>* stop);

  // Polls until *stop, then stops the holder and closes the connection.
  void Run();

  // One turn of the loop: connects when not connected (a failure waits out the backoff), runs
  // one collection, and idles for the rest of the interval when the connection is still up.
  void Step();

  // Stops the scheduler_wall_time holder (so the flag goes off on the node) and closes the
  // connection.
  void Disconnect();

 private:
  void OnConnected();
  // Publishes the failure and logs it when the reason differs from the last one.
  void Failed(const NodeStatus& status);
  // Calls `module:function(args)` and adds the reply's size to this collection's bytes.
  RpcResult Call(const char* module, const char* function, const RpcArgs& args, std::chrono::milliseconds timeout);
  NodeStatus CollectOnce();
  NodeStatus CollectWithBifs(NodeSample* sample);
  NodeStatus EnsureProbe();
  NodeStatus EnsureHolder();
  NodeStatus CollectWithProbe(NodeSample* sample);
  NodeStatus CollectGroups(NodeSample* sample);
  std::chrono::microseconds Since(std::chrono::steady_clock::time_point start);
  // Charges a scan that ran to the budget and stamps its values with when and what it cost.
  void Charge(Scan scan, std::chrono::microseconds cost, int64_t covered, NodeSample* sample);
  // Keeps the values of the scans that ran in `sample` and gives it the latest values (with
  // their time) of those that did not, so every scrape serves each scan's latest result.
  void ServeLatestScans(NodeSample* sample);

  const BeamConfig& config_;
  NodeLink* link_;
  PollerClock* clock_;
  PollerSink* sink_;
  const std::atomic<bool>* stop_;
  Backoff backoff_;
  ConvertOptions convert_options_;
  FailureReason last_reason_ = FailureReason::kNone;
  bool probe_ready_ = false;
  std::string holder_pid_;  // ETF encoding of the holder's pid; empty: none running
  std::vector<SchedulerTime> previous_swt_;
  ScanBudget budget_;
  NodeSample latest_scans_;  // each scan's latest values and times (only the scan parts are used)
  NodeSize size_;            // from the last cheap reads
  bool size_known_ = false;
  std::chrono::microseconds cheap_reads_{0};  // the last cheap reads' node time
  uint64_t memory_scans_ = 0;
  std::vector<std::string> memory_row_pids_;  // re-read by the next memory scan
  size_t reply_bytes_ = 0;
};

}  // namespace beam_exporter::beam
