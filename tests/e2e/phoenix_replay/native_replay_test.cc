// Replays every :telemetry event that a real Phoenix 1.7 app emitted
// (../shared/fixtures/phoenix-1.7/events.etf: Phoenix, LiveView, Ecto, Oban, Bandit, with their
// real measurements and metadata) through the :telemetry API on a real node, where the
// forwarder's real handlers (presets :phoenix, :live_view, :ecto, :oban) send them in the native
// form over UDP to a real beam_exporter with the default configuration. /metrics must give the
// counts of scenario.md per route and status, LiveView and event, channel, repo and source, Oban
// queue, worker and state, including every failure the scenario provoked. The telemetry part of
// /metrics is diffed against a golden file (sums to 9 digits) and passes promtool.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "tests/e2e/phoenix_replay/forwarder_replay.h"
#include "tests/support/exporter_process.h"
#include "tests/support/golden_file.h"
#include "tests/support/net.h"
#include "tests/support/paths.h"
#include "tests/support/phoenix_fixture.h"
#include "tests/support/prometheus_server.h"
#include "tests/support/subprocess.h"

namespace beam_exporter::testing {
namespace {

using std::chrono::milliseconds;

// ExpositionWithoutSelfMetrics with every _sum to 9 significant digits: the forwarder's sender
// batches events as they come, and floating-point sums depend on the order the exporter adds them.
std::set<std::string> GoldenLines(const std::string& exposition) {
  std::set<std::string> out;
  for (const std::string& line : ExpositionWithoutSelfMetrics(exposition)) {
    size_t space = line.rfind(' ');
    std::string name = line.substr(0, line.find('{') < space ? line.find('{') : space);
    if (line[0] == '#' || !name.ends_with("_sum")) {
      out.insert(line);
      continue;
    }
    char value[32];
    std::snprintf(value, sizeof value, "%.9g", std::stod(line.substr(space + 1)));
    out.insert(line.substr(0, space + 1) + value);
  }
  return out;
}

struct Expected {
  std::string series;
  double value;
};

// scenario.md, "Counts in the capture (events.etf)".
const std::vector<Expected> kScenarioCounts = {
    // HTTP per route and status: router_dispatch.stop, plus the raising controller and the
    // GenServer.call timeout (router_dispatch.exception) answered 500.
    {R"(phoenix_http_request_duration_seconds_count{method="GET",route="/api/stats",status="200"})", 2},
    {R"(phoenix_http_request_duration_seconds_count{method="GET",route="/bad_sql",status="500"})", 1},
    {R"(phoenix_http_request_duration_seconds_count{method="GET",route="/counter",status="200"})", 1},
    {R"(phoenix_http_request_duration_seconds_count{method="GET",route="/health",status="200"})", 2},
    {R"(phoenix_http_request_duration_seconds_count{method="POST",route="/jobs/:kind",status="201"})", 8},
    {R"(phoenix_http_request_duration_seconds_count{method="GET",route="/slow",status="200"})", 1},
    {R"(phoenix_http_request_duration_seconds_count{method="POST",route="/users",status="201"})", 2},
    {R"(phoenix_http_request_duration_seconds_count{method="POST",route="/users",status="422"})", 1},
    {R"(phoenix_http_request_duration_seconds_count{method="GET",route="/users/:id",status="200"})", 6},
    {R"(phoenix_http_request_duration_seconds_count{method="GET",route="/users/:id",status="400"})", 1},
    {R"(phoenix_http_request_duration_seconds_count{method="GET",route="/users/:id",status="404"})", 2},
    {R"(phoenix_http_request_duration_seconds_count{method="POST",route="/users/:id/rename",status="200"})", 1},
    {R"(phoenix_http_request_duration_seconds_count{method="POST",route="/users/:id/rename",status="422"})", 1},
    {R"(phoenix_http_request_duration_seconds_count{method="GET",route="/boom",status="500"})", 1},
    {R"(phoenix_http_request_duration_seconds_count{method="GET",route="/timeout",status="500"})", 1},
    {R"(phoenix_http_request_exceptions_total{kind="error",reason="RuntimeError",route="/boom"})", 1},
    {R"(phoenix_http_request_exceptions_total{kind="exit",reason="timeout",route="/timeout"})", 1},
    // endpoint.stop by status (32: the exit has none); the unknown route and the wrong method
    // are 404s here and nowhere in the router histogram.
    {R"(phoenix_endpoint_request_duration_seconds_count{method="GET",status="200"})", 12},
    {R"(phoenix_endpoint_request_duration_seconds_count{method="POST",status="200"})", 1},
    {R"(phoenix_endpoint_request_duration_seconds_count{method="POST",status="201"})", 10},
    {R"(phoenix_endpoint_request_duration_seconds_count{method="GET",status="400"})", 1},
    {R"(phoenix_endpoint_request_duration_seconds_count{method="GET",status="404"})", 3},
    {R"(phoenix_endpoint_request_duration_seconds_count{method="DELETE",status="404"})", 1},
    {R"(phoenix_endpoint_request_duration_seconds_count{method="POST",status="422"})", 2},
    {R"(phoenix_endpoint_request_duration_seconds_count{method="GET",status="500"})", 2},
    // Channels: the refused socket, the refused join, the handled events (the crashing
    // handle_in emits nothing).
    {R"(phoenix_socket_connected_total{result="ok",transport="websocket",user_socket="MyAppWeb.UserSocket"})", 1},
    {R"(phoenix_socket_connected_total{result="error",transport="websocket",user_socket="MyAppWeb.UserSocket"})", 1},
    {R"(phoenix_socket_connected_total{result="ok",transport="websocket",user_socket="Phoenix.LiveView.Socket"})", 1},
    {R"(phoenix_channel_joined_total{channel="MyAppWeb.RoomChannel",result="ok"})", 2},
    {R"(phoenix_channel_joined_total{channel="MyAppWeb.RoomChannel",result="error"})", 1},
    {R"(phoenix_channel_handled_in_duration_seconds_count{channel="MyAppWeb.RoomChannel",event="ping"})", 5},
    {R"(phoenix_channel_handled_in_duration_seconds_count{channel="MyAppWeb.RoomChannel",event="shout"})", 2},
    {"bandit_websocket_connections_opened_total", 2},
    {"bandit_websocket_connections_closed_total", 2},
    // LiveView: mounts (1 disconnected + 2 connected), params, renders, events, the raising
    // handle_event, the component event.
    {R"(phoenix_live_view_mount_duration_seconds_count{view="MyAppWeb.CounterLive"})", 3},
    {R"(phoenix_live_view_handle_params_duration_seconds_count{view="MyAppWeb.CounterLive"})", 4},
    {R"(phoenix_live_view_render_duration_seconds_count{view="MyAppWeb.CounterLive"})", 8},
    {R"(phoenix_live_view_handle_event_duration_seconds_count{event="inc",view="MyAppWeb.CounterLive"})", 4},
    {R"(phoenix_live_view_handle_event_duration_seconds_count{event="dec",view="MyAppWeb.CounterLive"})", 1},
    {R"(phoenix_live_view_exceptions_total{kind="error",stage="handle_event",view="MyAppWeb.CounterLive"})", 1},
    {R"(phoenix_live_component_handle_event_duration_seconds_count{component="MyAppWeb.NoteComponent",event="save",view="MyAppWeb.CounterLive"})", 1},
    // Ecto per source and command (source nil -> unknown; the failing query: no command, result error).
    {R"(ecto_repo_query_duration_seconds_count{command="begin",repo="MyApp.Repo",result="ok",source="unknown"})", 65},
    {R"(ecto_repo_query_duration_seconds_count{command="commit",repo="MyApp.Repo",result="ok",source="unknown"})", 64},
    {R"(ecto_repo_query_duration_seconds_count{command="rollback",repo="MyApp.Repo",result="ok",source="unknown"})", 1},
    {R"(ecto_repo_query_duration_seconds_count{command="select",repo="MyApp.Repo",result="ok",source="unknown"})", 49},
    {R"(ecto_repo_query_duration_seconds_count{command="unknown",repo="MyApp.Repo",result="error",source="unknown"})", 1},
    {R"(ecto_repo_query_duration_seconds_count{command="delete",repo="MyApp.Repo",result="ok",source="oban_jobs"})", 1},
    {R"(ecto_repo_query_duration_seconds_count{command="insert",repo="MyApp.Repo",result="ok",source="oban_jobs"})", 8},
    {R"(ecto_repo_query_duration_seconds_count{command="select",repo="MyApp.Repo",result="ok",source="oban_jobs"})", 35},
    {R"(ecto_repo_query_duration_seconds_count{command="update",repo="MyApp.Repo",result="ok",source="oban_jobs"})", 61},
    {R"(ecto_repo_query_duration_seconds_count{command="delete",repo="MyApp.Repo",result="ok",source="oban_peers"})", 3},
    {R"(ecto_repo_query_duration_seconds_count{command="insert",repo="MyApp.Repo",result="ok",source="oban_peers"})", 3},
    {R"(ecto_repo_query_duration_seconds_count{command="insert",repo="MyApp.Repo",result="ok",source="users"})", 2},
    {R"(ecto_repo_query_duration_seconds_count{command="select",repo="MyApp.Repo",result="ok",source="users"})", 17},
    {R"(ecto_repo_query_duration_seconds_count{command="update",repo="MyApp.Repo",result="ok",source="users"})", 1},
    {R"(ecto_repo_query_idle_time_seconds_count{repo="MyApp.Repo"})", 111},
    // Oban per queue, worker and state: retry (failure then success), discard, snooze, cancel.
    {R"(oban_job_duration_seconds_count{queue="default",state="success",worker="MyApp.Workers.Hello"})", 2},
    {R"(oban_job_duration_seconds_count{queue="default",state="failure",worker="MyApp.Workers.Flaky"})", 1},
    {R"(oban_job_duration_seconds_count{queue="default",state="success",worker="MyApp.Workers.Flaky"})", 1},
    {R"(oban_job_duration_seconds_count{queue="default",state="discard",worker="MyApp.Workers.Doomed"})", 1},
    {R"(oban_job_duration_seconds_count{queue="mailers",state="success",worker="MyApp.Workers.WelcomeEmail"})", 2},
    {R"(oban_job_duration_seconds_count{queue="mailers",state="snoozed",worker="MyApp.Workers.Snoozer"})", 1},
    {R"(oban_job_duration_seconds_count{queue="mailers",state="success",worker="MyApp.Workers.Snoozer"})", 1},
    {R"(oban_job_duration_seconds_count{queue="mailers",state="cancelled",worker="MyApp.Workers.Obsolete"})", 1},
    {R"(oban_job_exceptions_total{kind="error",queue="default",worker="MyApp.Workers.Doomed"})", 1},
    {R"(oban_job_exceptions_total{kind="error",queue="default",worker="MyApp.Workers.Flaky"})", 1},
};

TEST(NativeReplayTest, RecordedPhoenixEventsThroughTheForwarderGiveTheScenarioCounts) {
  ForwarderReplay out;
  ASSERT_NO_FATAL_FAILURE(ReplayThroughForwarder("replay_events.exs", &out));
  const CommandResult& replay = out.replay;
  ExporterProcess& exporter = *out.exporter;
  std::map<std::string, double>& stats = out.stats;
  ASSERT_EQ(stats["events"], 1064) << replay.output;
  // Nothing lost on the way; the one unreadable event counted, its handler still attached
  // (22 handlers: 9 :phoenix, 10 :live_view, 1 :ecto, 2 :oban).
  EXPECT_EQ(stats["dropped_overload"], 0);
  EXPECT_EQ(stats["dropped_oversize"], 0);
  EXPECT_EQ(stats["send_errors"], 0);
  EXPECT_EQ(stats["dropped_unexpected_type"], 1) << replay.output;
  EXPECT_EQ(stats["dropped_missing_key"], 0);
  EXPECT_EQ(stats["dropped_extractor_failed"], 0);
  EXPECT_EQ(stats["attached"], 22) << replay.output;

  ASSERT_TRUE(exporter.WaitFor("beam_exporter_telemetry_native_events_total", stats["events_sent"], milliseconds(10000)))
      << replay.output << exporter.Metrics();
  const std::string metrics = exporter.Metrics();
  EXPECT_EQ(SampleValue(metrics, "beam_exporter_telemetry_samples_total{outcome=\"unmapped\"}"), 0) << metrics;
  EXPECT_EQ(SampleValue(metrics, "beam_exporter_telemetry_packets_dropped_total{reason=\"malformed_etf\"}"), 0);

  for (const Expected& e : kScenarioCounts) EXPECT_EQ(SampleValue(metrics, e.series), e.value) << e.series;
  // Totals across labels, also from scenario.md.
  EXPECT_EQ(SampleSum(metrics, "phoenix_http_request_duration_seconds_count"), 31);
  EXPECT_EQ(SampleSum(metrics, "phoenix_http_request_duration_seconds_count", "status=\"5"), 3);  // /bad_sql, /boom, /timeout
  EXPECT_EQ(SampleSum(metrics, "phoenix_endpoint_request_duration_seconds_count"), 32);
  EXPECT_EQ(SampleSum(metrics, "ecto_repo_query_duration_seconds_count"), 311);
  EXPECT_EQ(SampleSum(metrics, "ecto_repo_query_decode_time_seconds_count"), 180);
  EXPECT_EQ(SampleSum(metrics, "ecto_repo_query_queue_time_seconds_count"), 111);
  EXPECT_EQ(SampleSum(metrics, "ecto_repo_query_execution_time_seconds_count"), 311);
  // Raw paths, SQL and ids never become labels.
  for (const char* leak : {"/users/1", "/users/abc", "SELECT", "no_such_table", "room:lobby"}) {
    EXPECT_EQ(metrics.find(leak), std::string::npos) << leak;
  }

  CommandResult lint = PromtoolCheckMetrics(metrics);
  EXPECT_EQ(lint.status, 0) << lint.output;
  EXPECT_EQ(lint.output, "") << "promtool lint findings";
  std::string diff = GoldenDiff(std::string(kSourceDir) + "/tests/e2e/phoenix_replay/native.golden",
                                GoldenLines(metrics));
  EXPECT_EQ(diff, "") << "the replay's /metrics differs from the golden file";
}

}  // namespace
}  // namespace beam_exporter::testing
