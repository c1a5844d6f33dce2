#include "exporter/families.h"

namespace beam_exporter {

prometheus::MetricFamily MakeFamily(std::string name, std::string help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

namespace {
prometheus::ClientMetric WithLabels(const LabelPairs& labels) {
  prometheus::ClientMetric m;
  m.label.reserve(labels.size());
  for (const auto& [k, v] : labels) m.label.push_back({k, v});
  return m;
}
}  // namespace

void AddSample(prometheus::MetricFamily* family, const LabelPairs& labels, double value) {
  prometheus::ClientMetric m = WithLabels(labels);
  switch (family->type) {
    case prometheus::MetricType::Counter: m.counter.value = value; break;
    case prometheus::MetricType::Gauge: m.gauge.value = value; break;
    default: m.untyped.value = value; break;
  }
  family->metric.push_back(std::move(m));
}

}  // namespace beam_exporter
