// Replays the StatsD datagrams that telemetry_metrics_statsd 0.7.2 sent from a real Phoenix 1.7
// app (../shared/fixtures/phoenix-1.7, both formatters) to a real beam_exporter running the
// shipped default configuration, and checks that every stock `MyAppWeb.Telemetry` metric becomes
// a sensible Prometheus metric with no per-app YAML: type, base units, labels from tags, the
// counts of scenario.md, timestamps dropped, vm.* as gauges. The telemetry part of /metrics is
// diffed against a golden file per formatter, and the whole exposition passes promtool.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tests/support/exporter_process.h"
#include "tests/support/golden_file.h"
#include "tests/support/net.h"
#include "tests/support/paths.h"
#include "tests/support/phoenix_fixture.h"
#include "tests/support/prometheus_server.h"

namespace beam_exporter::testing {
namespace {

using std::chrono::milliseconds;

// scenario.md, "HTTP, per route and status": phoenix.router_dispatch.stop per route (the stock
// metric is tagged with the route only) ...
const std::map<std::string, int> kStopsByRoute = {
    {"/api/stats", 2}, {"/bad_sql", 1}, {"/counter", 1}, {"/health", 2}, {"/jobs/:kind", 8},
    {"/slow", 1},      {"/users", 3},   {"/users/:id", 9}, {"/users/:id/rename", 2}};
// ... and phoenix.router_dispatch.exception: a raise and a GenServer.call timeout.
const std::map<std::string, int> kExceptionsByRoute = {{"/boom", 1}, {"/timeout", 1}};

// "StatsD on the wire": lines per stock metric (equal for both formatters).
constexpr int kEndpointStops = 32;
constexpr int kEndpointStarts = 33;
constexpr int kRouterStarts = 31;
constexpr int kSocketConnects = 3;
constexpr int kChannelJoins = 3;
const std::map<std::string, int> kHandledInByEvent = {{"ping", 5}, {"shout", 2}};
const std::map<std::string, int> kEctoByMeasurement = {
    {"ecto_repo_query_duration_seconds", 311},  {"ecto_repo_query_execution_time_seconds", 311},
    {"ecto_repo_query_decode_time_seconds", 180}, {"ecto_repo_query_queue_time_seconds", 111},
    {"ecto_repo_query_idle_time_seconds", 111}};
constexpr int kLines = 1188;
constexpr int kDatagrams = 463;

struct Formatter {
  const char* name;     // datadog | standard
  const char* fixture;  // file in fixtures/phoenix-1.7
};

void PrintTo(const Formatter& f, std::ostream* os) { *os << f.name; }

// The last value a stock metric sent, as written on the wire (after the last ':').
double LastWireValue(const std::vector<std::string>& datagrams, const std::string& metric) {
  double last = NAN;
  for (const std::string& d : datagrams) {
    std::istringstream lines(d);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(metric + ":", 0) != 0) continue;
      std::string head = line.substr(0, line.find('|'));
      last = std::stod(head.substr(head.rfind(':') + 1));
    }
  }
  return last;
}

class StatsdReplayTest : public ::testing::TestWithParam<Formatter> {};

TEST_P(StatsdReplayTest, StockMetricsBecomePrometheusMetricsWithTheScenarioCounts) {
  const Formatter& formatter = GetParam();
  const std::string fixture = PhoenixFixturePath(formatter.fixture);
  ASSERT_FALSE(HasFailure());
  const std::vector<std::string> datagrams = ReadStatsdDatagrams(fixture);
  ASSERT_EQ(datagrams.size(), static_cast<size_t>(kDatagrams));

  ExporterProcess exporter(ShippedConfigTelemetryOnly());
  ASSERT_TRUE(exporter.ready()) << exporter.Output();
  for (const std::string& d : datagrams) exporter.Send(d);
  ASSERT_TRUE(exporter.WaitFor("beam_exporter_telemetry_packets_total", kDatagrams, milliseconds(10000)))
      << exporter.Metrics();
  const std::string metrics = exporter.Metrics();

  // Every line parsed and mapped by a shipped rule; the 64 timestamps dropped by rule.
  EXPECT_EQ(SampleValue(metrics, "beam_exporter_telemetry_lines_total"), kLines);
  EXPECT_NE(metrics.find("beam_exporter_telemetry_line_errors_total"), std::string::npos);
  for (const char* reason : {"malformed_line", "malformed_value", "not_enough_parts", "illegal_type"}) {
    EXPECT_EQ(SampleValue(metrics, std::string("beam_exporter_telemetry_line_errors_total{reason=\"") + reason + "\"}"), 0)
        << reason;
  }
  EXPECT_EQ(SampleValue(metrics, "beam_exporter_telemetry_samples_total{outcome=\"unmapped\"}"), 0) << metrics;
  EXPECT_EQ(SampleValue(metrics, "beam_exporter_telemetry_samples_total{outcome=\"dropped_by_rule\"}"),
            kEndpointStarts + kRouterStarts);
  EXPECT_EQ(metrics.find("system_time"), std::string::npos);

  // Requests by route, raised and exited ones as 500s in the same histogram.
  for (const auto& [routes, status] : {std::pair{&kStopsByRoute, ""}, std::pair{&kExceptionsByRoute, "500"}}) {
    for (const auto& [route, count] : *routes) {
      EXPECT_EQ(SampleValue(metrics, "phoenix_http_request_duration_seconds_count{method=\"\",route=\"" + route +
                                         "\",status=\"" + status + "\"}"),
                count)
          << route;
    }
  }
  EXPECT_EQ(SampleSum(metrics, "phoenix_http_request_duration_seconds_count"), 31);
  EXPECT_EQ(SampleSum(metrics, "phoenix_http_request_duration_seconds_count", "status=\"5"), 2);
  // Milliseconds on the wire, seconds here: the /slow request slept 200 ms in the database.
  double slow = SampleValue(metrics, "phoenix_http_request_duration_seconds_sum{method=\"\",route=\"/slow\",status=\"\"}");
  EXPECT_GT(slow, 0.2);
  EXPECT_LT(slow, 0.3);
  EXPECT_EQ(SampleValue(metrics, "phoenix_http_request_duration_seconds_bucket{method=\"\",route=\"/slow\",status=\"\","
                                 "le=\"0.1\"}"),
            0);

  EXPECT_EQ(SampleValue(metrics, "phoenix_endpoint_request_duration_seconds_count{method=\"\",status=\"\"}"),
            kEndpointStops);
  EXPECT_EQ(SampleValue(metrics, "phoenix_socket_connected_duration_seconds_count{result=\"\",transport=\"\",user_socket=\"\"}"),
            kSocketConnects);
  EXPECT_EQ(SampleValue(metrics, "phoenix_channel_joined_duration_seconds_count{channel=\"\",result=\"\"}"),
            kChannelJoins);
  for (const auto& [event, count] : kHandledInByEvent) {
    EXPECT_EQ(SampleValue(metrics, "phoenix_channel_handled_in_duration_seconds_count{channel=\"\",event=\"" + event +
                                       "\"}"),
              count)
        << event;
  }

  // The app's repo prefix becomes the repo label.
  for (const auto& [family, count] : kEctoByMeasurement) {
    std::string labels = family == "ecto_repo_query_idle_time_seconds" ? "{repo=\"my_app.repo\"}"
                         : family == "ecto_repo_query_duration_seconds"
                             ? "{command=\"\",repo=\"my_app.repo\",result=\"\",source=\"\"}"
                             : "{repo=\"my_app.repo\",source=\"\"}";
    EXPECT_EQ(SampleValue(metrics, family + "_count" + labels), count) << family;
  }

  // vm.* as gauges holding the last value, in bytes and plain counts. :standard rounds to whole
  // kilobytes on the wire.
  EXPECT_NE(metrics.find("# TYPE vm_memory_bytes gauge"), std::string::npos);
  EXPECT_NEAR(SampleValue(metrics, "vm_memory_bytes{kind=\"total\"}"),
              LastWireValue(datagrams, "vm.memory.total") * 1000, 1e-3);
  for (const char* queue : {"total", "cpu", "io"}) {
    EXPECT_NEAR(SampleValue(metrics, std::string("vm_run_queue_length{queue=\"") + queue + "\"}"),
                LastWireValue(datagrams, std::string("vm.total_run_queue_lengths.") + queue), 1e-9)
        << queue;
  }

  CommandResult lint = PromtoolCheckMetrics(metrics);
  EXPECT_EQ(lint.status, 0) << lint.output;
  EXPECT_EQ(lint.output, "") << "promtool lint findings";

  std::string diff = GoldenDiff(std::string(kSourceDir) + "/tests/e2e/phoenix_replay/statsd-" + formatter.name +
                                    ".golden",
                                ExpositionWithoutSelfMetrics(metrics));
  EXPECT_EQ(diff, "") << "the replay's /metrics differs from the golden file";
}

INSTANTIATE_TEST_SUITE_P(Formatters, StatsdReplayTest,
                         ::testing::Values(Formatter{"datadog", "statsd-datadog.txt"},
                                           Formatter{"standard", "statsd-standard.txt"}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace beam_exporter::testing
