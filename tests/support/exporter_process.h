// The real beam_exporter binary for integration and end-to-end tests and benchmarks: started on a
// free loopback port with a work directory of its own (its config file and its log, removed when
// the object goes), with the readiness wait and the /metrics helpers every such test needs, and
// stopped (SIGTERM, then SIGKILL) on destruction.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace beam_exporter::testing {

class ExporterProcess {
 public:
  // What the test expects of the start.
  enum class Start {
    kReady,     // /-/ready answers 200 (ready() says whether it did within 10 s)
    kNoWait,    // no readiness check, e.g. when the port speaks TLS: the caller checks
    kRefusal,   // the exporter exits (a bad config or flag): exit_status() says how
  };
  struct Options {
    // Written to beam_exporter.yml in the work directory and passed as --config.file; none if empty.
    std::string config_yaml{};
    // More files for the work directory (relative path -> content), written before the start, so a
    // config can name them relative to itself.
    std::map<std::string, std::string> files{};
    std::vector<std::string> args{};  // after the binary, --web.listen-address, --config.file, --telemetry.listen-udp
    std::map<std::string, std::string> env{};
    // Receive telemetry on a free loopback UDP port (--telemetry.listen-udp): udp_port(), Send().
    bool telemetry_udp = false;
    Start start = Start::kReady;
  };

  explicit ExporterProcess(Options options);
  ~ExporterProcess();
  ExporterProcess(const ExporterProcess&) = delete;
  ExporterProcess& operator=(const ExporterProcess&) = delete;

  int port() const { return port_; }
  // The telemetry UDP port with Options::telemetry_udp (else 0).
  int udp_port() const { return udp_port_; }
  // Sends one datagram to udp_port().
  void Send(const std::string& datagram) const;
  // Holds the config file and the log; tests may put their own files there too.
  const TempDir& work_dir() const { return work_dir_; }
  // The --config.file written from Options::config_yaml ("" when there is none).
  const std::string& config_path() const { return config_path_; }
  // True when /-/ready answered 200 within 10 s of the start (only checked with Start::kReady).
  bool ready() const { return ready_; }
  // With Start::kRefusal: the exit status, if the exporter exited within 10 s.
  std::optional<int> exit_status() const { return exit_status_; }
  Subprocess& process() { return *process_; }
  const Subprocess& process() const { return *process_; }
  // Everything the exporter logged so far.
  std::string Output() const { return process_->Output(); }
  // The body of GET /metrics ("" when it does not answer within 2 s).
  std::string Metrics();
  // Waits until `series` has `value` on /metrics.
  bool WaitFor(const std::string& series, double value,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(8000));
  // Waits until every one of `series` is on /metrics.
  bool WaitForSeries(const std::vector<std::string>& series, std::chrono::milliseconds timeout);

 private:
  int port_;
  int udp_port_ = 0;
  TempDir work_dir_;
  std::string config_path_;
  bool ready_ = false;
  std::optional<int> exit_status_;
  std::unique_ptr<Subprocess> process_;
};

// The shipped default configuration (config/beam_exporter.yml) with the telemetry collector alone,
// receiving on a free UDP port.
ExporterProcess::Options ShippedConfigTelemetryOnly();

}  // namespace beam_exporter::testing
