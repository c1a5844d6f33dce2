// Small builders for prometheus::MetricFamily values, for collectors that produce their
// families on each scrape (the const-metric style of Go exporters).
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/metric_family.h>

namespace beam_exporter {

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

prometheus::MetricFamily MakeFamily(std::string name, std::string help, prometheus::MetricType type);

// Appends one sample to `family` (whose type decides which value field is set).
void AddSample(prometheus::MetricFamily* family, const LabelPairs& labels, double value);

// Appends a histogram sample: `bucket_counts[i]` is the cumulative count for `bounds[i]`;
// the +Inf bucket is `count`.
void AddHistogram(prometheus::MetricFamily* family, const LabelPairs& labels, const std::vector<double>& bounds,
                  const std::vector<uint64_t>& cumulative_counts, uint64_t count, double sum);

}  // namespace beam_exporter
