// The beam-exporter container that the Component deploy/kubernetes/components/beam-exporter-sidecar
// adds to an app's Pod, run for real: the
// manifest's args, with only the values that depend on the machine replaced (the node name, the
// cookie file, the listen addresses, and the config file, staged as deploy/Dockerfile lays it
// out in the image), against a real `erl` node on loopback. If the manifest
// used a flag the binary does not accept, the exporter would exit and these tests would fail.
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/support/erlang_node.h"
#include "tests/support/exporter_process.h"
#include "tests/support/net.h"
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace beam_exporter::testing {
namespace {

using std::chrono::milliseconds;

// The args of the beam-exporter (init) container in the sidecar Component's strategic merge patch.
std::vector<std::string> ManifestArgs() {
  YAML::Node component =
      YAML::LoadFile(std::string(kSourceDir) + "/deploy/kubernetes/components/beam-exporter-sidecar/kustomization.yaml");
  for (const auto& patch : component["patches"]) {
    YAML::Node body = YAML::Load(patch["patch"].as<std::string>());
    if (!body.IsMap()) continue;  // the JSON patch of the app container
    for (const auto& container : body["spec"]["template"]["spec"]["initContainers"]) {
      if (container["name"].as<std::string>() != "beam-exporter") continue;
      std::vector<std::string> args;
      for (const auto& arg : container["args"]) args.push_back(arg.as<std::string>());
      return args;
    }
  }
  return {};
}

// The `--name=...` entry of `args`; fails the test (and gives end()) if the manifest lacks the flag.
std::vector<std::string>::iterator FindFlag(std::vector<std::string>* args, const std::string& name) {
  auto it = std::find_if(args->begin(), args->end(), [&](const std::string& arg) { return arg.rfind(name + "=", 0) == 0; });
  if (it == args->end()) ADD_FAILURE() << "the manifest has no " << name << " flag";
  return it;
}

// Replaces the value of `--name=...` in `args`.
void Replace(std::vector<std::string>* args, const std::string& name, const std::string& value) {
  if (auto it = FindFlag(args, name); it != args->end()) *it = name + "=" + value;
}

// Removes `--name=...` from `args`.
void Erase(std::vector<std::string>* args, const std::string& name) {
  if (auto it = FindFlag(args, name); it != args->end()) args->erase(it);
}

// The sidecar container's command line, run for real: /etc/beam_exporter of the image
// (deploy/image/beam_exporter.yml beside config/mappings/) staged in a temporary directory, and
// the manifest's --web.listen-address left to ExporterProcess, which listens on a free port.
struct Sidecar {
  TempDir etc;
  std::unique_ptr<ExporterProcess> exporter;

  Sidecar(const std::string& node, const std::string& cookie_file, int udp_port) {
    std::filesystem::copy_file(std::string(kSourceDir) + "/deploy/image/beam_exporter.yml", etc.File("beam_exporter.yml"));
    std::filesystem::create_directory_symlink(std::string(kSourceDir) + "/config/mappings", etc.File("mappings"));
    std::vector<std::string> args = ManifestArgs();
    Erase(&args, "--web.listen-address");
    Replace(&args, "--config.file", etc.File("beam_exporter.yml"));
    Replace(&args, "--beam.node", node);
    Replace(&args, "--beam.cookie-file", cookie_file);
    Replace(&args, "--telemetry.listen-udp", "127.0.0.1:" + std::to_string(udp_port));
    exporter = std::make_unique<ExporterProcess>(ExporterProcess::Options{.args = std::move(args)});
  }
  std::string Metrics() { return exporter->Metrics(); }
};

TEST(SidecarEntrypointTest, ManifestHasTheFlagsTheTestReplaces) {
  std::vector<std::string> args = ManifestArgs();
  ASSERT_FALSE(args.empty()) << "no beam-exporter init container in the base Deployment";
  // Every arg is --flag=value, the form the manifest documents.
  for (const auto& arg : args) EXPECT_EQ(arg.rfind("--", 0), 0u) << arg;
}

TEST(SidecarEntrypointTest, ManifestCommandLineScrapesARealNode) {
  ErlangNode node;
  ASSERT_TRUE(node.WaitReady());
  const int udp_port = FreeUdpPort();
  Sidecar sidecar(node.name(), node.cookie_file(), udp_port);
  ASSERT_TRUE(sidecar.exporter->ready()) << sidecar.exporter->Output();
  EXPECT_EQ(HttpGet(sidecar.exporter->port(), "/-/healthy").status, 200);
  const std::string up = "beam_up{node=\"" + node.name() + "\"}";
  ASSERT_TRUE(WaitUntil([&] { return SampleValue(sidecar.Metrics(), up) == 1; }, milliseconds(10000)))
      << sidecar.Metrics() << sidecar.exporter->Output();
  std::string metrics = sidecar.Metrics();
  EXPECT_GT(SampleValue(metrics, "erlang_vm_processes{node=\"" + node.name() + "\"}"), 10) << metrics;
  // The image's configuration maps Phoenix telemetry: a DogStatsD line (milliseconds, as the
  // Phoenix generator's telemetry_metrics_statsd setup sends it) becomes the documented metric.
  const std::string requests = "phoenix_http_request_duration_seconds_count{method=\"GET\",route=\"/users/:id\",status=\"200\"}";
  ASSERT_TRUE(WaitUntil([&] {
    SendUdp(udp_port, "phoenix.router_dispatch.stop.duration:12|h|#method:GET,route:/users/:id,status:200");
    return SampleValue(sidecar.Metrics(), requests) >= 1;
  }, milliseconds(5000))) << sidecar.Metrics();
  metrics = sidecar.Metrics();
  // --log.format=json from the manifest: every line the exporter wrote is a JSON object.
  std::string output = sidecar.exporter->Output();
  ASSERT_FALSE(output.empty());
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find('\n', start);
    std::string line = output.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!line.empty()) {
      EXPECT_EQ(line.front(), '{') << line;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  // The cookie never appears in what the exporter serves or logs.
  EXPECT_EQ(metrics.find(node.cookie()), std::string::npos);
  EXPECT_EQ(output.find(node.cookie()), std::string::npos);
}

// Kubernetes starts the app container only after the native sidecar has started, and takes the
// Pod out of its Service when a container is not ready: readiness and liveness must therefore
// hold while the node is not (yet) reachable.
TEST(SidecarEntrypointTest, ReadyAndHealthyWhileTheNodeIsNotUpYet) {
  TempDir dir;
  const std::string cookie_file = dir.Write("cookie", RandomToken(20));
  const std::string absent_node = "not_started_" + RandomToken(6) + "@127.0.0.1";
  Sidecar sidecar(absent_node, cookie_file, FreeUdpPort());
  ASSERT_TRUE(sidecar.exporter->ready()) << sidecar.exporter->Output();
  EXPECT_EQ(HttpGet(sidecar.exporter->port(), "/-/healthy").status, 200);
  std::string metrics = sidecar.Metrics();
  EXPECT_EQ(SampleValue(metrics, "beam_up{node=\"" + absent_node + "\"}"), 0) << metrics;
  EXPECT_TRUE(sidecar.exporter->process().Running());
}

}  // namespace
}  // namespace beam_exporter::testing
