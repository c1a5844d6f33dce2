// CPU time of the calling thread per item, for the telemetry micro-benchmarks: not wall time,
// because the machine is shared and a descheduled thread would count its wait.
#pragma once

#include <time.h>

#include <cstddef>

namespace beam_exporter::telemetry {

inline double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Runs `round` (which handles `items_per_round` items) for at least `seconds` of this thread's
// CPU time; returns nanoseconds per item.
template <typename F>
double CpuNsPerItem(size_t items_per_round, double seconds, F&& round) {
  size_t rounds = 0;
  double start = ThreadCpuSeconds();
  while (ThreadCpuSeconds() - start < seconds) {
    round();
    ++rounds;
  }
  return 1e9 * (ThreadCpuSeconds() - start) / static_cast<double>(rounds * items_per_round);
}

}  // namespace beam_exporter::telemetry
