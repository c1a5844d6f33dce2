// End to end: a real Elixir node running the forwarder sends real :telemetry events (and a real
// GenServer.call-timeout crash) to a real beam_exporter, whose /metrics then shows them mapped by
// the shipped presets (config/mappings/phoenix.yml, logger.yml).
#include <gtest/gtest.h>

#include "tests/support/exporter_process.h"
#include "tests/support/net.h"
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"

namespace beam_exporter::testing {
namespace {

using std::chrono::milliseconds;

// Where the emitter builds the forwarder (set by CMakeLists.txt).
inline constexpr const char* kForwarderWorkDir = FORWARDER_WORK_DIR;

class ForwarderE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string mappings = std::string(kSourceDir) + "/config/mappings/";
    exporter_ = std::make_unique<ExporterProcess>(ExporterProcess::Options{
        .config_yaml = "collectors:\n  telemetry:\n    mapping_files:\n      - " + mappings + "phoenix.yml\n      - " +
                       mappings + "logger.yml\n",
        .args = {"--no-collector.beam"},
        .telemetry_udp = true});
    ASSERT_TRUE(exporter_->ready()) << exporter_->Output();
  }

  std::string Metrics() { return exporter_->Metrics(); }

  std::unique_ptr<ExporterProcess> exporter_;
};

TEST_F(ForwarderE2eTest, PhoenixRequestsBanditWebSocketsAndACallTimeoutCrashReachMetrics) {
  CommandResult emitter = RunCommand(
      {std::string(kSourceDir) + "/tests/support/run-with-forwarder", kForwarderWorkDir,
       std::string(kSourceDir) + "/tests/e2e/forwarder/emit_events.exs", std::to_string(exporter_->udp_port())},
      milliseconds(180000));
  ASSERT_EQ(emitter.status, 0) << emitter.output;

  const std::string users = "{method=\"GET\",route=\"/users/:id\",status=\"200\"}";
  std::string metrics;
  ASSERT_TRUE(WaitUntil(
      [&] {
        metrics = Metrics();
        return SampleValue(metrics, "phoenix_http_request_duration_seconds_count" + users) == 15;
      },
      milliseconds(5000)))
      << emitter.output << "\n" << metrics;

  // 10 x 0.1 s + 5 x 0.3 s, converted from native units by the forwarder.
  EXPECT_NEAR(SampleValue(metrics, "phoenix_http_request_duration_seconds_sum" + users), 2.5, 1e-6);
  EXPECT_EQ(SampleValue(metrics, "phoenix_http_request_duration_seconds_bucket{method=\"GET\",route=\"/users/:id\","
                                 "status=\"200\",le=\"0.1\"}"),
            10);
  EXPECT_EQ(SampleValue(metrics, "phoenix_http_request_duration_seconds_bucket{method=\"GET\",route=\"/users/:id\","
                                 "status=\"200\",le=\"0.25\"}"),
            10);
  EXPECT_EQ(SampleValue(metrics, "phoenix_http_request_duration_seconds_bucket{method=\"GET\",route=\"/users/:id\","
                                 "status=\"200\",le=\"0.5\"}"),
            15);
  EXPECT_EQ(SampleValue(metrics, "phoenix_http_request_duration_seconds_count{method=\"GET\",route=\"/\",status=\"404\"}"),
            2);
  // Raw paths never become labels.
  EXPECT_EQ(metrics.find("/users/1"), std::string::npos);

  // Bandit WebSockets: opened - closed = open; the duration histogram from native units.
  EXPECT_EQ(SampleValue(metrics, "bandit_websocket_connections_opened_total"), 3) << metrics;
  EXPECT_EQ(SampleValue(metrics, "bandit_websocket_connections_closed_total"), 2);
  EXPECT_NEAR(SampleValue(metrics, "bandit_websocket_connection_duration_seconds_sum"), 120, 1e-6);
  EXPECT_EQ(SampleValue(metrics, "bandit_websocket_connection_duration_seconds_bucket{le=\"60\"}"), 1);
  EXPECT_EQ(SampleValue(metrics, "bandit_websocket_connection_duration_seconds_bucket{le=\"300\"}"), 2);
  EXPECT_EQ(metrics.find("frame"), std::string::npos) << metrics;

  // The crash names the registered server the caller timed out on (Elixir alias without "Elixir.").
  EXPECT_EQ(SampleValue(metrics, "beam_crash_reports_total{reason=\"timeout\",server=\"E2E.Slow\"}"), 1) << metrics;
  EXPECT_GE(SampleValue(metrics, "beam_logger_messages_total{level=\"error\"}"), 1);
}

}  // namespace
}  // namespace beam_exporter::testing
