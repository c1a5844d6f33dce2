// The incident lab app as the lab test and the demo use it: started by tests/lab/run-lab as a
// real named node, read by a real beam_exporter (BEAM collector over distribution + telemetry
// from the lab's forwarder), a fault switched by tests/lab/fault, and its culprit named on
// /metrics.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>

#include "tests/support/erlang_node.h"
#include "tests/support/exporter_process.h"
#include "tests/support/net.h"
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace beam_exporter::testing {
namespace {

using std::chrono::milliseconds;

// Where run-lab builds the lab app (set by CMakeLists.txt).
inline constexpr const char* kLabWorkDir = LAB_WORK_DIR;

const std::string kConsumerQueue =
    "erlang_vm_top_process_message_queue_length{node=\"NODE\",process=\"Elixir.Lab.MailboxConsumer\"";

// The value of the first series starting with `prefix` (labels may follow), or NaN.
double FirstValue(const std::string& exposition, const std::string& prefix) {
  size_t at = exposition.find("\n" + prefix);
  if (at == std::string::npos) return NAN;
  size_t line_end = exposition.find('\n', at + 1);
  std::string line = exposition.substr(at + 1, line_end - at - 1);
  return std::stod(line.substr(line.rfind(' ') + 1));
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  return text.replace(text.find(from), from.size(), to);
}

TEST(LabSmokeTest, RunLabNodeIsReadAndAMailboxFaultNamesItsConsumer) {
  std::filesystem::create_directories(kLabWorkDir);
  const std::string node = "lab_" + RandomToken(8) + "@127.0.0.1";
  TempDir dir;
  const std::string cookie_file = dir.Write("cookie", RandomToken(20));
  chmod(cookie_file.c_str(), 0600);
  const int http_port = FreeTcpPort();
  const int udp_port = FreeUdpPort();

  Subprocess lab({std::string(kSourceDir) + "/tests/lab/run-lab", "--name", node, "--cookie-file", cookie_file,
                  "--http-port", std::to_string(http_port), "--telemetry-port", std::to_string(udp_port),
                  "--ws-clients", "5", "--rps", "20", "--work-dir", kLabWorkDir});
  // The first start compiles the app; run-lab exits at once when a tool or file it needs is missing.
  WaitUntil([&] { return !lab.Running() || HttpGet(http_port, "/healthz", milliseconds(500)).status == 200; },
            milliseconds(180000));
  ASSERT_TRUE(lab.Running()) << "run-lab exited before the lab answered:\n" << lab.Output();
  ASSERT_EQ(HttpGet(http_port, "/healthz", milliseconds(500)).status, 200) << lab.Output();

  ExporterProcess exporter({.config_yaml = "collectors:\n"
                                           "  beam:\n"
                                           "    node: " + node + "\n"
                                           "    cookie_file: " + cookie_file + "\n"
                                           "    interval: 1s\n"
                                           "    rpc_timeout: 500ms\n"
                                           "    cpu_budget: 1\n"
                                           "  telemetry:\n"
                                           "    listen_udp: 127.0.0.1:" + std::to_string(udp_port) + "\n"
                                           "    mapping_files: [" + kSourceDir + "/config/mappings/phoenix.yml]\n"});

  std::string metrics;
  auto metrics_show = [&](const std::function<bool()>& check) {
    return WaitUntil(
        [&] {
          metrics = exporter.Metrics();
          return check();
        },
        milliseconds(20000));
  };
  // The node is read over distribution, and the lab's requests arrive as forwarded telemetry.
  ASSERT_TRUE(metrics_show([&] {
    return SampleValue(metrics, "beam_up{node=\"" + node + "\"}") == 1 &&
           SampleValue(metrics, "phoenix_http_request_duration_seconds_count{method=\"GET\",route=\"/users/:id\","
                                "status=\"200\"}") > 0;
  })) << exporter.Output() << "\n" << metrics;
  const std::string queue = Replace(kConsumerQueue, "NODE", node);
  EXPECT_FALSE(FirstValue(metrics, queue) > 1000) << metrics;

  CommandResult on = RunCommand({std::string(kSourceDir) + "/tests/lab/fault", "mailbox_overflow", "on",
                                 "--http-port", std::to_string(http_port)},
                                milliseconds(10000));
  ASSERT_EQ(on.status, 0) << on.output;
  EXPECT_TRUE(metrics_show([&] { return FirstValue(metrics, queue) > 1000; })) << metrics;

  CommandResult off = RunCommand({std::string(kSourceDir) + "/tests/lab/fault", "mailbox_overflow", "off",
                                  "--http-port", std::to_string(http_port)},
                                 milliseconds(10000));
  ASSERT_EQ(off.status, 0) << off.output;
  EXPECT_TRUE(metrics_show([&] { return !(FirstValue(metrics, queue) > 1000); })) << metrics;

  exporter.process().Stop();
  EXPECT_EQ(lab.Stop(milliseconds(10000)), 0) << lab.Output();
}

}  // namespace
}  // namespace beam_exporter::testing
