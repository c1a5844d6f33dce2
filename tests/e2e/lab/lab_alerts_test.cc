// Issue 8's proof: for each production fault the lab app reproduces, the bundled alert fires in a
// real Prometheus that scrapes a real beam_exporter attached to the lab node, naming the culprit,
// and the signal recovers when the fault is switched off.
//
// The rules are the bundled ones with only `for:` cut to kFor (ShortenRuleFile) and a 1 s
// evaluation interval. Alerts on a gauge (mailbox, memory, ETS, run queue, node down) must also
// resolve after the fault; alerts on a windowed increase (crash reports, restarts, disconnects)
// keep firing until their window has passed, so for those the test asserts that the underlying
// rate went back to zero.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "tests/support/erlang_node.h"
#include "tests/support/exporter_process.h"
#include "tests/support/net.h"
#include "tests/support/paths.h"
#include "tests/support/prometheus_server.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace beam_exporter::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kLabWorkDir = LAB_WORK_DIR;
constexpr const char* kFor = "5s";

std::string Path(const std::string& relative) { return std::string(kSourceDir) + "/" + relative; }

// Everything the scenarios share: the lab node, the exporter and Prometheus.
class Lab {
 public:
  Lab() : node_("lab_" + RandomToken(8) + "@127.0.0.1"), http_port_(FreeTcpPort()), udp_port_(FreeUdpPort()) {
    std::filesystem::create_directories(dir_.File("rules"));
    cookie_file_ = dir_.Write("cookie", RandomToken(20));
    chmod(cookie_file_.c_str(), 0600);
  }

  // Starts (or restarts) the lab node with `extra` run-lab arguments; waits for its HTTP API
  // unless it is started to fail.
  bool StartNode(const std::vector<std::string>& extra = {}, bool wait = true) {
    lab_.reset();
    std::vector<std::string> argv = {Path("tests/lab/run-lab"), "--name", node_, "--cookie-file", cookie_file_,
                                     "--http-port", std::to_string(http_port_), "--telemetry-port",
                                     std::to_string(udp_port_), "--ws-clients", "20", "--rps", "20",
                                     "--work-dir", kLabWorkDir};
    argv.insert(argv.end(), extra.begin(), extra.end());
    lab_ = std::make_unique<Subprocess>(argv);
    if (!wait) return true;
    // run-lab exits at once when a tool or file it needs is missing: stop waiting then.
    WaitUntil([&] { return !lab_->Running() || HttpGet(http_port_, "/healthz", milliseconds(500)).status == 200; },
              milliseconds(180000));
    return lab_->Running() && HttpGet(http_port_, "/healthz", milliseconds(500)).status == 200;
  }

  bool StartExporterAndPrometheus() {
    exporter_ = std::make_unique<ExporterProcess>(ExporterProcess::Options{
        .config_yaml = "collectors:\n  beam:\n    node: " + node_ + "\n    cookie_file: " + cookie_file_ +
                       "\n    interval: 1s\n    rpc_timeout: 500ms\n    cpu_budget: 1\n"
                       "  telemetry:\n    listen_udp: 127.0.0.1:" + std::to_string(udp_port_) + "\n    mapping_files: [" +
                       Path("config/mappings/phoenix.yml") + ", " + Path("config/mappings/live_view.yml") + ", " +
                       Path("config/mappings/ecto.yml") + ", " + Path("config/mappings/logger.yml") + "]\n",
        .start = ExporterProcess::Start::kNoWait});
    PrometheusServer::Options options;
    options.targets = {"127.0.0.1:" + std::to_string(exporter_->port())};
    for (const auto& entry : std::filesystem::directory_iterator(Path("deploy/prometheus/rules"))) {
      if (entry.path().extension() == ".yml") {
        options.rule_files.push_back(ShortenRuleFile(entry.path(), dir_.File("rules"), kFor));
      }
    }
    prometheus_ = std::make_unique<PrometheusServer>(options);
    return prometheus_->WaitReady();
  }

  bool Fault(const std::string& name, bool on) {
    return RunCommand({Path("tests/lab/fault"), name, on ? "on" : "off", "--http-port", std::to_string(http_port_)},
                      milliseconds(10000)).status == 0;
  }

  // A PromQL query's first value, or NaN when it returns nothing.
  double Scalar(const std::string& promql) {
    YAML::Node result = prometheus_->Query(promql);
    if (!result.IsDefined() || !result.IsSequence() || result.size() == 0) return NAN;
    return std::stod(result[0]["value"][1].as<std::string>());
  }

  // Firing alerts named `alert` whose labels include all of `labels`.
  bool Firing(const std::string& alert, const std::map<std::string, std::string>& labels = {}) {
    for (const YAML::Node& a : prometheus_->FiringAlerts(alert)) {
      bool match = true;
      for (const auto& [k, v] : labels) match = match && a["labels"][k].as<std::string>("") == v;
      if (match) return true;
    }
    return false;
  }

  std::vector<std::string> AllFiring() {
    std::vector<std::string> out;
    YAML::Node alerts = prometheus_->Alerts();
    if (!alerts.IsDefined() || !alerts.IsSequence()) return out;
    for (const auto& a : alerts) {
      if (a["state"].as<std::string>("") == "firing") out.push_back(a["labels"]["alertname"].as<std::string>(""));
    }
    return out;
  }

  // Prints the firing alert (labels and description) and the series of `promql`, as evidence for
  // docs/incident-lab.md.
  void PrintEvidence(const std::string& alert, const std::string& promql) {
    for (const YAML::Node& a : prometheus_->FiringAlerts(alert)) {
      std::cout << "[ evidence ] ALERTS{";
      bool first = true;
      for (const auto& kv : a["labels"]) {
        std::cout << (first ? "" : ",") << kv.first.as<std::string>() << "=\"" << kv.second.as<std::string>() << "\"";
        first = false;
      }
      std::cout << "} " << a["annotations"]["description"].as<std::string>("") << "\n";
    }
    YAML::Node result = prometheus_->Query(promql);
    if (!result.IsDefined() || !result.IsSequence()) return;
    for (const auto& r : result) {
      std::cout << "[ evidence ] " << r["metric"]["__name__"].as<std::string>("") << "{";
      bool first = true;
      for (const auto& kv : r["metric"]) {
        if (kv.first.as<std::string>() == "__name__") continue;
        std::cout << (first ? "" : ",") << kv.first.as<std::string>() << "=\"" << kv.second.as<std::string>() << "\"";
        first = false;
      }
      std::cout << "} " << r["value"][1].as<std::string>() << "\n";
    }
  }

  std::string Logs() { return (lab_ ? lab_->Output() : "") + (exporter_ ? exporter_->Output() : ""); }
  const std::string& node() const { return node_; }

 private:
  std::string node_;
  TempDir dir_;  // the cookie file and the shortened rules
  std::string cookie_file_;
  int http_port_, udp_port_;
  std::unique_ptr<Subprocess> lab_;
  std::unique_ptr<ExporterProcess> exporter_;
  std::unique_ptr<PrometheusServer> prometheus_;
};

Lab* lab = nullptr;

class LabAlertsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    lab = new Lab();
    ASSERT_TRUE(lab->StartNode()) << lab->Logs();
    ASSERT_TRUE(lab->StartExporterAndPrometheus()) << lab->Logs();
    ASSERT_TRUE(WaitUntil([] { return lab->Scalar("beam_up") == 1; }, milliseconds(60000))) << lab->Logs();
  }
  static void TearDownTestSuite() {
    delete lab;
    lab = nullptr;
  }

  // Switches `fault` on, waits for `alert` with `labels` to fire, switches it off and waits for
  // `recovered`. Reports how long each phase took.
  // `evidence`: a PromQL query whose series are printed when the alert fires.
  void Scenario(const std::string& fault, const std::string& alert, const std::map<std::string, std::string>& labels,
                seconds fire_within, const std::function<bool()>& recovered, seconds recover_within,
                const std::string& evidence) {
    ASSERT_FALSE(lab->Firing(alert)) << alert << " fires before " << fault << " is switched on";
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(lab->Fault(fault, true)) << lab->Logs();
    const bool fired = WaitUntil([&] { return lab->Firing(alert, labels); }, fire_within);
    const auto t1 = std::chrono::steady_clock::now();
    if (fired) lab->PrintEvidence(alert, evidence);
    ASSERT_TRUE(lab->Fault(fault, false));
    EXPECT_TRUE(fired) << alert << " did not fire within " << fire_within.count() << " s of " << fault;
    const bool back = WaitUntil(recovered, recover_within);
    const auto t2 = std::chrono::steady_clock::now();
    EXPECT_TRUE(back) << fault << " did not recover within " << recover_within.count() << " s";
    std::cout << "[ measured ] " << fault << ": " << alert << " firing after "
              << std::chrono::duration_cast<milliseconds>(t1 - t0).count() << " ms, recovered "
              << std::chrono::duration_cast<milliseconds>(t2 - t1).count() << " ms after switching off\n";
  }
};

TEST_F(LabAlertsTest, HealthyBaselineFiresNothing) {
  // Long enough for any alert with the shortened `for:` to have fired on healthy traffic.
  std::this_thread::sleep_for(seconds(20));
  EXPECT_GT(lab->Scalar("sum(rate(phoenix_http_request_duration_seconds_count[10s]))"), 5) << "no HTTP traffic seen";
  std::vector<std::string> firing = lab->AllFiring();
  std::string names;
  for (const auto& n : firing) names += n + " ";
  EXPECT_TRUE(firing.empty()) << "firing on a healthy lab: " << names;
}

// Before the GenServer timeouts, whose /slow 504s may also raise the 5xx ratio: a controller that
// raises ends in [:phoenix, :router_dispatch, :exception], and those 500s count in the ratio.
TEST_F(LabAlertsTest, RaisingControllerFiresTheHttpErrorRate) {
  Scenario("controller_raise", "PhoenixHttpErrorRateHigh", {}, seconds(90),
           [] {
             return lab->Scalar("sum(rate(phoenix_http_request_exceptions_total[5s]))") == 0 &&
                    lab->Scalar("sum(rate(phoenix_http_request_duration_seconds_count{status=~\"5..\"}[5s]))") == 0;
           },
           seconds(60),
           "sum by (route, kind, reason) (rate(phoenix_http_request_exceptions_total[1m]))");
}

TEST_F(LabAlertsTest, MailboxOverflowNamesTheConsumer) {
  Scenario("mailbox_overflow", "BeamProcessMailboxBacklog", {{"process", "Elixir.Lab.MailboxConsumer"}}, seconds(60),
           [] { return !lab->Firing("BeamProcessMailboxBacklog"); }, seconds(60),
           "topk(1, erlang_vm_top_process_message_queue_length)");
}

TEST_F(LabAlertsTest, GenServerTimeoutsFire) {
  Scenario("genserver_timeout", "BeamGenServerCallTimeouts", {{"server", "Lab.SlowServer"}}, seconds(60),
           [] { return lab->Scalar("sum(rate(beam_crash_reports_total{reason=\"timeout\"}[5s]))") == 0; },
           seconds(60), "beam_crash_reports_total{reason=\"timeout\"}");
}

TEST_F(LabAlertsTest, RestartStormNamesSupervisorAndChild) {
  Scenario("restart_storm", "BeamSupervisorRestartStorm",
           {{"supervisor", "Lab.FlakySupervisor"}, {"child", "flaky_worker"}}, seconds(60),
           [] { return lab->Scalar("sum(rate(beam_supervisor_restarts_total[5s]))") == 0; }, seconds(60),
           "beam_supervisor_restarts_total");
}

TEST_F(LabAlertsTest, WebSocketDisconnectsFire) {
  Scenario("websocket_disconnect", "PhoenixSocketDisconnectSpike", {{"transport", "websocket"}}, seconds(180),
           [] {
             return lab->Scalar("sum(rate(phoenix_socket_disconnected_total{reason=\"heartbeat_timeout\"}[5s]))") == 0;
           },
           seconds(60), "phoenix_socket_disconnected_total{reason=\"heartbeat_timeout\"}");
}

TEST_F(LabAlertsTest, MemoryLeakNamesTheProcess) {
  Scenario("memory_leak", "BeamProcessMemoryHigh", {{"process", "Elixir.Lab.LeakyServer"}}, seconds(180),
           [] { return !lab->Firing("BeamProcessMemoryHigh"); }, seconds(60),
           "topk(1, erlang_vm_top_process_memory_bytes)");
}

TEST_F(LabAlertsTest, EtsBloatNamesTheTable) {
  Scenario("ets_bloat", "BeamEtsTableLarge", {{"table", "lab_cache"}}, seconds(180),
           [] { return !lab->Firing("BeamEtsTableLarge"); }, seconds(60),
           "erlang_vm_ets_table_memory_bytes{table=\"lab_cache\"}");
}

TEST_F(LabAlertsTest, OverloadFires) {
  Scenario("overload", "BeamRunQueueHigh", {}, seconds(90), [] { return !lab->Firing("BeamRunQueueHigh"); },
           seconds(60), "erlang_vm_statistics_run_queues_length");
}

TEST_F(LabAlertsTest, CrashLoopAfterADeployIsNamed) {
  ASSERT_FALSE(lab->Firing("BeamNodeCrashLooping"));
  const auto t0 = std::chrono::steady_clock::now();
  // A release that boots, then dies after a few seconds, restarted each time (as Kubernetes does).
  ASSERT_TRUE(lab->StartNode({"--halt-after", "6", "--restart"})) << lab->Logs();
  const bool fired = WaitUntil([] { return lab->Firing("BeamNodeCrashLooping", {{"node", lab->node()}}); },
                               milliseconds(180000));
  EXPECT_TRUE(fired) << "BeamNodeCrashLooping did not fire\n" << lab->Logs();
  if (fired) lab->PrintEvidence("BeamNodeCrashLooping", "resets(erlang_vm_uptime_seconds[30m])");
  const auto t1 = std::chrono::steady_clock::now();
  // A release that stays up: the node is read again and its uptime grows past a crash cycle.
  // (The alert itself looks back 30 minutes, so it resolves only after that window.)
  ASSERT_TRUE(lab->StartNode()) << lab->Logs();
  EXPECT_TRUE(WaitUntil([] { return lab->Scalar("beam_up") == 1 && lab->Scalar("erlang_vm_uptime_seconds") > 15; },
                        milliseconds(90000)))
      << lab->Logs();
  std::cout << "[ measured ] crash loop: BeamNodeCrashLooping firing after "
            << std::chrono::duration_cast<milliseconds>(t1 - t0).count() << " ms\n";
}

TEST_F(LabAlertsTest, BadConfigAtBootIsANodeDown) {
  ASSERT_FALSE(lab->Firing("BeamNodeDown"));
  const auto t0 = std::chrono::steady_clock::now();
  // The release restarted with a required environment variable missing: it never boots.
  ASSERT_TRUE(lab->StartNode({"--bad-config", "--restart"}, /*wait=*/false));
  const bool fired = WaitUntil([] { return lab->Firing("BeamNodeDown", {{"node", lab->node()}}); }, milliseconds(90000));
  EXPECT_TRUE(fired) << "BeamNodeDown did not fire\n" << lab->Logs();
  if (fired) lab->PrintEvidence("BeamNodeDown", "beam_up");
  const auto t1 = std::chrono::steady_clock::now();
  // Fixed configuration: the node comes back, the exporter reconnects, the alert resolves.
  ASSERT_TRUE(lab->StartNode()) << lab->Logs();
  EXPECT_TRUE(WaitUntil([] { return lab->Scalar("beam_up") == 1 && !lab->Firing("BeamNodeDown"); },
                        milliseconds(90000)))
      << lab->Logs();
  std::cout << "[ measured ] bad_config: BeamNodeDown firing after "
            << std::chrono::duration_cast<milliseconds>(t1 - t0).count() << " ms, resolved "
            << std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t1).count()
            << " ms after the fixed release started\n";
}

}  // namespace
}  // namespace beam_exporter::testing
