// The real beam_exporter binary on a loopback port: flags, endpoints, reload, shutdown, auth, TLS.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "tests/support/bcrypt.h"
#include "tests/support/exporter_process.h"
#include "tests/support/net.h"
#include "tests/support/paths.h"
#include "tests/support/prometheus_server.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace beam_exporter::testing {
namespace {

using std::chrono::milliseconds;

using Start = ExporterProcess::Start;

// The exporter with no collector, so only the daemon's own endpoints and metrics are there.
ExporterProcess::Options DaemonOnly(std::vector<std::string> args = {}, std::string config_yaml = "",
                                    Start start = Start::kReady) {
  args.insert(args.begin(), {"--no-collector.beam", "--no-collector.telemetry"});
  return {.config_yaml = std::move(config_yaml), .args = std::move(args), .start = start};
}

TEST(DaemonTest, ServesBuildInfoAndProcessMetrics) {
  ExporterProcess e(DaemonOnly());
  ASSERT_TRUE(e.ready()) << e.Output();
  HttpResponse r = HttpGet(e.port(), "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.headers["content-type"].find("text/plain"), std::string::npos);
  EXPECT_NE(r.body.find("beam_exporter_build_info{compiler=\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(",version=\"0.1.0\"} 1"), std::string::npos);
  for (const char* m : {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
                        "process_max_fds", "process_start_time_seconds", "process_virtual_memory_bytes"}) {
    EXPECT_FALSE(std::isnan(SampleValue(r.body, m))) << m;
  }
  EXPECT_GT(SampleValue(r.body, "process_resident_memory_bytes"), 0);
  EXPECT_EQ(SampleValue(r.body, "beam_exporter_config_last_reload_successful"), 1);
}

TEST(DaemonTest, MetricsPassPromtoolLint) {
  ExporterProcess e(DaemonOnly());
  ASSERT_TRUE(e.ready()) << e.Output();
  CommandResult r = PromtoolCheckMetrics(e.Metrics());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "");
}

TEST(DaemonTest, LandingHealthReadyAndNotFound) {
  ExporterProcess e(DaemonOnly({"--web.telemetry-path=/prom"}));
  ASSERT_TRUE(e.ready()) << e.Output();
  HttpResponse landing = HttpGet(e.port(), "/");
  EXPECT_EQ(landing.status, 200);
  EXPECT_NE(landing.body.find("href=\"/prom\""), std::string::npos) << landing.body;
  EXPECT_EQ(HttpGet(e.port(), "/-/healthy").status, 200);
  EXPECT_EQ(HttpGet(e.port(), "/prom").status, 200);
  EXPECT_EQ(HttpGet(e.port(), "/metrics").status, 404);
  EXPECT_EQ(HttpGet(e.port(), "/-/reload").status, 405);
}

TEST(DaemonTest, HelpVersionAndConfigCheck) {
  CommandResult help = RunCommand({kExporterBinary, "--help"}, milliseconds(10000));
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.output.find("--web.listen-address"), std::string::npos);
  EXPECT_NE(help.output.find("--[no-]collector.beam"), std::string::npos);
  CommandResult version = RunCommand({kExporterBinary, "--version"}, milliseconds(10000));
  EXPECT_EQ(version.status, 0);
  EXPECT_EQ(version.output.rfind("beam_exporter, version 0.1.0", 0), 0u) << version.output;

  TempDir dir;
  std::string good = dir.Write("good.yml", "web:\n  telemetry_path: /metrics\n");
  CommandResult ok = RunCommand({kExporterBinary, "--config.file=" + good, "--config.check"}, milliseconds(10000));
  EXPECT_EQ(ok.status, 0) << ok.output;

  std::string typo = dir.Write("typo.yml", "web:\n  telemetry_path: /metrics\n  listen_adress: ':1'\n");
  CommandResult bad = RunCommand({kExporterBinary, "--config.file=" + typo, "--config.check"}, milliseconds(10000));
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.output.find(typo + ":3:3: unknown key web.listen_adress"), std::string::npos) << bad.output;

  CommandResult unknown_flag = RunCommand({kExporterBinary, "--web.listen-adress=:1"}, milliseconds(10000));
  EXPECT_EQ(unknown_flag.status, 2);
  EXPECT_NE(unknown_flag.output.find("unknown flag --web.listen-adress"), std::string::npos);
}

TEST(DaemonTest, BadConfigAtStartExitsNonZero) {
  ExporterProcess e(DaemonOnly({}, "log:\n  level: loud\n", Start::kRefusal));
  EXPECT_EQ(e.exit_status(), 1) << e.Output();
  EXPECT_NE(e.Output().find("key log.level: expected debug, info, warn or error, got 'loud'"), std::string::npos)
      << e.Output();
}

TEST(DaemonTest, SighupWithBrokenConfigKeepsTheOldOne) {
  ExporterProcess e(DaemonOnly({}, "log:\n  level: info\n"));
  const std::string& path = e.config_path();
  ASSERT_TRUE(e.ready()) << e.Output();

  std::ofstream(path) << "log:\n  level: info\n  bogus: 1\n";
  e.process().Signal(SIGHUP);
  ASSERT_TRUE(WaitUntil([&] { return SampleValue(e.Metrics(), "beam_exporter_config_last_reload_successful") == 0; },
                        milliseconds(10000)));
  // Still serving, still ready, failure counted and logged with the reason.
  std::string metrics = e.Metrics();
  EXPECT_EQ(SampleValue(metrics, "beam_exporter_config_reloads_total{result=\"failure\"}"), 1);
  EXPECT_EQ(HttpGet(e.port(), "/-/ready").status, 200);
  EXPECT_NE(e.Output().find("unknown key log.bogus"), std::string::npos) << e.Output();

  // A fixed file is taken by POST /-/reload.
  std::ofstream(path) << "log:\n  level: debug\n";
  HttpResponse reload = HttpRequest(e.port(), "POST", "/-/reload");
  EXPECT_EQ(reload.status, 200) << reload.body;
  metrics = e.Metrics();
  EXPECT_EQ(SampleValue(metrics, "beam_exporter_config_last_reload_successful"), 1);
  EXPECT_EQ(SampleValue(metrics, "beam_exporter_config_reloads_total{result=\"success\"}"), 2);

  // A broken file through POST answers 500 with the reason.
  std::ofstream(path) << "log: [\n";
  HttpResponse rejected = HttpRequest(e.port(), "POST", "/-/reload");
  EXPECT_EQ(rejected.status, 500);
  EXPECT_NE(rejected.body.find("invalid YAML"), std::string::npos) << rejected.body;
}

TEST(DaemonTest, ReloadThatCannotStartRollsBack) {
  const int udp_old = FreeUdpPort();
  // A port someone else holds: the new configuration is valid but cannot start.
  int busy = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(busy, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(busy, reinterpret_cast<sockaddr*>(&addr), &len);
  const int udp_busy = ntohs(addr.sin_port);

  ExporterProcess exporter({.config_yaml = "collectors:\n  beam: {enabled: false}\n  telemetry:\n    listen_udp: 127.0.0.1:" +
                                           std::to_string(udp_old) + "\n"});
  ASSERT_TRUE(exporter.ready()) << exporter.Output();
  const int port = exporter.port();

  std::ofstream(exporter.config_path()) << "collectors:\n  beam: {enabled: false}\n  telemetry:\n    listen_udp: 127.0.0.1:"
                      << udp_busy << "\n";
  HttpResponse reload = HttpRequest(port, "POST", "/-/reload");
  EXPECT_EQ(reload.status, 500) << reload.body;
  EXPECT_NE(reload.body.find("failed to start"), std::string::npos) << reload.body;

  // The previous configuration is running again: its UDP port takes lines.
  SendUdp(udp_old, "rollback.check:1|c");
  std::string metrics;
  EXPECT_TRUE(WaitUntil([&] {
    metrics = HttpGet(port, "/metrics").body;
    return SampleValue(metrics, "rollback_check_total") == 1;
  }, milliseconds(5000))) << metrics << exporter.Output();
  EXPECT_EQ(SampleValue(metrics, "beam_exporter_config_last_reload_successful"), 0);
  EXPECT_EQ(SampleValue(metrics, "beam_exporter_collector_success{collector=\"telemetry\"}"), 1);
  close(busy);
}

TEST(DaemonTest, SigtermStopsCleanly) {
  ExporterProcess e(DaemonOnly());
  ASSERT_TRUE(e.ready()) << e.Output();
  auto start = std::chrono::steady_clock::now();
  e.process().Signal(SIGTERM);
  // The requirement: a clean exit within one second of SIGTERM.
  auto status = e.process().Wait(milliseconds(1000));
  auto took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  ASSERT_TRUE(status.has_value()) << "did not exit within 1 s";
  EXPECT_EQ(*status, 0);
  std::cout << "[ measured ] SIGTERM to exit: " << took.count() << " ms\n";
  EXPECT_NE(e.Output().find("msg=\"shutting down\" signal=SIGTERM"), std::string::npos);
}

TEST(DaemonTest, JsonLogFormat) {
  ExporterProcess e(DaemonOnly({"--log.format=json"}));
  ASSERT_TRUE(e.ready()) << e.Output();
  std::string out = e.Output();
  EXPECT_NE(out.find("{\"ts\":\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"msg\":\"listening\""), std::string::npos) << out;
}

TEST(DaemonTest, BasicAuthFromWebConfig) {
  TempDir dir;
  std::string web = dir.Write("web.yml", "basic_auth_users:\n  prom: " + BcryptHash("scrape-me") + "\n");
  ExporterProcess e(DaemonOnly({"--web.config.file=" + web}));
  // Probes stay open for kubelet, which sends no credentials.
  ASSERT_TRUE(e.ready()) << e.Output();
  EXPECT_EQ(HttpGet(e.port(), "/-/healthy").status, 200);
  HttpResponse denied = HttpGet(e.port(), "/metrics");
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(denied.headers["www-authenticate"], "Basic realm=\"beam_exporter\"");
  // prom:scrape-me and prom:wrong in base64.
  HttpResponse ok = HttpRequest(e.port(), "GET", "/metrics", milliseconds(5000),
                                {{"Authorization", "Basic cHJvbTpzY3JhcGUtbWU="}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("beam_exporter_build_info"), std::string::npos);
  HttpResponse wrong = HttpRequest(e.port(), "GET", "/metrics", milliseconds(5000),
                                   {{"Authorization", "Basic cHJvbTp3cm9uZw=="}});
  EXPECT_EQ(wrong.status, 401);
}

TEST(DaemonTest, TlsFromWebConfig) {
  TempDir tmp;
  const std::string dir = tmp.path().string();
  CommandResult gen = RunCommand({"sh", "-c", "openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
                                  "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " + dir +
                                  "/key.pem -out " + dir + "/cert.pem"},
                                 milliseconds(30000));
  ASSERT_EQ(gen.status, 0) << gen.output;
  std::string web = tmp.Write("web.yml", "tls_server_config:\n  cert_file: " + dir + "/cert.pem\n  key_file: " + dir + "/key.pem\n");
  ExporterProcess e(DaemonOnly({"--web.config.file=" + web}, "", Start::kNoWait));
  const std::string url = "https://127.0.0.1:" + std::to_string(e.port()) + "/metrics";
  CommandResult curl;
  ASSERT_TRUE(WaitUntil([&] {
    curl = RunCommand({"curl", "-sS", "--max-time", "5", "--cacert", dir + "/cert.pem", url}, milliseconds(10000));
    return curl.status == 0;
  }, milliseconds(10000))) << curl.output << e.Output();
  EXPECT_NE(curl.output.find("beam_exporter_build_info"), std::string::npos);
  // Plain HTTP on the TLS port gets no metrics.
  EXPECT_NE(HttpGet(e.port(), "/metrics", milliseconds(2000)).status, 200);
}

}  // namespace
}  // namespace beam_exporter::testing
