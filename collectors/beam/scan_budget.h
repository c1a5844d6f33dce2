// Which of the BEAM collector's scans run in a collection, so that everything the collector does
// on the node averages at most `cpu_budget` of one core at any node size.
//
// Each collection reads the cheap items (memory, counts, statistics: well under a millisecond).
// The scans walk every process or table: mailboxes (~0.3 us per process), the memory ranking,
// ETS (per table), and the process-group pass (~3 us per process, it wakes every process). At
// 1M processes one mailbox scan alone is ~0.3 s of node CPU, so no fixed cadence can keep the
// promise. Instead each scan earns credit every collection from the budget the cheap reads
// left, and runs when its credit covers what it cost last time (per process or table, times
// today's count). The budget is shared out fairly: a scan that needs less than an equal share
// runs every collection and leaves the rest to the others, so at small sizes every scan keeps
// the interval and at large ones the costly scans stretch and the cheap ones do not. Served
// values carry their age (beam_exporter_beam_last_scan_timestamp_seconds{scan}). Pure: the
// caller measures the scans (the probe's on-node timers).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

namespace beam_exporter::beam {

enum class Scan { kMailboxes, kMemory, kEts, kGroups };
inline constexpr std::array<Scan, 4> kAllScans = {Scan::kMailboxes, Scan::kMemory, Scan::kEts, Scan::kGroups};

// The scan's name in the probe's options and timings and in the `scan` label.
const char* ScanName(Scan scan);

// What the scans walk over, from the last cheap reads.
struct NodeSize {
  int64_t processes = 0;
  int64_t ets_tables = 0;
};

class ScanBudget {
 public:
  // `scans`: those in use (the group pass only when groups are configured). `groups_limit`: the
  // group pass stops after this long, so it never costs more.
  ScanBudget(double cpu_budget, std::chrono::milliseconds interval, std::vector<Scan> scans,
             std::chrono::microseconds groups_limit);

  // Shares out one interval's budget minus what the last cheap reads cost, and returns the scans
  // whose credit now covers their expected cost at `size`, cheapest first.
  std::vector<Scan> Plan(std::chrono::microseconds cheap_reads, const NodeSize& size);

  // Charges a run of `scan`: its node time and how many processes (or tables) it covered.
  void Ran(Scan scan, std::chrono::microseconds cost, int64_t covered);

  // What a run is expected to cost at `size`: the last run's cost per process (or table), times
  // today's count; before the first run a prior measured on a 2-core VM (docs/metrics.md).
  std::chrono::microseconds Expected(Scan scan, const NodeSize& size) const;

 private:
  struct State {
    bool in_use = false;
    bool has_run = false;
    double credit_us = 0;     // node time earned and not yet spent (negative after an overrun)
    double per_unit_us = 0;   // the last run's cost per process or table
  };
  State& Of(Scan scan) { return states_[static_cast<size_t>(scan)]; }
  const State& Of(Scan scan) const { return states_[static_cast<size_t>(scan)]; }

  double budget_per_interval_us_;
  double groups_limit_us_;
  std::array<State, kAllScans.size()> states_{};
};

}  // namespace beam_exporter::beam
