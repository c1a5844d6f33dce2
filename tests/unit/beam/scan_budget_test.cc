#include "collectors/beam/scan_budget.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace beam_exporter::beam {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

const std::vector<Scan> kEveryScan(kAllScans.begin(), kAllScans.end());

// A node whose scans cost `per_unit` microseconds per process (per table for ETS).
struct SimulatedNode {
  NodeSize size;
  std::map<Scan, double> per_unit = {{Scan::kMailboxes, 0.3}, {Scan::kMemory, 0.15}, {Scan::kEts, 2.0}, {Scan::kGroups, 3.0}};
  microseconds Cost(Scan scan, microseconds groups_limit) const {
    double units = static_cast<double>(scan == Scan::kEts ? size.ets_tables : size.processes);
    auto cost = microseconds(static_cast<int64_t>(per_unit.at(scan) * units));
    return scan == Scan::kGroups ? std::min(cost, groups_limit) : cost;
  }
};

struct SimulatedRun {
  double node_us = 0;                       // cheap reads and scans
  std::map<Scan, std::vector<int>> ran_at;  // collection numbers
};

// `collections` collections at `interval`, cheap reads costing `cheap` each.
SimulatedRun Simulate(ScanBudget& budget, const SimulatedNode& node, int collections, microseconds cheap,
             microseconds groups_limit = microseconds(2000000)) {
  SimulatedRun run;
  for (int c = 0; c < collections; ++c) {
    run.node_us += static_cast<double>(cheap.count());
    for (Scan scan : budget.Plan(cheap, node.size)) {
      microseconds cost = node.Cost(scan, groups_limit);
      budget.Ran(scan, cost, scan == Scan::kEts ? node.size.ets_tables : node.size.processes);
      run.node_us += static_cast<double>(cost.count());
      run.ran_at[scan].push_back(c);
    }
  }
  return run;
}

int LongestGap(const std::vector<int>& at) {
  int gap = 0;
  for (size_t i = 1; i < at.size(); ++i) gap = std::max(gap, at[i] - at[i - 1]);
  return gap;
}

TEST(ScanBudgetTest, AtSmallSizesEveryScanRunsEveryCollection) {
  // 5k processes and 100 tables: ~18 ms of scans per 10 s (the group pass 15 ms), under the 50 ms
  // of a 0.5 % budget, and so are the priors before the first runs.
  ScanBudget budget(0.005, milliseconds(10000), kEveryScan, microseconds(2000000));
  SimulatedNode node{{5000, 100}};
  SimulatedRun run = Simulate(budget, node, 60, microseconds(300));
  for (Scan scan : kAllScans) EXPECT_EQ(run.ran_at[scan].size(), 60u) << ScanName(scan);
}

TEST(ScanBudgetTest, AtLargeSizesTheCostlyScansStretchAndTheTotalStaysWithinTheBudget) {
  // 1M processes: mailboxes 300 ms, memory 150 ms, groups 2 s (cut at its limit), ETS 2 ms.
  ScanBudget budget(0.005, milliseconds(10000), kEveryScan, microseconds(2000000));
  SimulatedNode node{{1000000, 1000}};
  const int collections = 8640;  // a day at 10 s
  SimulatedRun run = Simulate(budget, node, collections, microseconds(500));
  EXPECT_LE(run.node_us, 0.005 * collections * 10e6);
  EXPECT_GE(run.node_us, 0.9 * 0.005 * collections * 10e6) << "the budget is spent, not wasted";
  EXPECT_EQ(run.ran_at[Scan::kEts].size(), static_cast<size_t>(collections)) << "the cheap scan keeps the interval";
  for (Scan scan : {Scan::kMailboxes, Scan::kMemory, Scan::kGroups}) {
    ASSERT_GE(run.ran_at[scan].size(), 2u) << ScanName(scan);
    EXPECT_GT(LongestGap(run.ran_at[scan]), 1) << ScanName(scan);
  }
  // The costlier a scan, the longer its gap.
  EXPECT_LT(LongestGap(run.ran_at[Scan::kMemory]), LongestGap(run.ran_at[Scan::kMailboxes]));
  EXPECT_LT(LongestGap(run.ran_at[Scan::kMailboxes]), LongestGap(run.ran_at[Scan::kGroups]));
}

TEST(ScanBudgetTest, NoPrefixOfTheRunSpendsMoreThanTheBudgetEarnedSoFar) {
  // Start-up included: the first scans wait until their credit covers them.
  ScanBudget budget(0.005, milliseconds(10000), kEveryScan, microseconds(2000000));
  SimulatedNode node{{500000, 1000}};
  for (int collections = 1; collections <= 120; ++collections) {
    ScanBudget fresh(0.005, milliseconds(10000), kEveryScan, microseconds(2000000));
    SimulatedRun run = Simulate(fresh, node, collections, microseconds(500));
    EXPECT_LE(run.node_us, 0.005 * collections * 10e6) << collections << " collections";
  }
}

TEST(ScanBudgetTest, AScanThatCostMoreThanExpectedWaitsLonger) {
  ScanBudget budget(0.005, milliseconds(10000), {Scan::kMailboxes}, microseconds(2000000));
  NodeSize size{100000, 0};
  ASSERT_EQ(budget.Plan(microseconds(0), size), std::vector<Scan>{Scan::kMailboxes});
  budget.Ran(Scan::kMailboxes, microseconds(30000), 100000);  // 30 ms against 50 ms earned
  EXPECT_EQ(budget.Expected(Scan::kMailboxes, size), microseconds(30000));
  EXPECT_EQ(budget.Plan(microseconds(0), size), std::vector<Scan>{Scan::kMailboxes});
  budget.Ran(Scan::kMailboxes, microseconds(400000), 100000);  // an overrun: 8 intervals of budget
  EXPECT_EQ(budget.Expected(Scan::kMailboxes, size), microseconds(400000));
  int waited = 0;
  while (budget.Plan(microseconds(0), size).empty()) ++waited;
  EXPECT_GE(waited, 14) << "the overrun is paid back, then the next run is earned";
}

TEST(ScanBudgetTest, ExpectationsFollowTheNodeSizeAndTheGroupPassLimit) {
  ScanBudget budget(0.005, milliseconds(10000), kEveryScan, microseconds(2000000));
  NodeSize small{1000, 10};
  EXPECT_EQ(budget.Expected(Scan::kMailboxes, small), microseconds(400)) << "the prior before any run";
  budget.Ran(Scan::kMailboxes, microseconds(300), 1000);
  EXPECT_EQ(budget.Expected(Scan::kMailboxes, NodeSize{100000, 10}), microseconds(30000)) << "per process";
  budget.Ran(Scan::kEts, microseconds(50), 10);
  EXPECT_EQ(budget.Expected(Scan::kEts, NodeSize{1000, 1000}), microseconds(5000)) << "per table";
  EXPECT_EQ(budget.Expected(Scan::kGroups, NodeSize{10000000, 0}), microseconds(2000000)) << "the pass stops there";
}

TEST(ScanBudgetTest, ScansNotInUseNeverRunAndLeaveTheirShareToTheOthers) {
  ScanBudget budget(0.005, milliseconds(10000), {Scan::kMailboxes, Scan::kEts}, microseconds(2000000));
  NodeSize size{150000, 10};  // mailboxes 60 ms by the prior: more than the whole 50 ms
  std::vector<Scan> first = budget.Plan(microseconds(0), size);
  EXPECT_EQ(first, std::vector<Scan>{Scan::kEts});
  std::vector<Scan> second = budget.Plan(microseconds(0), size);
  EXPECT_EQ(second, (std::vector<Scan>{Scan::kEts, Scan::kMailboxes})) << "~50 ms per interval went to mailboxes";
}

}  // namespace
}  // namespace beam_exporter::beam
