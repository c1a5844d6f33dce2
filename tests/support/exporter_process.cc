#include "tests/support/exporter_process.h"

#include <algorithm>
#include <cmath>

#include "tests/support/net.h"
#include "tests/support/paths.h"

namespace beam_exporter::testing {

using std::chrono::milliseconds;

ExporterProcess::ExporterProcess(Options options) : port_(FreeTcpPort()) {
  std::vector<std::string> argv = {kExporterBinary, "--web.listen-address=127.0.0.1:" + std::to_string(port_)};
  for (const auto& [name, content] : options.files) work_dir_.Write(name, content);
  if (!options.config_yaml.empty()) {
    config_path_ = work_dir_.Write("beam_exporter.yml", options.config_yaml);
    argv.push_back("--config.file=" + config_path_);
  }
  if (options.telemetry_udp) {
    udp_port_ = FreeUdpPort();
    argv.push_back("--telemetry.listen-udp=127.0.0.1:" + std::to_string(udp_port_));
  }
  argv.insert(argv.end(), options.args.begin(), options.args.end());
  process_ = std::make_unique<Subprocess>(argv, std::move(options.env), work_dir_.File("exporter.log"));
  switch (options.start) {
    case Start::kReady:
      ready_ = WaitUntil([&] { return HttpGet(port_, "/-/ready", milliseconds(500)).status == 200; },
                         milliseconds(10000));
      break;
    case Start::kNoWait:
      break;
    case Start::kRefusal:
      exit_status_ = process_->Wait(milliseconds(10000));
      break;
  }
}

ExporterProcess::~ExporterProcess() { process_->Stop(); }

void ExporterProcess::Send(const std::string& datagram) const { SendUdp(udp_port_, datagram); }

std::string ExporterProcess::Metrics() { return HttpGet(port_, "/metrics", milliseconds(2000)).body; }

bool ExporterProcess::WaitFor(const std::string& series, double value, milliseconds timeout) {
  return WaitUntil([&] { return SampleValue(Metrics(), series) == value; }, timeout);
}

bool ExporterProcess::WaitForSeries(const std::vector<std::string>& series, milliseconds timeout) {
  return WaitUntil([&] {
    std::string m = Metrics();
    return std::all_of(series.begin(), series.end(), [&](const std::string& s) { return !std::isnan(SampleValue(m, s)); });
  }, timeout);
}

ExporterProcess::Options ShippedConfigTelemetryOnly() {
  return {.args = {"--config.file=" + std::string(kSourceDir) + "/config/beam_exporter.yml", "--no-collector.beam"},
          .telemetry_udp = true};
}

}  // namespace beam_exporter::testing
