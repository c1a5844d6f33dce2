#include "tests/support/prometheus_server.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "tests/support/erlang_node.h"
#include "tests/support/net.h"

namespace beam_exporter::testing {

std::string UrlEncode(const std::string& value) {
  std::string out;
  for (unsigned char c : value) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

PrometheusServer::PrometheusServer(const Options& options)
    : port_(FreeTcpPort()) {
  const std::string dir = dir_.path().string();
  std::ofstream config(dir_.File("prometheus.yml"));
  config << "global:\n  scrape_interval: " << options.scrape_interval
         << "\n  scrape_timeout: " << options.scrape_interval
         << "\n  evaluation_interval: " << options.evaluation_interval << "\n";
  if (!options.rule_files.empty()) {
    config << "rule_files:\n";
    for (const auto& f : options.rule_files) config << "  - " << f << "\n";
  }
  config << "scrape_configs:\n  - job_name: beam_exporter\n    static_configs:\n      - targets: [";
  for (size_t i = 0; i < options.targets.size(); ++i) config << (i ? ", " : "") << "'" << options.targets[i] << "'";
  config << "]\n";
  config.close();
  process_ = std::make_unique<Subprocess>(std::vector<std::string>{
      "prometheus", "--config.file=" + dir + "/prometheus.yml", "--storage.tsdb.path=" + dir + "/data",
      "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"});
}

PrometheusServer::~PrometheusServer() {
  if (process_) process_->Stop(std::chrono::milliseconds(5000));
}

bool PrometheusServer::WaitReady(std::chrono::milliseconds timeout) {
  return WaitUntil([&] { return HttpGet(port_, "/-/ready", std::chrono::milliseconds(1000)).status == 200; },
                   timeout);
}

YAML::Node PrometheusServer::Get(const std::string& path_and_query) {
  HttpResponse r = HttpGet(port_, path_and_query, std::chrono::milliseconds(10000));
  if (r.status != 200) return YAML::Node(YAML::NodeType::Undefined);
  try {
    return YAML::Load(r.body);
  } catch (const YAML::Exception&) {
    return YAML::Node(YAML::NodeType::Undefined);
  }
}

YAML::Node PrometheusServer::Query(const std::string& promql) {
  YAML::Node reply = Get("/api/v1/query?query=" + UrlEncode(promql));
  if (!reply.IsDefined() || !reply.IsMap() || !reply["data"]) return YAML::Node(YAML::NodeType::Undefined);
  return reply["data"]["result"];
}

YAML::Node PrometheusServer::Alerts() {
  YAML::Node reply = Get("/api/v1/alerts");
  if (!reply.IsDefined() || !reply.IsMap() || !reply["data"]) return YAML::Node(YAML::NodeType::Undefined);
  return reply["data"]["alerts"];
}

std::vector<YAML::Node> PrometheusServer::FiringAlerts(const std::string& alertname) {
  std::vector<YAML::Node> out;
  YAML::Node alerts = Alerts();
  if (!alerts.IsDefined() || !alerts.IsSequence()) return out;
  for (const auto& a : alerts) {
    if (a["labels"]["alertname"].as<std::string>("") == alertname && a["state"].as<std::string>("") == "firing") {
      out.push_back(a);
    }
  }
  return out;
}

std::string ShortenRuleFile(const std::string& rule_file, const std::string& dir, const std::string& max_for) {
  YAML::Node root = YAML::LoadFile(rule_file);
  auto seconds = [](const std::string& d) {
    // Prometheus durations as used in rule files: s, m, h, d and combinations such as 1h30m.
    double total = 0, n = 0;
    for (char c : d) {
      if (isdigit(static_cast<unsigned char>(c))) n = n * 10 + (c - '0');
      else {
        total += n * (c == 's' ? 1 : c == 'm' ? 60 : c == 'h' ? 3600 : c == 'd' ? 86400 : 0);
        n = 0;
      }
    }
    return total;
  };
  for (auto group : root["groups"]) {
    for (auto rule : group["rules"]) {
      if (rule["for"] && seconds(rule["for"].as<std::string>()) > seconds(max_for)) rule["for"] = max_for;
    }
  }
  std::string base = rule_file.substr(rule_file.rfind('/') + 1);
  std::string out = dir + "/" + base;
  std::ofstream(out) << YAML::Dump(root) << "\n";
  return out;
}

CommandResult PromtoolCheckMetrics(const std::string& exposition) {
  return RunCommand({"promtool", "check", "metrics"}, std::chrono::milliseconds(30000), {}, exposition);
}

}  // namespace beam_exporter::testing
