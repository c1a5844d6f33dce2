// Turns a NodeSample (and the collector's own state) into Prometheus metric families.
// Pure: no I/O, no clock (times are passed in). Every series carries label node="<target>".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>

#include "collectors/beam/node_sample.h"

namespace beam_exporter::beam {

enum class MetricNames {
  kCurrent,  // prometheus.erl 6.x (promtool-clean)
  kLegacy,   // prometheus.erl 4.x, for dashboards built on them
};

struct ConvertOptions {
  std::string node;
  MetricNames names = MetricNames::kCurrent;
};

// Utilisation (0..1) per scheduler type over the interval between two samples of
// statistics(scheduler_wall_time_all) sums; types whose total did not advance are left out.
std::map<std::string, double> SchedulerUtilization(const std::vector<SchedulerTime>& previous,
                                                   const std::vector<SchedulerTime>& current);

// The node's values: memory, system info, statistics, and those of the scans whose values are
// known (mailboxes, top processes, process groups, ETS tables) with their age.
std::vector<prometheus::MetricFamily> NodeFamilies(const NodeSample& sample,
                                                   const std::map<std::string, double>& scheduler_utilization,
                                                   const ConvertOptions& options);

// The collector's own view of the node, served whether or not the node answers.
struct CollectorState {
  bool up = false;
  std::map<std::string, uint64_t> connect_errors;  // by reason
  double last_collection_timestamp_seconds = 0;    // unix time of the last successful collection; 0: never
  double collection_duration_seconds = 0;          // of the last successful collection
  double reply_bytes = 0;                          // of the last successful collection
};
std::vector<prometheus::MetricFamily> CollectorStateFamilies(const CollectorState& state, const ConvertOptions& options);

}  // namespace beam_exporter::beam
