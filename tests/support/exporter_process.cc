#include "tests/support/exporter_process.h"

#include <algorithm>
#include <cmath>

#include "tests/support/net.h"
#include "tests/support/paths.h"

namespace beam_exporter::testing {

using std::chrono::milliseconds;

ExporterProcess::ExporterProcess(Options options) : port_(FreeTcpPort()) {
  std::vector<std::string> argv = {kExporterBinary, "--web.listen-address=127.0.0.1:" + std::to_string(port_)};
  argv.insert(argv.end(), options.args.begin(), options.args.end());
  process_ = std::make_unique<Subprocess>(argv, std::move(options.env), options.log_path);
  if (options.wait_ready) {
    ready_ = WaitUntil([&] { return HttpGet(port_, "/-/ready", milliseconds(500)).status == 200; }, milliseconds(10000));
  }
}

ExporterProcess::~ExporterProcess() { process_->Stop(); }

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

ExporterProcess::Options ShippedConfigTelemetryOnly(int udp_port) {
  return {{"--config.file=" + std::string(kSourceDir) + "/config/beam_exporter.yml", "--no-collector.beam",
           "--telemetry.listen-udp=127.0.0.1:" + std::to_string(udp_port)},
          {},
          "",
          true};
}

}  // namespace beam_exporter::testing
