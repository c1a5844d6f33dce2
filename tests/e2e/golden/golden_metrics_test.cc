// Golden output: a real /metrics from the real binary attached to a real node, with telemetry
// flowing, is linted by promtool and its shape (every family, type and label set) is diffed
// against tests/e2e/golden/metrics.golden. Values and run-specific label values (node and
// process names, pids, versions) are masked; everything else must match exactly.
//
// After an intended change of the exposition: BEAM_EXPORTER_UPDATE_GOLDEN=1 ctest -R Golden
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "tests/support/erlang_node.h"
#include "tests/support/exporter_process.h"
#include "tests/support/golden_file.h"
#include "tests/support/net.h"
#include "tests/support/paths.h"
#include "tests/support/prometheus_server.h"
#include "tests/support/subprocess.h"

namespace beam_exporter::testing {
namespace {

using std::chrono::milliseconds;

// Label values that differ between runs and machines.
const std::set<std::string> kMaskedLabels = {"node",  "pid",   "process",      "current_function", "table",
                                             "owner", "otp_release", "erts_version", "version",
                                             "revision", "compiler"};

// One line per sample: name{label="value",...} with masked values, or "# TYPE name type".
std::set<std::string> Shape(const std::string& exposition) {
  std::set<std::string> out;
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      out.insert(line);
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    size_t brace = line.find('{');
    size_t space = line.rfind(' ');
    if (brace == std::string::npos || brace > space) {
      out.insert(line.substr(0, space));
      continue;
    }
    std::string shaped = line.substr(0, brace + 1);
    size_t i = brace + 1;
    bool first = true;
    while (i < line.size() && line[i] != '}') {
      size_t eq = line.find('=', i);
      std::string name = line.substr(i, eq - i);
      size_t v = eq + 2;  // after ="
      std::string value;
      while (v < line.size() && line[v] != '"') {
        if (line[v] == '\\') value.push_back(line[v++]);
        value.push_back(line[v++]);
      }
      shaped += (first ? "" : ",") + name + "=\"" + (kMaskedLabels.count(name) ? "*" : value) + "\"";
      first = false;
      i = v + 1;
      if (i < line.size() && line[i] == ',') ++i;
    }
    out.insert(shaped + "}");
  }
  return out;
}

// The shipped example configuration with a fast reading cadence, so that every family
// (including the ones read every Nth time and the utilisation that needs two readings) is there.
std::string TestConfig() {
  std::ifstream in(std::string(kSourceDir) + "/config/beam_exporter.yml");
  std::stringstream text;
  text << in.rdbuf();
  std::string config = text.str();
  auto replace = [&](const std::string& from, const std::string& to) {
    for (size_t at = config.find(from); at != std::string::npos; at = config.find(from, at + to.size())) {
      config.replace(at, from.size(), to);
    }
  };
  replace("interval: 10s", "interval: 500ms");
  replace("rpc_timeout: 2s", "rpc_timeout: 400ms");
  replace("cpu_budget: 0.005 ", "cpu_budget: 1 ");
  replace("- mappings/", "- " + std::string(kSourceDir) + "/config/mappings/");
  return config;
}

TEST(GoldenMetricsTest, RealExpositionMatchesGoldenAndPassesPromtool) {
  ErlangNode node;
  // A registered process with a known backlog, so the top-mailbox families always have a row.
  node.Eval("Pid = spawn(fun() -> receive never -> ok end end), register(golden_backlog, Pid), "
            "[Pid ! {msg, I} || I <- lists:seq(1, 5)], ok.");
  ExporterProcess exporter({.config_yaml = TestConfig(),
                            .args = {"--beam.node=" + node.name(), "--beam.cookie-file=" + node.cookie_file()},
                            .telemetry_udp = true});
  ASSERT_TRUE(exporter.WaitFor("beam_up{node=\"" + node.name() + "\"}", 1, milliseconds(30000)))
      << exporter.Output();

  // telemetry_metrics_statsd's :datadog formatter, as a Phoenix app sends it.
  exporter.Send(
      "phoenix.router_dispatch.stop.duration:12.5|h|#method:GET,route:/users/:id,status:200\n"
      "phoenix.socket_connected.count:1|c|#transport:websocket,result:ok\n"
      "my_app.jobs.queue_depth:42|g\n"
      "not a statsd line\n");
  std::string metrics;
  ASSERT_TRUE(WaitUntil([&] {
    metrics = exporter.Metrics();
    return metrics.find("my_app_jobs_queue_depth") != std::string::npos &&
           metrics.find("erlang_vm_scheduler_utilization{") != std::string::npos &&
           metrics.find("erlang_vm_top_process_memory_bytes{") != std::string::npos;
  }, milliseconds(15000))) << metrics;

  CommandResult lint = PromtoolCheckMetrics(metrics);
  EXPECT_EQ(lint.status, 0) << lint.output;
  EXPECT_EQ(lint.output, "") << "promtool lint findings";

  std::string diff = GoldenDiff(std::string(kSourceDir) + "/tests/e2e/golden/metrics.golden", Shape(metrics));
  EXPECT_EQ(diff, "") << "exposition differs from the golden file";
}

}  // namespace
}  // namespace beam_exporter::testing
