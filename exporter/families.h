// Small builders for prometheus::MetricFamily values, for collectors that produce their
// families on each scrape (the const-metric style of Go exporters).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <prometheus/metric_family.h>

namespace beam_exporter {

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

prometheus::MetricFamily MakeFamily(std::string name, std::string help, prometheus::MetricType type);

// `constant_labels` (those every series of a collector carries, such as node=), then `labels`.
std::vector<prometheus::ClientMetric::Label> MetricLabels(const LabelPairs& constant_labels, const LabelPairs& labels);

// Appends one sample to `family` (whose type decides which value field is set).
void AddSample(prometheus::MetricFamily* family, const LabelPairs& labels, double value,
               const LabelPairs& constant_labels = {});

// Appends a family of one unlabelled sample to `out`.
void AppendSingleSample(std::vector<prometheus::MetricFamily>* out, std::string name, std::string help,
                        prometheus::MetricType type, double value);

// Seconds since the Unix epoch, for *_timestamp_seconds metrics.
double UnixTimeSeconds();

}  // namespace beam_exporter
