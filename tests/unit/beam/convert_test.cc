#include "collectors/beam/convert.h"

#include <gtest/gtest.h>

#include <cmath>
#include <prometheus/text_serializer.h>

namespace beam_exporter::beam {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

NodeSample Sample() {
  NodeSample s;
  s.memory = {{"total", 1000}, {"processes", 600}, {"processes_used", 550}, {"system", 400}, {"atom", 50},
              {"atom_used", 40}, {"binary", 30}, {"code", 100}, {"ets", 20}};
  s.system_info = {{"process_count", 42}, {"process_limit", 262144}, {"ets_count", 17}, {"wordsize", 8}};
  s.otp_release = "25";
  s.erts_version = "13.1.5";
  s.statistics = {{"run_queue", 3},        {"reductions", 123},       {"context_switches", 9},
                  {"gc_count", 4},         {"gc_words_reclaimed", 1000}, {"io_input_bytes", 11},
                  {"io_output_bytes", 12}, {"runtime_ms", 1500},      {"wall_clock_ms", 60000}};
  s.dirty_cpu_run_queue = 1;
  s.dirty_io_run_queue = 0;
  s.connected_nodes = 3;
  s.has_mailboxes = true;
  s.has_memory = true;
  s.mailbox_buckets = {90, 3, 2, 1, 0, 0, 0, 1};
  s.mailbox_messages = 250000;
  s.top_mailbox = {{"busy", "<0.90.0>", 200000, 4096, 77, "gen_server:loop/7"}};
  s.has_groups = true;
  s.top_memory = {{"code_server", "<0.50.0>", 196920}};
  s.groups = {{"phoenix_channel", 7}};
  s.groups_scanned = 750;
  s.groups_total = 1000;
  s.scan_timestamps = {{"groups", 1764158400.5}, {"mailboxes", 1764158460.25}};
  s.scan_node_seconds = {{"groups", 0.3}, {"mailboxes", 0.027}};
  s.has_ets = true;
  s.ets = {{"sessions", "Elixir.MyApp.Cache", "set", "public", 1234, 90000},
           {"ets_table", "worker", "set", "private", 1, 100},
           {"ets_table", "worker", "set", "private", 2, 200}};
  s.ets_other = {20, 300, 40000};
  return s;
}

const MetricFamily* FindFamily(const std::vector<MetricFamily>& fs, const std::string& name) {
  for (const auto& f : fs) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// The value of the metric in family `name` whose labels include all of `labels`.
double Value(const std::vector<MetricFamily>& fs, const std::string& name,
             const std::vector<std::pair<std::string, std::string>>& labels = {}) {
  const MetricFamily* f = FindFamily(fs, name);
  if (!f) return NAN;
  for (const auto& m : f->metric) {
    bool match = true;
    for (const auto& [k, v] : labels) {
      bool found = false;
      for (const auto& l : m.label) found |= l.name == k && l.value == v;
      match &= found;
    }
    if (!match) continue;
    switch (f->type) {
      case MetricType::Counter: return m.counter.value;
      case MetricType::Gauge: return m.gauge.value;
      default: return m.untyped.value;
    }
  }
  return NAN;
}

TEST(ConvertTest, MemoryFamiliesSplitUsedFreeAndOther) {
  auto fs = NodeFamilies(Sample(), {}, {"app@host", MetricNames::kCurrent});
  EXPECT_EQ(Value(fs, "erlang_vm_memory_bytes", {{"kind", "processes"}}), 600);
  EXPECT_EQ(Value(fs, "erlang_vm_memory_processes_bytes", {{"usage", "free"}}), 50);
  EXPECT_EQ(Value(fs, "erlang_vm_memory_system_bytes", {{"usage", "other"}}), 400 - 50 - 30 - 100 - 20);
  EXPECT_EQ(Value(fs, "erlang_vm_memory_atom_bytes", {{"usage", "free"}}), 10);
  EXPECT_EQ(Value(fs, "erlang_vm_memory_total_bytes"), 1000);
}

TEST(ConvertTest, EverySeriesCarriesTheNodeLabel) {
  auto fs = NodeFamilies(Sample(), {{"normal", 0.5}}, {"app@host", MetricNames::kCurrent});
  ASSERT_FALSE(fs.empty());
  for (const auto& f : fs) {
    for (const auto& m : f.metric) {
      ASSERT_FALSE(m.label.empty()) << f.name;
      EXPECT_EQ(m.label[0].name, "node") << f.name;
      EXPECT_EQ(m.label[0].value, "app@host") << f.name;
    }
  }
}

TEST(ConvertTest, CurrentNamesUseSecondsAndTotalSuffixes) {
  auto fs = NodeFamilies(Sample(), {}, {"n@h", MetricNames::kCurrent});
  EXPECT_EQ(Value(fs, "erlang_vm_processes"), 42);
  EXPECT_EQ(Value(fs, "erlang_vm_ets_tables"), 17);
  EXPECT_EQ(Value(fs, "erlang_vm_statistics_runtime_seconds_total"), 1.5);
  EXPECT_EQ(Value(fs, "erlang_vm_statistics_wallclock_time_seconds_total"), 60);
  EXPECT_EQ(Value(fs, "erlang_vm_uptime_seconds"), 60);
  EXPECT_EQ(Value(fs, "erlang_vm_statistics_garbage_collection_bytes_reclaimed_total"), 8000);
  EXPECT_EQ(Value(fs, "erlang_vm_statistics_context_switches_total"), 9);
  EXPECT_EQ(Value(fs, "erlang_vm_dist_peers"), 2);  // not counting the exporter itself
  EXPECT_EQ(Value(fs, "erlang_vm_info", {{"otp_release", "25"}, {"erts_version", "13.1.5"}}), 1);
  EXPECT_EQ(FindFamily(fs, "erlang_vm_process_count"), nullptr);
}

TEST(ConvertTest, LegacyNamesAreThe4xNamesInMilliseconds) {
  auto fs = NodeFamilies(Sample(), {}, {"n@h", MetricNames::kLegacy});
  EXPECT_EQ(Value(fs, "erlang_vm_process_count"), 42);
  EXPECT_EQ(Value(fs, "erlang_vm_memory_bytes_total", {{"kind", "system"}}), 400);
  EXPECT_EQ(Value(fs, "erlang_vm_memory_ets_tables"), 17);
  EXPECT_EQ(Value(fs, "erlang_vm_statistics_runtime_milliseconds"), 1500);
  EXPECT_EQ(Value(fs, "erlang_vm_statistics_context_switches"), 9);
  EXPECT_EQ(FindFamily(fs, "erlang_vm_processes"), nullptr);
  EXPECT_EQ(FindFamily(fs, "erlang_vm_memory_bytes"), nullptr);
}

TEST(ConvertTest, MailboxHistogramIsCumulativeWithSumOfQueuedMessages) {
  auto fs = NodeFamilies(Sample(), {}, {"n@h", MetricNames::kCurrent});
  const MetricFamily* h = FindFamily(fs, "erlang_vm_process_message_queue_length");
  ASSERT_NE(h, nullptr);
  ASSERT_EQ(h->type, MetricType::Histogram);
  const auto& hist = h->metric.at(0).histogram;
  ASSERT_EQ(hist.bucket.size(), 8u);
  EXPECT_EQ(hist.bucket[0].upper_bound, 0);
  EXPECT_EQ(hist.bucket[0].cumulative_count, 90u);
  EXPECT_EQ(hist.bucket[3].cumulative_count, 96u);
  EXPECT_TRUE(std::isinf(hist.bucket[7].upper_bound));
  EXPECT_EQ(hist.bucket[7].cumulative_count, 97u);
  EXPECT_EQ(hist.sample_count, 97u);
  EXPECT_EQ(hist.sample_sum, 250000);
}

TEST(ConvertTest, TopRowsCarryIdentityLabels) {
  auto fs = NodeFamilies(Sample(), {}, {"n@h", MetricNames::kCurrent});
  std::vector<std::pair<std::string, std::string>> row = {{"process", "busy"}, {"pid", "<0.90.0>"}};
  EXPECT_EQ(Value(fs, "erlang_vm_top_process_message_queue_length", row), 200000);
  EXPECT_EQ(Value(fs, "erlang_vm_top_mailbox_process_memory_bytes", row), 4096);
  EXPECT_EQ(Value(fs, "erlang_vm_top_mailbox_process_reductions", row), 77);
  EXPECT_EQ(Value(fs, "erlang_vm_top_mailbox_process_info", {{"pid", "<0.90.0>"}, {"current_function", "gen_server:loop/7"}}), 1);
  EXPECT_EQ(Value(fs, "erlang_vm_top_process_memory_bytes", {{"process", "code_server"}}), 196920);
  EXPECT_EQ(Value(fs, "erlang_vm_process_group_processes", {{"group", "phoenix_channel"}}), 7);
  EXPECT_EQ(Value(fs, "beam_exporter_beam_groups_coverage_ratio"), 0.75);
}

// Scanned values are served between runs of their scan; each scan's time tells how old they are.
TEST(ConvertTest, EachScanServesTheTimeAndNodeCostOfTheRunItsValuesCameFrom) {
  auto fs = NodeFamilies(Sample(), {}, {"n@h", MetricNames::kCurrent});
  EXPECT_EQ(Value(fs, "beam_exporter_beam_last_scan_timestamp_seconds", {{"scan", "groups"}}), 1764158400.5);
  EXPECT_EQ(Value(fs, "beam_exporter_beam_last_scan_timestamp_seconds", {{"scan", "mailboxes"}}), 1764158460.25);
  EXPECT_EQ(FindFamily(fs, "beam_exporter_beam_last_scan_timestamp_seconds")->metric.size(), 2u) << "only scans that ran";
  EXPECT_EQ(Value(fs, "beam_exporter_beam_scan_node_seconds", {{"scan", "mailboxes"}}), 0.027);
  NodeSample none = Sample();
  none.scan_timestamps.clear();
  none.scan_node_seconds.clear();
  EXPECT_EQ(FindFamily(NodeFamilies(none, {}, {"n@h", MetricNames::kCurrent}), "beam_exporter_beam_last_scan_timestamp_seconds"),
            nullptr);
}

TEST(ConvertTest, EtsRowsWithTheSameLabelsAreSummedAndTheRestIsOneRow) {
  auto fs = NodeFamilies(Sample(), {}, {"n@h", MetricNames::kCurrent});
  EXPECT_EQ(Value(fs, "erlang_vm_ets_table_size", {{"table", "sessions"}, {"owner", "Elixir.MyApp.Cache"}}), 1234);
  EXPECT_EQ(Value(fs, "erlang_vm_ets_table_memory_bytes", {{"table", "ets_table"}}), 300);
  EXPECT_EQ(Value(fs, "erlang_vm_ets_table_size", {{"table", "ets_table"}}), 3);
  EXPECT_EQ(Value(fs, "erlang_vm_ets_table_memory_bytes", {{"table", "_other"}, {"owner", "_other"}}), 40000);
  EXPECT_EQ(FindFamily(fs, "erlang_vm_ets_table_size")->metric.size(), 3u);
}

TEST(ConvertTest, ProbeOnlyFamiliesAreAbsentWithoutTheProbe) {
  NodeSample s = Sample();
  s.has_mailboxes = s.has_memory = s.has_groups = s.has_ets = false;
  auto fs = NodeFamilies(s, {}, {"n@h", MetricNames::kCurrent});
  EXPECT_EQ(FindFamily(fs, "erlang_vm_process_message_queue_length"), nullptr);
  EXPECT_EQ(FindFamily(fs, "erlang_vm_top_process_memory_bytes"), nullptr);
  EXPECT_EQ(FindFamily(fs, "erlang_vm_ets_table_size"), nullptr);
  EXPECT_EQ(FindFamily(fs, "erlang_vm_process_group_processes"), nullptr);
  EXPECT_EQ(FindFamily(fs, "erlang_vm_scheduler_utilization"), nullptr);
  EXPECT_NE(FindFamily(fs, "erlang_vm_processes"), nullptr);
}

TEST(ConvertTest, SchedulerUtilizationIsActiveOverTotalDelta) {
  std::vector<SchedulerTime> before = {{"normal", 100, 1000}, {"dirty_cpu", 0, 1000}, {"dirty_io", 5, 1000}};
  std::vector<SchedulerTime> after = {{"normal", 400, 2000}, {"dirty_cpu", 0, 2000}, {"dirty_io", 5, 1000}};
  auto u = SchedulerUtilization(before, after);
  EXPECT_DOUBLE_EQ(u.at("normal"), 0.3);
  EXPECT_DOUBLE_EQ(u.at("dirty_cpu"), 0.0);
  EXPECT_EQ(u.count("dirty_io"), 0u);  // total did not advance
  EXPECT_TRUE(SchedulerUtilization({}, after).empty());
  auto fs = NodeFamilies(Sample(), u, {"n@h", MetricNames::kCurrent});
  EXPECT_DOUBLE_EQ(Value(fs, "erlang_vm_scheduler_utilization", {{"type", "normal"}}), 0.3);
}

TEST(ConvertTest, CollectorStateFamilies) {
  CollectorState st;
  st.up = true;
  st.connect_errors = {{"timeout", 2}, {"cookie_rejected", 1}};
  st.last_collection_timestamp_seconds = 1700000000;
  st.collection_duration_seconds = 0.012;
  st.reply_bytes = 5000;
  auto fs = CollectorStateFamilies(st, {"n@h", MetricNames::kCurrent});
  EXPECT_EQ(Value(fs, "beam_up"), 1);
  EXPECT_EQ(Value(fs, "beam_exporter_beam_connect_errors_total", {{"reason", "timeout"}}), 2);
  EXPECT_EQ(Value(fs, "beam_exporter_beam_last_collection_timestamp_seconds"), 1700000000);
  EXPECT_EQ(Value(fs, "beam_exporter_beam_collection_duration_seconds"), 0.012);
  EXPECT_EQ(Value(fs, "beam_exporter_beam_reply_bytes"), 5000);
  st.up = false;
  EXPECT_EQ(Value(CollectorStateFamilies(st, {"n@h", MetricNames::kCurrent}), "beam_up"), 0);
}

TEST(ConvertTest, SerializesHistogramWithInfBucketAndSum) {
  auto fs = NodeFamilies(Sample(), {{"normal", 0.5}}, {"n@h", MetricNames::kCurrent});
  std::string text = prometheus::TextSerializer().Serialize(fs);
  EXPECT_NE(text.find("erlang_vm_process_message_queue_length_bucket{node=\"n@h\",le=\"+Inf\"} 97"), std::string::npos)
      << text;
  EXPECT_NE(text.find("erlang_vm_process_message_queue_length_sum{node=\"n@h\"} 250000"), std::string::npos);
}

}  // namespace
}  // namespace beam_exporter::beam
