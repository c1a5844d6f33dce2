// The standard process_* metrics of Prometheus client libraries, read from /proc/self.
// Parsing is separate from reading so it can be tested on literal file contents.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

namespace beam_exporter {

struct ProcStat {
  uint64_t utime_ticks = 0;
  uint64_t stime_ticks = 0;
  uint64_t start_ticks = 0;  // since boot
  uint64_t vsize_bytes = 0;
  uint64_t rss_pages = 0;
};

// Parses the contents of /proc/<pid>/stat (the comm field may hold spaces and parentheses).
std::optional<ProcStat> ParseProcStat(std::string_view text);
// Boot time in seconds since the epoch, from the `btime` line of /proc/stat.
std::optional<uint64_t> ParseBootTime(std::string_view proc_stat);
// The soft limit of "Max open files" from /proc/<pid>/limits.
std::optional<uint64_t> ParseMaxOpenFiles(std::string_view limits);

// Reads /proc/self and returns the process_* families; missing files leave their metric out.
std::vector<prometheus::MetricFamily> CollectProcessMetrics();

}  // namespace beam_exporter
