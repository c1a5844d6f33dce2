// The real beam_exporter binary for integration and end-to-end tests: started on a free
// loopback port, with the readiness wait and the /metrics helpers every such test needs, and
// stopped (SIGTERM, then SIGKILL) on destruction.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace beam_exporter::testing {

class ExporterProcess {
 public:
  struct Options {
    std::vector<std::string> args;  // after the binary and --web.listen-address
    std::map<std::string, std::string> env;
    std::string log_path;       // empty: a temporary file that Subprocess manages
    bool wait_ready = true;     // false when the port speaks TLS: the caller checks readiness
  };

  explicit ExporterProcess(Options options);
  ~ExporterProcess();
  ExporterProcess(const ExporterProcess&) = delete;
  ExporterProcess& operator=(const ExporterProcess&) = delete;

  int port() const { return port_; }
  // True when /-/ready answered 200 within 10 s of the start (only checked with wait_ready).
  bool ready() const { return ready_; }
  Subprocess& process() { return *process_; }
  // The body of GET /metrics ("" when it does not answer within 2 s).
  std::string Metrics();
  // Waits until `series` has `value` on /metrics.
  bool WaitFor(const std::string& series, double value,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(8000));
  // Waits until every one of `series` is on /metrics.
  bool WaitForSeries(const std::vector<std::string>& series, std::chrono::milliseconds timeout);

 private:
  int port_;
  bool ready_ = false;
  std::unique_ptr<Subprocess> process_;
};

// The shipped default configuration (config/beam_exporter.yml) with the telemetry collector alone,
// receiving on 127.0.0.1:udp_port.
ExporterProcess::Options ShippedConfigTelemetryOnly(int udp_port);

}  // namespace beam_exporter::testing
