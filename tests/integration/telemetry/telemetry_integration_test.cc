// The real beam_exporter binary receiving real datagrams on loopback: StatsD lines as
// telemetry_metrics_statsd formats them (:datadog and :standard), a native datagram sent by a
// real `erl`, TCP and Unix datagram input, malformed input, and promtool on the result.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/exporter_process.h"
#include "tests/support/gunzip.h"
#include "tests/support/net.h"
#include "tests/support/paths.h"
#include "tests/support/prometheus_server.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace beam_exporter::testing {
namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

std::string Presets() {
  std::string out = "[";
  const char* names[] = {"phoenix", "live_view", "ecto", "oban", "logger"};
  for (size_t i = 0; i < 5; ++i) {
    out += std::string(i ? ", " : "") + kSourceDir + "/config/mappings/" + names[i] + ".yml";
  }
  return out + "]";
}

using Start = ExporterProcess::Start;

// The exporter with only the telemetry collector (the bundled presets, then `telemetry_yaml`),
// receiving on a free UDP port.
ExporterProcess::Options TelemetryOnly(const std::string& telemetry_yaml = "", std::vector<std::string> extra = {}) {
  extra.insert(extra.begin(), "--no-collector.beam");
  return {.config_yaml = "collectors:\n  telemetry:\n    mapping_files: " + Presets() + "\n" + telemetry_yaml,
          .args = std::move(extra),
          .telemetry_udp = true};
}

// Waits until the exporter has counted `packets` datagrams, then returns /metrics.
std::string MetricsAfterPackets(ExporterProcess& e, double packets) {
  std::string body;
  WaitUntil([&] {
    body = e.Metrics();
    return SampleValue(body, "beam_exporter_telemetry_packets_total") >= packets;
  }, milliseconds(5000));
  return body;
}

// Runs the exporter (telemetry only, on free ports) with `config_yaml` and `files` in its work
// directory, which it must refuse: it has to exit non-zero within 10 s. Returns what it printed.
std::string RefusedStartOutput(const std::string& config_yaml, std::map<std::string, std::string> files = {}) {
  ExporterProcess e({.config_yaml = config_yaml,
                     .files = std::move(files),
                     .args = {"--no-collector.beam"},
                     .telemetry_udp = true,
                     .start = Start::kRefusal});
  EXPECT_TRUE(e.exit_status().has_value()) << "the exporter kept running";
  if (e.exit_status().has_value()) {
    EXPECT_NE(*e.exit_status(), 0);
  }
  return e.Output();
}

TEST(TelemetryIntegrationTest, DatadogFormatterLinesBecomeMetrics) {
  ExporterProcess e(TelemetryOnly());
  ASSERT_TRUE(e.ready()) << e.Output();
  // As telemetry_metrics_statsd's :datadog formatter packs one event's metrics ("\n"-joined).
  e.Send("phoenix.router_dispatch.stop.duration:12.5|h|#method:GET,route:/users/:id,status:200\n"
         "phoenix.endpoint.stop.duration:20|h|#method:GET,status:200");
  e.Send("phoenix.router_dispatch.stop.duration:1500|h|#method:GET,route:/users/:id,status:200");
  e.Send("phoenix.socket_connected.count:1|c|#transport:websocket,result:ok");
  e.Send("my_app.cache.hits:3|c|#cache:users\nvm.memory.total:1024|g\nmy_app.payload:-21|c");
  std::string m = MetricsAfterPackets(e, 4);
  const std::string series = "{method=\"GET\",route=\"/users/:id\",status=\"200\"}";
  EXPECT_EQ(SampleValue(m, "phoenix_http_request_duration_seconds_count" + series), 2) << m;
  EXPECT_DOUBLE_EQ(SampleValue(m, "phoenix_http_request_duration_seconds_sum" + series), 1.5125);
  EXPECT_EQ(SampleValue(m, "phoenix_http_request_duration_seconds_bucket{method=\"GET\",route=\"/users/:id\",status=\"200\",le=\"0.025\"}"), 1);
  EXPECT_EQ(SampleValue(m, "phoenix_http_request_duration_seconds_bucket{method=\"GET\",route=\"/users/:id\",status=\"200\",le=\"2.5\"}"), 2);
  EXPECT_DOUBLE_EQ(SampleValue(m, "phoenix_endpoint_request_duration_seconds_sum{method=\"GET\",status=\"200\"}"), 0.02);
  EXPECT_EQ(SampleValue(m, "phoenix_socket_connected_total{result=\"ok\",transport=\"websocket\",user_socket=\"\"}"), 1);
  // Unmapped: statsd_exporter-style names, tags as labels.
  EXPECT_EQ(SampleValue(m, "my_app_cache_hits_total{cache=\"users\"}"), 3);
  EXPECT_EQ(SampleValue(m, "vm_memory_total"), 1024);
  EXPECT_EQ(SampleValue(m, "beam_exporter_telemetry_lines_total"), 7);
  EXPECT_EQ(SampleValue(m, "beam_exporter_telemetry_line_errors_total{reason=\"negative_counter\"}"), 1);
}

TEST(TelemetryIntegrationTest, StandardFormatterLinesRecoverLabels) {
  ExporterProcess e(TelemetryOnly());
  ASSERT_TRUE(e.ready()) << e.Output();
  e.Send("phoenix.endpoint.stop.duration.GET.200:12|ms\nhttp.request.payload_size:+121|g");
  e.Send("phoenix.router_dispatch.stop.duration./users:7|ms\nhttp.request.payload_size:+121|g");
  std::string m = MetricsAfterPackets(e, 2);
  EXPECT_DOUBLE_EQ(SampleValue(m, "phoenix_endpoint_request_duration_seconds_sum{method=\"GET\",status=\"200\"}"), 0.012)
      << m;
  EXPECT_DOUBLE_EQ(
      SampleValue(m, "phoenix_http_request_duration_seconds_sum{method=\"\",route=\"/users\",status=\"\"}"), 0.007);
  EXPECT_EQ(SampleValue(m, "http_request_payload_size"), 242);
}

// sum("phoenix.socket_drain.count") of the stock MyAppWeb.Telemetry: :datadog sends a counter,
// :standard a relative gauge; both add to one counter.
TEST(TelemetryIntegrationTest, SocketDrainSumsFromBothFormattersAddUp) {
  ExporterProcess e(TelemetryOnly());
  ASSERT_TRUE(e.ready()) << e.Output();
  e.Send("phoenix.socket_drain.count:+3|g");
  e.Send("phoenix.socket_drain.count:2|c");
  std::string m = MetricsAfterPackets(e, 2);
  EXPECT_EQ(SampleValue(m, "phoenix_socket_drained_total"), 5) << m;
  EXPECT_NE(m.find("# TYPE phoenix_socket_drained_total counter"), std::string::npos);
}

TEST(TelemetryIntegrationTest, NativeDatagramFromRealErl) {
  ExporterProcess e(TelemetryOnly());
  ASSERT_TRUE(e.ready()) << e.Output();
  std::string expr =
      "T = {'app@127.0.0.1', ["
      "{[phoenix, router_dispatch, stop], #{duration => 0.25}, #{method => <<\"POST\">>, route => <<\"/orders\">>, "
      "status => 201, plug => 'Elixir.ShopWeb.OrderController'}, erlang:monotonic_time()},"
      "{[beam_exporter, logger, crash], #{count => 1}, #{reason => timeout}, 1},"
      "{[beam_exporter, logger, crash], #{count => 1}, #{reason => timeout}, 2},"
      "{[my_app, repo, query], #{total_time => 0.004, queue_time => 0.001}, #{repo => <<\"MyApp.Repo\">>, "
      "source => <<\"users\">>, command => select}, 3}]},"
      "{ok, S} = gen_udp:open(0), "
      "ok = gen_udp:send(S, {127,0,0,1}, " + std::to_string(e.udp_port()) + ", [<<\"BXT1\">>, term_to_binary(T)]), "
      "halt().";
  CommandResult r = RunCommand({"erl", "-noshell", "-eval", expr}, milliseconds(20000));
  ASSERT_EQ(r.status, 0) << r.output;
  std::string m = MetricsAfterPackets(e, 1);
  EXPECT_EQ(SampleValue(m, "beam_exporter_telemetry_native_events_total"), 4) << m;
  EXPECT_DOUBLE_EQ(
      SampleValue(m, "phoenix_http_request_duration_seconds_sum{method=\"POST\",route=\"/orders\",status=\"201\"}"), 0.25);
  EXPECT_EQ(SampleValue(m, "beam_crash_reports_total{reason=\"timeout\",server=\"\"}"), 2);
  EXPECT_DOUBLE_EQ(
      SampleValue(m, "ecto_repo_query_duration_seconds_sum{command=\"select\",repo=\"MyApp.Repo\",result=\"\",source=\"users\"}"),
      0.004);
  EXPECT_DOUBLE_EQ(SampleValue(m, "ecto_repo_query_queue_time_seconds_sum{repo=\"MyApp.Repo\",source=\"users\"}"), 0.001);
}

TEST(TelemetryIntegrationTest, MalformedInputIsCountedAndNeverCrashes) {
  ExporterProcess e(TelemetryOnly());
  ASSERT_TRUE(e.ready()) << e.Output();
  e.Send("garbage");
  e.Send("a:1|s\nb:x|c\nc:1|zz");
  e.Send(std::string("BXT9") + "whatever");  // BXT1 and BXT2 are known versions
  e.Send(std::string("BXT1\x83\x68\x02", 7));
  e.Send(std::string("\0\0\xff\xfe:1|c", 8));
  e.Send(std::string(60000, ':'));
  e.Send("ok.after.junk:1|c");
  std::string m = MetricsAfterPackets(e, 7);
  EXPECT_EQ(SampleValue(m, "beam_exporter_telemetry_line_errors_total{reason=\"malformed_line\"}"), 3) << m;
  EXPECT_EQ(SampleValue(m, "beam_exporter_telemetry_line_errors_total{reason=\"set_not_supported\"}"), 1);
  EXPECT_EQ(SampleValue(m, "beam_exporter_telemetry_line_errors_total{reason=\"malformed_value\"}"), 1);
  EXPECT_EQ(SampleValue(m, "beam_exporter_telemetry_line_errors_total{reason=\"illegal_type\"}"), 1);
  EXPECT_EQ(SampleValue(m, "beam_exporter_telemetry_packets_dropped_total{reason=\"unsupported_version\"}"), 1);
  EXPECT_EQ(SampleValue(m, "beam_exporter_telemetry_packets_dropped_total{reason=\"malformed_etf\"}"), 1);
  EXPECT_EQ(SampleValue(m, "ok_after_junk_total"), 1);
  EXPECT_TRUE(e.process().Running());
  EXPECT_NE(e.Output().find("bad telemetry line"), std::string::npos);
}

TEST(TelemetryIntegrationTest, ClashAndSeriesLimitKeepMetricsValid) {
  ExporterProcess e(TelemetryOnly("    series_limit_per_metric: 2\n"));
  ASSERT_TRUE(e.ready()) << e.Output();
  // x becomes a gauge, then x as a histogram clashes; lat_count would collide with the
  // histogram lat's own _count series; a name in the reserved prefix is refused; a long name (there
  // is no length limit since regex rules match in linear time) is served.
  e.Send("x:1|g\nx:1|h\nlat:1|h\nlat_count:5|g\nbeam_exporter.up:1|g\n" + std::string(1100, 'n') + ":1|g");
  e.Send("many:1|c|#k:a\nmany:1|c|#k:b\nmany:1|c|#k:c");
  std::string m = MetricsAfterPackets(e, 2);
  EXPECT_EQ(SampleValue(m, "x"), 1) << m;
  EXPECT_EQ(SampleValue(m, "lat_count"), 1);
  EXPECT_EQ(SampleValue(m, "beam_exporter_telemetry_series_dropped_total{metric=\"x\",reason=\"type_clash\"}"), 1);
  EXPECT_EQ(SampleValue(m, "beam_exporter_telemetry_series_dropped_total{metric=\"lat_count\",reason=\"type_clash\"}"), 1);
  EXPECT_EQ(SampleValue(m, "beam_exporter_telemetry_samples_total{outcome=\"invalid_name\"}"), 1);
  EXPECT_EQ(SampleValue(m, std::string(1100, 'n')), 1);
  EXPECT_EQ(SampleValue(m, "beam_exporter_telemetry_series_dropped_total{metric=\"many_total\",reason=\"series_limit\"}"), 1);
  CommandResult r = PromtoolCheckMetrics(m);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "");
}

TEST(TelemetryIntegrationTest, EverythingPassesPromtool) {
  ExporterProcess e(TelemetryOnly());
  ASSERT_TRUE(e.ready()) << e.Output();
  e.Send("phoenix.router_dispatch.stop.duration:12.5|h|#method:GET,route:/a,status:200\n"
         "phoenix.live_view.mount.stop.duration:3|h|#view:ShopWeb.CartLive\n"
         "oban.job.stop.duration:120|h|#queue:default,worker:Mailer,state:success\n"
         "oban.job.exception.count:1|c|#queue:default,worker:Mailer,kind:error\n"
         "beam_exporter.logger.supervisor_restart.count:1|c|#supervisor:Shop.Sup,child:Shop.Cache\n"
         "weird-name.with spaces:1|g|#a b:c\n"
         "garbage\n");
  std::string m = MetricsAfterPackets(e, 1);
  EXPECT_DOUBLE_EQ(SampleValue(m, "oban_job_duration_seconds_sum{queue=\"default\",state=\"success\",worker=\"Mailer\"}"),
                   0.12)
      << m;
  EXPECT_EQ(SampleValue(m, "beam_supervisor_restarts_total{child=\"Shop.Cache\",supervisor=\"Shop.Sup\"}"), 1);
  CommandResult r = PromtoolCheckMetrics(m);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "") << m;
}

// A summary mapping with quantiles, fed by two readers (datagrams from different source
// ports spread over both shards, which share the series' quantile window); a second summary
// with a 1 s window goes quiet, and its quantiles become NaN, which promtool accepts.
TEST(TelemetryIntegrationTest, SummaryMappingServesQuantilesAndPassesPromtool) {
  ExporterProcess e(TelemetryOnly("    readers: 2\n"
                      "    default_summary_options: {max_age: 1s, age_buckets: 1}\n"
                      "    mappings:\n"
                      "      - match: shop.checkout.duration\n"
                      "        name: shop_checkout_duration_seconds\n"
                      "        type: summary\n"
                      "        statsd_unit: milliseconds\n"
                      "        summary_options:\n"
                      "          quantiles: [{quantile: 0.5, error: 0.01}, {quantile: 0.99, error: 0.001}]\n"
                      "          max_age: 10m\n"
                      "      - match: shop.idle.duration\n"
                      "        name: shop_idle_duration_seconds\n"
                      "        type: summary\n"));
  ASSERT_TRUE(e.ready()) << e.Output();
  // 1..200 ms, in a shuffled order, 20 lines per datagram.
  for (int d = 0; d < 10; ++d) {
    std::string datagram;
    for (int i = 0; i < 20; ++i) {
      int ms = (d * 20 + i) * 73 % 200 + 1;
      datagram += (i ? "\n" : "") + std::string("shop.checkout.duration:") + std::to_string(ms) + "|h|#region:eu";
    }
    e.Send(datagram);
  }
  e.Send("shop.idle.duration:0.25|h");
  std::string m = MetricsAfterPackets(e, 11);
  EXPECT_EQ(SampleValue(m, "shop_checkout_duration_seconds_count{region=\"eu\"}"), 200) << m;
  EXPECT_NEAR(SampleValue(m, "shop_checkout_duration_seconds_sum{region=\"eu\"}"), 20.1, 1e-9);
  // Within the configured rank error (0.01 and 0.001 of 200 observations, 1 ms apart).
  EXPECT_NEAR(SampleValue(m, "shop_checkout_duration_seconds{region=\"eu\",quantile=\"0.5\"}"), 0.1, 0.0021) << m;
  EXPECT_NEAR(SampleValue(m, "shop_checkout_duration_seconds{region=\"eu\",quantile=\"0.99\"}"), 0.198, 0.0011);
  EXPECT_EQ(m.find("shop_checkout_duration_seconds{region=\"eu\",quantile=\"0.9\"}"), std::string::npos);
  EXPECT_EQ(m.find("# TYPE shop_checkout_duration_seconds summary\n") == std::string::npos, false);
  // The collector-wide default: statsd_exporter's quantiles over a 1 s window.
  EXPECT_EQ(SampleValue(m, "shop_idle_duration_seconds{quantile=\"0.9\"}"), 0.25);
  // Quiet for more than max_age: NaN quantiles, _count and _sum stay.
  ASSERT_TRUE(WaitUntil([&] {
    m = e.Metrics();
    return m.find("shop_idle_duration_seconds{quantile=\"0.5\"} ") != std::string::npos &&
           std::isnan(SampleValue(m, "shop_idle_duration_seconds{quantile=\"0.5\"}"));
  }, milliseconds(5000))) << m;
  EXPECT_EQ(SampleValue(m, "shop_idle_duration_seconds_count"), 1);
  EXPECT_EQ(SampleValue(m, "shop_idle_duration_seconds_sum"), 0.25);
  CommandResult r = PromtoolCheckMetrics(m);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "") << m;
}

TEST(TelemetryIntegrationTest, BadSummaryOptionIsAStartupErrorWithFileAndLine) {
  std::string output = RefusedStartOutput("collectors:\n  telemetry:\n    mappings:\n"
                                          "      - match: shop.checkout.duration\n"
                                          "        name: shop_checkout_duration_seconds\n"
                                          "        type: summary\n"
                                          "        summary_options:\n"
                                          "          quantiles: [{quantile: 0.5, error: 0.01}, {quantile: 1, error: 0.01}]\n");
  EXPECT_NE(output.find("beam_exporter.yml:8:"), std::string::npos) << output;
  EXPECT_NE(output.find("quantile must be between 0 and 1"), std::string::npos) << output;
}

TEST(TelemetryIntegrationTest, TcpAndUnixDatagramInputs) {
  TempDir dir;
  int tcp_port = FreeTcpPort();
  std::string sock = dir.File("statsd.sock");
  ExporterProcess e(TelemetryOnly("    listen_tcp: 127.0.0.1:" + std::to_string(tcp_port) + "\n    listen_unixgram: " + sock + "\n"));
  ASSERT_TRUE(e.ready()) << e.Output();
  {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(tcp_port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    std::string lines = "tcp.hits:2|c\r\ntcp.hits:3|c\ntcp.hi";
    ASSERT_EQ(write(fd, lines.data(), lines.size()), static_cast<ssize_t>(lines.size()));
    usleep(50000);
    std::string rest = "ts:5|c\n";
    ASSERT_EQ(write(fd, rest.data(), rest.size()), static_cast<ssize_t>(rest.size()));
    close(fd);
  }
  {
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, sock.c_str(), sizeof a.sun_path - 1);
    std::string d = "unix.hits:4|c";
    ASSERT_EQ(sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a), static_cast<ssize_t>(d.size()));
    // Larger than the 64 KiB receive slot: truncated by the kernel, counted as too_large.
    std::string big = "unix.big:1|c\n" + std::string(70000, 'x');
    ASSERT_EQ(sendto(fd, big.data(), big.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a),
              static_cast<ssize_t>(big.size()));
    close(fd);
  }
  std::string m;
  WaitUntil([&] {
    m = e.Metrics();
    return SampleValue(m, "tcp_hits_total") == 10 && SampleValue(m, "unix_hits_total") == 4;
  }, milliseconds(5000));
  EXPECT_EQ(SampleValue(m, "tcp_hits_total"), 10) << m;
  EXPECT_EQ(SampleValue(m, "unix_hits_total"), 4);
  WaitUntil([&] {
    m = e.Metrics();
    return SampleValue(m, "beam_exporter_telemetry_packets_dropped_total{reason=\"too_large\"}") == 1;
  }, milliseconds(5000));
  EXPECT_EQ(SampleValue(m, "beam_exporter_telemetry_packets_dropped_total{reason=\"too_large\"}"), 1) << m;
  EXPECT_TRUE(std::isnan(SampleValue(m, "unix_big_total")));
}

TEST(TelemetryIntegrationTest, SeveralReadersShareThePortAndMerge) {
  ExporterProcess e(TelemetryOnly("    readers: 3\n"));
  ASSERT_TRUE(e.ready()) << e.Output();
  // Different source ports, so the kernel may hand the datagrams to different readers.
  for (int i = 0; i < 30; ++i) e.Send("multi.hits:1|c\nmulti.level:" + std::to_string(i) + "|g");
  std::string m = MetricsAfterPackets(e, 30);
  EXPECT_EQ(SampleValue(m, "multi_hits_total"), 30) << m;
  EXPECT_EQ(SampleValue(m, "beam_exporter_telemetry_packets_total"), 30);
  EXPECT_FALSE(std::isnan(SampleValue(m, "multi_level")));
}

TEST(TelemetryIntegrationTest, DialectsBucketsAndInlineRulesFromConfig) {
  ExporterProcess e(TelemetryOnly("    dialects: {influxdb: false}\n    default_buckets: [1, 2]\n"
                      "    mappings:\n      - match: phoenix.endpoint.stop.duration\n        name: my_endpoint_seconds\n"
                      "        labels: {}\n"));
  ASSERT_TRUE(e.ready()) << e.Output();
  e.Send("foo,k=v:1|c\nlat:1.5|h\nphoenix.endpoint.stop.duration:0.5|h|#method:GET");
  std::string m = MetricsAfterPackets(e, 1);
  EXPECT_EQ(SampleValue(m, "foo_k_v_total"), 1) << m;  // InfluxDB tags off: part of the name
  EXPECT_EQ(SampleValue(m, "lat_bucket{le=\"1\"}"), 0);
  EXPECT_EQ(SampleValue(m, "lat_bucket{le=\"2\"}"), 1);
  // Inline rules come before the presets' rule for the same name.
  EXPECT_EQ(SampleValue(m, "my_endpoint_seconds_count"), 1);
  EXPECT_TRUE(std::isnan(SampleValue(m, "phoenix_endpoint_request_duration_seconds_count{method=\"GET\",status=\"\"}")));
}

TEST(TelemetryIntegrationTest, BusyUdpPortIsAStartupError) {
  int port = FreeUdpPort();
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ExporterProcess e({.args = {"--no-collector.beam", "--telemetry.listen-udp=127.0.0.1:" + std::to_string(port)},
                     .start = Start::kRefusal});
  close(fd);
  ASSERT_TRUE(e.exit_status().has_value()) << "exporter kept running with its UDP port taken";
  EXPECT_NE(*e.exit_status(), 0);
  EXPECT_NE(e.Output().find("cannot bind UDP"), std::string::npos) << e.Output();
}

TEST(TelemetryIntegrationTest, ExistingUnixgramPathIsAStartupErrorAndLeftAlone) {
  TempDir dir;
  const std::string taken = dir.Write("taken.sock", "someone else's");
  std::string output = RefusedStartOutput("collectors:\n  telemetry:\n    listen_unixgram: " + taken + "\n");
  EXPECT_NE(output.find("already exists"), std::string::npos) << output;
  EXPECT_TRUE(fs::exists(taken));
}

TEST(TelemetryIntegrationTest, MappingFilesRelativeToConfigAndBadRuleRejected) {
  const std::string rule = "mappings:\n  - match: shop.checkout.*\n    name: shop_checkouts\n"
                           "    type: counter\n    labels: {result: \"$1\"}\n";
  {
    ExporterProcess e({.config_yaml = "collectors:\n  telemetry:\n    mapping_files: [maps/mine.yml]\n",
                       .files = {{"maps/mine.yml", rule}},
                       .args = {"--no-collector.beam"},
                       .telemetry_udp = true});
    ASSERT_TRUE(e.ready()) << e.Output();
    e.Send("shop.checkout.ok:1|c");
    EXPECT_TRUE(e.WaitFor("shop_checkouts_total{result=\"ok\"}", 1, milliseconds(5000))) << e.Metrics();
  }
  std::string output = RefusedStartOutput("collectors:\n  telemetry:\n    mapping_files: [maps/bad.yml]\n",
                                          {{"maps/bad.yml", "mappings:\n  - match: a\n    name: x\n    typo_key: 1\n"}});
  EXPECT_NE(output.find("bad.yml:4"), std::string::npos) << output;
  EXPECT_NE(output.find("typo_key"), std::string::npos) << output;
}

TEST(TelemetryIntegrationTest, StopsPromptlyOnSigterm) {
  ExporterProcess e(TelemetryOnly());
  ASSERT_TRUE(e.ready()) << e.Output();
  e.Send("x:1|c");
  e.process().Signal(SIGTERM);
  std::optional<int> status = e.process().Wait(milliseconds(3000));
  ASSERT_TRUE(status.has_value()) << "still running 3 s after SIGTERM";
  EXPECT_EQ(*status, 0) << e.Output();
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The exposition without the samples that change from one scrape to the next (timings and
// the process' own resources).
std::string WithoutScrapeDependentLines(const std::string& exposition) {
  std::istringstream in(exposition);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("process_", 0) == 0 || line.rfind("beam_exporter_scrape_duration_seconds", 0) == 0 ||
        line.rfind("beam_exporter_collector_duration_seconds", 0) == 0) {
      continue;
    }
    out += line + "\n";
  }
  return out;
}

TEST(TelemetryIntegrationTest, GzipScrapeDecompressesToThePlainBody) {
  ExporterProcess e(TelemetryOnly());
  ASSERT_TRUE(e.ready()) << e.Output();
  // Enough series for a body of many 64 KiB chunks, so compression runs across pieces.
  for (int packet = 0; packet < 200; ++packet) {
    std::string datagram;
    for (int i = 0; i < 20; ++i) {
      datagram += "gzip.test.duration:" + std::to_string(i) + "|h|#user:u" + std::to_string(packet * 20 + i) + "\n";
    }
    e.Send(datagram);
  }
  const std::string settled = MetricsAfterPackets(e, 200);
  ASSERT_EQ(SampleValue(settled, "beam_exporter_telemetry_packets_total"), 200) << settled.substr(0, 2000);
  const std::string url = "http://127.0.0.1:" + std::to_string(e.port()) + "/metrics";
  const fs::path plain = e.work_dir().path() / "plain.txt", gzipped = e.work_dir().path() / "body.gz", headers = e.work_dir().path() / "headers.txt";
  CommandResult r = RunCommand({"curl", "-sS", "--fail", "-o", plain.string(), url}, milliseconds(10000));
  ASSERT_EQ(r.status, 0) << r.output;
  r = RunCommand({"curl", "-sS", "--fail", "-H", "Accept-Encoding: gzip", "-D", headers.string(), "-o",
                  gzipped.string(), url},
                 milliseconds(10000));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string head = ReadFile(headers);
  EXPECT_NE(head.find("Content-Encoding: gzip"), std::string::npos) << head;
  EXPECT_NE(head.find("Transfer-Encoding: chunked"), std::string::npos) << head;
  const std::string plain_body = ReadFile(plain);
  const std::string compressed = ReadFile(gzipped);
  bool ok = false;
  const std::string inflated = Gunzip(compressed, &ok);
  ASSERT_TRUE(ok) << "the gzip body does not inflate (" << compressed.size() << " bytes)";
  EXPECT_GT(plain_body.size(), 1000000u);
  EXPECT_LT(compressed.size(), plain_body.size() / 4);
  EXPECT_EQ(SampleValue(plain_body, "gzip_test_duration_count{user=\"u3999\"}"), 1);
  EXPECT_EQ(WithoutScrapeDependentLines(inflated), WithoutScrapeDependentLines(plain_body));
}

TEST(TelemetryIntegrationTest, HeadOnMetricsGivesTheHeadersOfAGetAndNoBody) {
  ExporterProcess e(TelemetryOnly());
  ASSERT_TRUE(e.ready()) << e.Output();
  const std::string url = "http://127.0.0.1:" + std::to_string(e.port()) + "/metrics";
  // Then a GET on the same connection: a HEAD answer that carried a body would garble it.
  CommandResult r = RunCommand({"curl", "-sS", "--fail", "--head", "-H", "Accept-Encoding: gzip", url, "--next", "-sS",
                                "--fail", url},
                               milliseconds(10000));
  ASSERT_EQ(r.status, 0) << r.output;
  const size_t body_at = r.output.find("\r\n\r\n");
  ASSERT_NE(body_at, std::string::npos) << r.output;
  const std::string head = r.output.substr(0, body_at);
  EXPECT_NE(head.find("HTTP/1.1 200 OK"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Encoding: gzip"), std::string::npos) << head;
  EXPECT_EQ(head.find("Content-Length: 0"), std::string::npos) << head;
  const std::string get_body = r.output.substr(body_at + 4);
  EXPECT_EQ(get_body.rfind("# HELP ", 0), 0u) << get_body.substr(0, 300);
  EXPECT_NE(get_body.find("beam_exporter_build_info"), std::string::npos);
}

TEST(TelemetryIntegrationTest, ScrapesReuseTheConnection) {
  ExporterProcess e(TelemetryOnly());
  ASSERT_TRUE(e.ready()) << e.Output();
  const std::string url = "http://127.0.0.1:" + std::to_string(e.port()) + "/metrics";
  // One curl, three transfers over HTTP/1.1 (plain, gzip, plain): new connections per transfer.
  CommandResult r = RunCommand({"curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{num_connects}\n", url, "-o",
                                "/dev/null", "--compressed", "-w", "%{num_connects}\n", url, "-o", "/dev/null", "-w",
                                "%{num_connects}\n", url},
                               milliseconds(10000));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "1\n0\n0\n");
}

}  // namespace
}  // namespace beam_exporter::testing
