// Builds version 2 ("BXT2") native datagrams, the forwarder's aggregated form, with ei for
// decoder and pipeline tests.
#pragma once

#include <ei.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace beam_exporter::telemetry {

struct AggregateSeriesSpec {
  AggregateSeriesSpec(std::vector<std::string> values, double v, std::string op = "set", double s = 0,
                      std::vector<uint64_t> counts = {})
      : label_values(std::move(values)), value(v), gauge_op(std::move(op)), sum(s), bucket_counts(std::move(counts)) {}
  std::vector<std::string> label_values;
  double value = 0;                   // counter increment, gauge value
  std::string gauge_op = "set";       // gauge: set | add
  double sum = 0;                     // histogram
  std::vector<uint64_t> bucket_counts;  // histogram
};

struct AggregateMetricSpec {
  std::string name;
  std::string type;  // counter | gauge | histogram (or anything, to test refusals)
  std::string help;
  std::vector<double> buckets;
  std::vector<std::string> label_names;
  std::vector<AggregateSeriesSpec> series;
};

inline std::string AggregateDatagram(const std::vector<AggregateMetricSpec>& metrics, std::string_view magic = "BXT2") {
  ei_x_buff x;
  ei_x_new_with_version(&x);
  auto binary = [&x](const std::string& s) { ei_x_encode_binary(&x, s.data(), static_cast<long>(s.size())); };
  ei_x_encode_tuple_header(&x, 2);
  ei_x_encode_atom(&x, "app@host");
  if (!metrics.empty()) ei_x_encode_list_header(&x, static_cast<long>(metrics.size()));
  for (const AggregateMetricSpec& m : metrics) {
    ei_x_encode_tuple_header(&x, 6);
    binary(m.name);
    ei_x_encode_atom(&x, m.type.c_str());
    binary(m.help);
    if (!m.buckets.empty()) ei_x_encode_list_header(&x, static_cast<long>(m.buckets.size()));
    for (double b : m.buckets) ei_x_encode_double(&x, b);
    ei_x_encode_empty_list(&x);
    if (!m.label_names.empty()) ei_x_encode_list_header(&x, static_cast<long>(m.label_names.size()));
    for (const std::string& l : m.label_names) binary(l);
    ei_x_encode_empty_list(&x);
    if (!m.series.empty()) ei_x_encode_list_header(&x, static_cast<long>(m.series.size()));
    for (const AggregateSeriesSpec& s : m.series) {
      ei_x_encode_tuple_header(&x, 2);
      if (!s.label_values.empty()) ei_x_encode_list_header(&x, static_cast<long>(s.label_values.size()));
      for (const std::string& v : s.label_values) binary(v);
      ei_x_encode_empty_list(&x);
      if (m.type == "gauge") {
        ei_x_encode_tuple_header(&x, 2);
        ei_x_encode_atom(&x, s.gauge_op.c_str());
        ei_x_encode_double(&x, s.value);
      } else if (m.type == "histogram") {
        ei_x_encode_tuple_header(&x, 2);
        ei_x_encode_double(&x, s.sum);
        ei_x_encode_tuple_header(&x, static_cast<long>(s.bucket_counts.size()));
        for (uint64_t n : s.bucket_counts) ei_x_encode_ulonglong(&x, n);
      } else {
        ei_x_encode_double(&x, s.value);
      }
    }
    ei_x_encode_empty_list(&x);
  }
  ei_x_encode_empty_list(&x);
  std::string datagram = std::string(magic) + std::string(x.buff, static_cast<size_t>(x.index));
  ei_x_free(&x);
  return datagram;
}

}  // namespace beam_exporter::telemetry
