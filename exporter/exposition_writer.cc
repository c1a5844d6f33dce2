#include "exporter/exposition_writer.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace beam_exporter {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

std::string_view TypeName(prometheus::MetricType type) {
  switch (type) {
    case prometheus::MetricType::Counter: return "counter";
    case prometheus::MetricType::Gauge: return "gauge";
    case prometheus::MetricType::Summary: return "summary";
    case prometheus::MetricType::Histogram: return "histogram";
    case prometheus::MetricType::Untyped: break;
  }
  return "untyped";
}

}  // namespace

void AppendDouble(double value, std::string* out) {
  if (std::isnan(value)) {
    out->append("Nan");
  } else if (std::isinf(value)) {
    out->append(value < 0 ? "-Inf" : "+Inf");
  } else if (value != 0 && std::abs(value) < 1e15 && value == std::trunc(value)) {
    // Integers below 10^15 print all their digits under %.16g; to_chars on the integer is the
    // same text, much faster than the general path (most counters are whole numbers).
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, static_cast<int64_t>(value));
    out->append(digits, end);
  } else {
    char digits[32];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value, std::chars_format::general, 16);
    out->append(digits, end);
  }
}

void AppendLabel(std::string_view name, std::string_view value, std::string* block) {
  block->push_back(block->empty() ? '{' : ',');
  block->append(name).append("=\"");
  size_t plain = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    block->append(value.substr(plain, i - plain));
    block->append(c == '\n' ? "\\n" : c == '"' ? "\\\"" : "\\\\");
    plain = i + 1;
  }
  block->append(value.substr(plain));
  block->push_back('"');
}

ExpositionWriter::ExpositionWriter(Sink sink, size_t chunk_bytes) : sink_(std::move(sink)), chunk_bytes_(chunk_bytes) {
  buffer_.reserve(chunk_bytes_ + 4096);
}

void ExpositionWriter::FamilyHeader(std::string_view name, std::string_view help, prometheus::MetricType type) {
  if (!help.empty()) {
    buffer_.append("# HELP ").append(name).push_back(' ');
    buffer_.append(help).push_back('\n');
  }
  buffer_.append("# TYPE ").append(name).push_back(' ');
  buffer_.append(TypeName(type)).push_back('\n');
  if (buffer_.size() >= chunk_bytes_) Flush();
}

void ExpositionWriter::BeginLine(std::string_view name, std::string_view suffix) {
  buffer_.append(name).append(suffix);
}

void ExpositionWriter::AppendLabelsWith(std::string_view labels, std::string_view extra_name, double extra_value) {
  if (labels.empty()) {
    buffer_.push_back('{');
  } else {
    buffer_.append(labels.substr(0, labels.size() - 1));  // without its closing brace
    buffer_.push_back(',');
  }
  buffer_.append(extra_name).append("=\"");
  AppendDouble(extra_value, &buffer_);
  buffer_.append("\"}");
}

void ExpositionWriter::AppendValue(double value) { AppendDouble(value, &buffer_); }

void ExpositionWriter::AppendValue(uint64_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  buffer_.append(digits, end);
}

void ExpositionWriter::EndLine() {
  buffer_.append(line_tail_).push_back('\n');
  if (buffer_.size() >= chunk_bytes_) Flush();
}

void ExpositionWriter::Sample(std::string_view name, std::string_view suffix, std::string_view labels, double value) {
  BeginLine(name, suffix);
  buffer_.append(labels).push_back(' ');
  AppendValue(value);
  EndLine();
}

void ExpositionWriter::Sample(std::string_view name, std::string_view suffix, std::string_view labels, uint64_t value) {
  BeginLine(name, suffix);
  buffer_.append(labels).push_back(' ');
  AppendValue(value);
  EndLine();
}

void ExpositionWriter::SampleWithRenderedLabel(std::string_view name, std::string_view suffix,
                                               std::string_view labels, std::string_view extra_label,
                                               uint64_t value) {
  BeginLine(name, suffix);
  if (labels.empty()) {
    buffer_.push_back('{');
  } else {
    buffer_.append(labels.substr(0, labels.size() - 1));
    buffer_.push_back(',');
  }
  buffer_.append(extra_label).append("} ");
  AppendValue(value);
  EndLine();
}

void ExpositionWriter::Write(const prometheus::MetricFamily& family) {
  FamilyHeader(family.name, family.help, family.type);
  std::string labels;
  for (const prometheus::ClientMetric& m : family.metric) {
    labels.clear();
    for (const prometheus::ClientMetric::Label& l : m.label) AppendLabel(l.name, l.value, &labels);
    if (!labels.empty()) labels.push_back('}');
    // TextSerializer appends " <timestamp_ms>" to every line of a series that has one.
    // (Appended, not `" " + std::to_string(...)`: GCC 12 reports a false -Wrestrict for that at -O3.)
    std::string timestamp;
    if (m.timestamp_ms != 0) timestamp.append(" ").append(std::to_string(m.timestamp_ms));
    line_tail_ = timestamp;
    switch (family.type) {
      case prometheus::MetricType::Counter: Sample(family.name, "", labels, m.counter.value); break;
      case prometheus::MetricType::Gauge: Sample(family.name, "", labels, m.gauge.value); break;
      case prometheus::MetricType::Untyped: Sample(family.name, "", labels, m.untyped.value); break;
      case prometheus::MetricType::Summary:
        Sample(family.name, "_count", labels, static_cast<uint64_t>(m.summary.sample_count));
        Sample(family.name, "_sum", labels, m.summary.sample_sum);
        for (const auto& q : m.summary.quantile) {
          SampleWithLabel(family.name, "", labels, "quantile", q.quantile, q.value);
        }
        break;
      case prometheus::MetricType::Histogram: {
        Sample(family.name, "_count", labels, static_cast<uint64_t>(m.histogram.sample_count));
        Sample(family.name, "_sum", labels, m.histogram.sample_sum);
        double last = -kInfinity;
        for (const auto& b : m.histogram.bucket) {
          SampleWithLabel(family.name, "_bucket", labels, "le", b.upper_bound, static_cast<uint64_t>(b.cumulative_count));
          last = b.upper_bound;
        }
        if (last != kInfinity) {
          SampleWithLabel(family.name, "_bucket", labels, "le", kInfinity, static_cast<uint64_t>(m.histogram.sample_count));
        }
        break;
      }
    }
  }
  line_tail_ = {};
}

void ExpositionWriter::Write(const std::vector<prometheus::MetricFamily>& families) {
  for (const auto& f : families) Write(f);
}

void ExpositionWriter::Flush() {
  if (!buffer_.empty() && !failed_) failed_ = !sink_(buffer_);
  buffer_.clear();
}

bool ExpositionWriter::Finish() {
  Flush();
  return !failed_;
}

}  // namespace beam_exporter
