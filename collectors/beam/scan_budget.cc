#include "collectors/beam/scan_budget.h"

#include <algorithm>

namespace beam_exporter::beam {
namespace {

// Node time per process (or ETS table) before a scan has run, rounded up from beam_bench on this
// project's 2-core VM (docs/benchmarks.md), so that a first run rarely overruns its credit.
double PriorPerUnitUs(Scan scan) {
  switch (scan) {
    case Scan::kMailboxes: return 0.4;
    case Scan::kMemory: return 0.3;
    case Scan::kEts: return 3.0;
    case Scan::kGroups: return 4.0;
  }
  return 0;
}

int64_t Units(Scan scan, const NodeSize& size) { return scan == Scan::kEts ? size.ets_tables : size.processes; }

}  // namespace

const char* ScanName(Scan scan) {
  switch (scan) {
    case Scan::kMailboxes: return "mailboxes";
    case Scan::kMemory: return "memory";
    case Scan::kEts: return "ets";
    case Scan::kGroups: return "groups";
  }
  return "unknown";
}

ScanBudget::ScanBudget(double cpu_budget, std::chrono::milliseconds interval, std::vector<Scan> scans,
                       std::chrono::microseconds groups_limit)
    : budget_per_interval_us_(cpu_budget * static_cast<double>(interval.count()) * 1000.0),
      groups_limit_us_(static_cast<double>(groups_limit.count())) {
  for (Scan scan : scans) Of(scan).in_use = true;
}

std::chrono::microseconds ScanBudget::Expected(Scan scan, const NodeSize& size) const {
  const State& s = Of(scan);
  double us = (s.has_run ? s.per_unit_us : PriorPerUnitUs(scan)) * static_cast<double>(std::max<int64_t>(Units(scan, size), 0));
  if (scan == Scan::kGroups) us = std::min(us, groups_limit_us_);
  return std::chrono::microseconds(static_cast<int64_t>(us));
}

std::vector<Scan> ScanBudget::Plan(std::chrono::microseconds cheap_reads, const NodeSize& size) {
  std::vector<std::pair<double, Scan>> by_cost;
  for (Scan scan : kAllScans) {
    if (Of(scan).in_use) by_cost.emplace_back(static_cast<double>(Expected(scan, size).count()), scan);
  }
  std::sort(by_cost.begin(), by_cost.end());
  double remaining = std::max(0.0, budget_per_interval_us_ - static_cast<double>(cheap_reads.count()));
  std::vector<Scan> due;
  for (size_t i = 0; i < by_cost.size(); ++i) {
    const auto [expected, scan] = by_cost[i];
    const double fair = remaining / static_cast<double>(by_cost.size() - i);
    // A scan that fits twice in its fair share takes only that (the margin absorbs jitter in its
    // cost) and leaves the rest to the costlier ones.
    const double share = 2 * expected <= fair ? 2 * expected : fair;
    remaining -= share;
    State& s = Of(scan);
    // Credit is capped at one run (or one share): a scan cannot save up for a burst.
    s.credit_us = std::min(s.credit_us + share, std::max(expected, share));
    if (s.credit_us >= expected) due.push_back(scan);
  }
  return due;
}

void ScanBudget::Ran(Scan scan, std::chrono::microseconds cost, int64_t covered) {
  State& s = Of(scan);
  s.credit_us -= static_cast<double>(cost.count());
  s.per_unit_us = static_cast<double>(cost.count()) / static_cast<double>(std::max<int64_t>(covered, 1));
  s.has_run = true;
}

}  // namespace beam_exporter::beam
