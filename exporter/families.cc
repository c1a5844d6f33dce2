#include "exporter/families.h"

#include <chrono>

namespace beam_exporter {

prometheus::MetricFamily MakeFamily(std::string name, std::string help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

std::vector<prometheus::ClientMetric::Label> MetricLabels(const LabelPairs& constant_labels, const LabelPairs& labels) {
  std::vector<prometheus::ClientMetric::Label> out;
  out.reserve(constant_labels.size() + labels.size());
  for (const auto& [k, v] : constant_labels) out.push_back({k, v});
  for (const auto& [k, v] : labels) out.push_back({k, v});
  return out;
}

void AddSample(prometheus::MetricFamily* family, const LabelPairs& labels, double value,
               const LabelPairs& constant_labels) {
  prometheus::ClientMetric m;
  m.label = MetricLabels(constant_labels, labels);
  switch (family->type) {
    case prometheus::MetricType::Counter: m.counter.value = value; break;
    case prometheus::MetricType::Gauge: m.gauge.value = value; break;
    default: m.untyped.value = value; break;
  }
  family->metric.push_back(std::move(m));
}

void AppendSingleSample(std::vector<prometheus::MetricFamily>* out, std::string name, std::string help,
                        prometheus::MetricType type, double value) {
  out->push_back(MakeFamily(std::move(name), std::move(help), type));
  AddSample(&out->back(), {}, value);
}

double UnixTimeSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace beam_exporter
