// A real Prometheus server (Debian's `prometheus`) for end-to-end tests: started on a free
// loopback port with a scrape config and rule files made by the test, a private TSDB
// directory, and removed on destruction. Replies of its HTTP API are JSON, read with
// yaml-cpp (JSON is YAML).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace beam_exporter::testing {

class PrometheusServer {
 public:
  struct Options {
    std::vector<std::string> targets;     // host:port of exporters to scrape (job "beam_exporter")
    std::vector<std::string> rule_files;  // absolute paths
    std::string scrape_interval = "1s";
    std::string evaluation_interval = "1s";
  };
  explicit PrometheusServer(const Options& options);
  ~PrometheusServer();

  int port() const { return port_; }
  // Waits until /-/ready answers 200.
  bool WaitReady(std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));
  // GET /api/v1/query; returns `data.result` (a sequence), or an undefined node on error.
  YAML::Node Query(const std::string& promql);
  // GET /api/v1/alerts; returns `data.alerts`.
  YAML::Node Alerts();
  // The alerts named `alertname` in state "firing".
  std::vector<YAML::Node> FiringAlerts(const std::string& alertname);
  std::string Output() const { return process_ ? process_->Output() : ""; }

 private:
  YAML::Node Get(const std::string& path_and_query);
  int port_;
  TempDir dir_;  // the config and the TSDB; removed after the process stops (declared first)
  std::unique_ptr<Subprocess> process_;
};

// Percent-encodes a query-string value.
std::string UrlEncode(const std::string& value);

// Rewrites Prometheus rule files for tests: every `for:` longer than `max_for` becomes
// `max_for`; everything else is kept as it is. Returns the path of the rewritten copy
// (written into `dir`).
std::string ShortenRuleFile(const std::string& rule_file, const std::string& dir, const std::string& max_for);

// `promtool check metrics` on an exposition, fed on its standard input: status 0 and no output
// when the exposition is clean.
CommandResult PromtoolCheckMetrics(const std::string& exposition);

}  // namespace beam_exporter::testing
