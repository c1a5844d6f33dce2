// Quantiles over a sliding time window, for summary series: the statsd_exporter (and Go
// client) scheme of `age_buckets` targeted-quantile estimators, each reset in turn every
// max_age / age_buckets. Every observation goes into all of them; reads come from the oldest,
// which has seen everything since its last reset: between max_age - max_age/age_buckets and
// max_age of history. prometheus-cpp has the same scheme (TimeWindowQuantiles) but reads
// steady_clock itself; here time is a parameter, so tests drive rotation with a fake clock.
//
// Memory: each estimator holds a 500-value insert buffer plus a compressed sample (about 70
// tuples with the default objectives, whatever the count): 27-31 KB per window with 5 age
// buckets (tests/unit/telemetry/summary_memory_test.cc). Cost: every observation is inserted
// into each age bucket's estimator, merged 500 at a time (docs/benchmarks.md).
//
// Not thread-safe: the aggregator guards each window with its own mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "collectors/telemetry/targeted_quantiles.h"

namespace beam_exporter::telemetry {

class SummaryWindow {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Objectives = std::vector<TargetedQuantiles::Objective>;

  // At most this many copies of a sampled observation (StatsD @rate) enter the estimators,
  // so a tiny rate cannot make one line cost millions of inserts. `_count`/`_sum` still
  // count every copy.
  static constexpr uint32_t kMaxRepeat = 100;

  // `objectives` must outlive the window (the estimators keep a reference to it).
  SummaryWindow(const Objectives& objectives, std::chrono::milliseconds max_age, int age_buckets, TimePoint now);
  SummaryWindow(const SummaryWindow&) = delete;
  SummaryWindow& operator=(const SummaryWindow&) = delete;

  void Observe(double value, uint32_t repeat, TimePoint now);
  // The q-quantile of the window at `now`, within the objective's error; NaN when the window
  // holds no observation.
  double Quantile(double q, TimePoint now);

 private:
  void Rotate(TimePoint now);

  std::vector<TargetedQuantiles> estimators_;
  size_t head_ = 0;  // the estimator that is read: the oldest
  std::chrono::nanoseconds interval_;
  TimePoint head_reset_at_;  // when the head is reset next
};

}  // namespace beam_exporter::telemetry
