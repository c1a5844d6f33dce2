// When the process-group pass runs. The pass reads every process's dictionary and current
// function, items that make each process handle a signal (~2.7 us per process here, so 250-330 ms
// of node CPU at 100k processes and 1.7-2.0 s at 500k): at a fixed cadence its cost would grow with
// the node. So the gap after a pass is stretched until the pass averages at most a set share of
// one core, and the counts get older instead (their age is served:
// beam_exporter_beam_groups_last_pass_timestamp_seconds). Pure: the caller measures the pass.
#pragma once

#include <chrono>

namespace beam_exporter::beam {

// Collections from one group pass to the next (>= 1): at least `groups_every`, and enough that
// a pass that took `pass` costs at most `cpu_budget` (a share of one core, > 0) over the gap
// when collections are `interval` apart.
int CollectionsBetweenGroupPasses(std::chrono::microseconds pass, std::chrono::milliseconds interval, int groups_every,
                                  double cpu_budget);

}  // namespace beam_exporter::beam
