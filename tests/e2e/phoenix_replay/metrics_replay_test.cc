// Replays every :telemetry event that a real Phoenix 1.7 app emitted
// (../shared/fixtures/phoenix-1.7/events.etf) on a real node whose forwarder is started with the
// app's stock Telemetry.Metrics definitions (`metrics: MyAppWeb.Telemetry.metrics()`, the list of
// scenario.md), aggregated in the app and sent in the native form's version 2 to a real
// beam_exporter with the shipped configuration. /metrics must give the counts of scenario.md per
// route and event, with the names, types and help the definitions imply, and the sums of the
// recorded measurements (computed by the replay script straight from the recording).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>

#include "tests/e2e/phoenix_replay/forwarder_replay.h"
#include "tests/support/exporter_process.h"
#include "tests/support/net.h"
#include "tests/support/paths.h"
#include "tests/support/phoenix_fixture.h"
#include "tests/support/prometheus_server.h"
#include "tests/support/subprocess.h"

namespace beam_exporter::testing {
namespace {

using std::chrono::milliseconds;

struct Expected {
  std::string series;
  double value;
};

// scenario.md, "Counts in the capture (events.etf)", as the stock definitions see them.
const std::vector<Expected> kScenarioCounts = {
    {"phoenix_endpoint_start_system_time_seconds_count", 33},
    {"phoenix_endpoint_stop_duration_seconds_count", 32},
    // router_dispatch.stop per route (29), summed over the statuses of the scenario's table.
    {R"(phoenix_router_dispatch_stop_duration_seconds_count{route="/api/stats"})", 2},
    {R"(phoenix_router_dispatch_stop_duration_seconds_count{route="/bad_sql"})", 1},
    {R"(phoenix_router_dispatch_stop_duration_seconds_count{route="/counter"})", 1},
    {R"(phoenix_router_dispatch_stop_duration_seconds_count{route="/health"})", 2},
    {R"(phoenix_router_dispatch_stop_duration_seconds_count{route="/jobs/:kind"})", 8},
    {R"(phoenix_router_dispatch_stop_duration_seconds_count{route="/slow"})", 1},
    {R"(phoenix_router_dispatch_stop_duration_seconds_count{route="/users"})", 3},
    {R"(phoenix_router_dispatch_stop_duration_seconds_count{route="/users/:id"})", 9},
    {R"(phoenix_router_dispatch_stop_duration_seconds_count{route="/users/:id/rename"})", 2},
    {R"(phoenix_router_dispatch_exception_duration_seconds_count{route="/boom"})", 1},
    {R"(phoenix_router_dispatch_exception_duration_seconds_count{route="/timeout"})", 1},
    // router_dispatch.start: every routed request (29 stops + 2 exceptions).
    {R"(phoenix_router_dispatch_start_system_time_seconds_count{route="/users/:id"})", 9},
    {R"(phoenix_router_dispatch_start_system_time_seconds_count{route="/boom"})", 1},
    {"phoenix_socket_connected_duration_seconds_count", 3},
    {"phoenix_channel_joined_duration_seconds_count", 3},
    {R"(phoenix_channel_handled_in_duration_seconds_count{event="ping"})", 5},
    {R"(phoenix_channel_handled_in_duration_seconds_count{event="shout"})", 2},
    {"my_app_repo_query_total_time_seconds_count", 311},
    {"my_app_repo_query_decode_time_seconds_count", 180},
    {"my_app_repo_query_query_time_seconds_count", 311},
    {"my_app_repo_query_queue_time_seconds_count", 111},
    {"my_app_repo_query_idle_time_seconds_count", 111},
    {"vm_memory_total_bytes_count", 6},
    {"vm_total_run_queue_lengths_total_count", 6},
    {"vm_total_run_queue_lengths_cpu_count", 6},
    {"vm_total_run_queue_lengths_io_count", 6},
};

TEST(MetricsReplayTest, StockTelemetryMetricsAggregatedInTheAppGiveTheScenarioCountsAndSums) {
  ForwarderReplay out;
  ASSERT_NO_FATAL_FAILURE(ReplayThroughForwarder("replay_metrics.exs", &out));
  const CommandResult& replay = out.replay;
  ExporterProcess& exporter = *out.exporter;
  ASSERT_EQ(out.stats["events"], 1064) << replay.output;
  for (const char* counter : {"dropped_series_limit", "dropped_extractor_failed", "dropped_oversize", "send_errors"}) {
    EXPECT_EQ(out.stats[counter], 0) << counter << "\n" << replay.output;
  }
  ASSERT_EQ(out.sums.size(), 15u) << replay.output;

  ASSERT_TRUE(exporter.WaitFor("my_app_repo_query_total_time_seconds_count", 311, milliseconds(10000)))
      << replay.output << exporter.Metrics();
  const std::string metrics = exporter.Metrics();
  EXPECT_EQ(SampleValue(metrics, "beam_exporter_telemetry_packets_dropped_total{reason=\"malformed_etf\"}"), 0);

  for (const Expected& e : kScenarioCounts) EXPECT_EQ(SampleValue(metrics, e.series), e.value) << e.series;
  EXPECT_EQ(SampleSum(metrics, "phoenix_router_dispatch_stop_duration_seconds_count"), 29);
  EXPECT_EQ(SampleSum(metrics, "phoenix_router_dispatch_start_system_time_seconds_count"), 31);
  // No socket drained in the scenario: the sum has no series yet.
  EXPECT_TRUE(std::isnan(SampleValue(metrics, "phoenix_socket_drain_count_total")));

  // Sums, in seconds and bytes, equal to the recording's (integer measurements are summed exactly
  // in the app; the rest is floating-point division).
  for (const auto& [name, expected] : out.sums) {
    // Over every label set, or the one unlabelled series.
    double unlabelled = SampleValue(metrics, name + "_sum");
    double got = std::isnan(unlabelled) ? SampleSum(metrics, name + "_sum") : unlabelled;
    EXPECT_NEAR(got, expected, std::abs(expected) * 1e-9 + 1e-12) << name;
  }
  EXPECT_GT(out.sums["my_app_repo_query_total_time_seconds"], 0.2);  // the pg_sleep(0.2) query is in it

  // Types, units and help as the definitions imply; summaries are histograms with le buckets.
  EXPECT_NE(metrics.find("# TYPE phoenix_router_dispatch_stop_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(metrics.find(R"(phoenix_router_dispatch_stop_duration_seconds_bucket{route="/slow",le="0.25"})"),
            std::string::npos);
  EXPECT_NE(metrics.find("# HELP my_app_repo_query_queue_time_seconds The time spent waiting for a database connection"),
            std::string::npos);
  EXPECT_NE(metrics.find("# HELP phoenix_endpoint_stop_duration_seconds Telemetry.Metrics summary(\"phoenix.endpoint.stop.duration\"), unit millisecond."),
            std::string::npos);
  // The forwarder's own counters came along.
  EXPECT_EQ(SampleValue(metrics, R"(beam_exporter_forwarder_dropped_total{forwarder="BeamExporter.Forwarder",reason="overload"})"), 0);
  EXPECT_GE(SampleValue(metrics, R"(beam_exporter_forwarder_flushes_total{forwarder="BeamExporter.Forwarder"})"), 1);

  // promtool's only finding is the name of the stock definition vm.total_run_queue_lengths.total
  // itself: a histogram whose name ends in _total.
  CommandResult lint = PromtoolCheckMetrics(metrics);
  EXPECT_EQ(lint.output, "vm_total_run_queue_lengths_total non-counter metrics should not have \"_total\" suffix\n");
}

}  // namespace
}  // namespace beam_exporter::testing
