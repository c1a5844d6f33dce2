#include "exporter/process_metrics.h"

#include <gtest/gtest.h>

namespace beam_exporter {
namespace {

TEST(ProcessMetricsTest, ParsesStatWithAwkwardCommand) {
  // comm may contain spaces and parentheses; fields are counted after the last ')'.
  const std::string stat =
      "1234 (a) b (c) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 98765 123456789 4321 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
  auto st = ParseProcStat(stat);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->utime_ticks, 250u);
  EXPECT_EQ(st->stime_ticks, 50u);
  EXPECT_EQ(st->start_ticks, 98765u);
  EXPECT_EQ(st->vsize_bytes, 123456789u);
  EXPECT_EQ(st->rss_pages, 4321u);
}

TEST(ProcessMetricsTest, RejectsTruncatedStat) { EXPECT_FALSE(ParseProcStat("1 (x) S 1 2 3").has_value()); }

TEST(ProcessMetricsTest, ParsesBootTime) {
  EXPECT_EQ(ParseBootTime("cpu 1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n"), 1700000000u);
  EXPECT_FALSE(ParseBootTime("cpu 1\n").has_value());
}

TEST(ProcessMetricsTest, ParsesMaxOpenFiles) {
  const std::string limits =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max open files            1024                 524288               files     \n";
  EXPECT_EQ(ParseMaxOpenFiles(limits), 1024u);
}

TEST(ProcessMetricsTest, CollectsFromProcSelf) {
  auto families = CollectProcessMetrics();
  std::vector<std::string> names;
  for (const auto& f : families) names.push_back(f.name);
  for (const char* want : {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
                           "process_start_time_seconds", "process_virtual_memory_bytes", "process_max_fds"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
}

}  // namespace
}  // namespace beam_exporter
