// Writes the Prometheus text format incrementally: lines go into a buffer of about
// `chunk_bytes` that is handed to a sink whenever it fills, so a scrape holds one chunk of the
// body at a time, never the whole body.
//
// The bytes are exactly those prometheus::TextSerializer (prometheus-cpp 1.0.1, Debian 12)
// writes for the same families: 16 significant digits ("%.16g"), "Nan", "+Inf", "-Inf";
// label values escape backslash, double quote and newline; HELP is written as given; a
// histogram's series is _count, _sum, then the buckets with a "+Inf" bucket added when the
// last bound is finite; a summary's is _count, _sum, then one line per quantile.
// exposition_writer_test.cc checks this against TextSerializer itself.
//
// Thread-safety: one writer per response, used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

namespace beam_exporter {

class ExpositionWriter {
 public:
  // Receives the next piece of the body; returns false when it cannot take more (the client
  // went away). After a false the writer drops everything else it is given.
  using Sink = std::function<bool(std::string_view)>;

  explicit ExpositionWriter(Sink sink, size_t chunk_bytes = 256 * 1024);
  ExpositionWriter(const ExpositionWriter&) = delete;
  ExpositionWriter& operator=(const ExpositionWriter&) = delete;

  // "# HELP" (when help is not empty) and "# TYPE" lines.
  void FamilyHeader(std::string_view name, std::string_view help, prometheus::MetricType type);
  // One sample line. `labels` is a rendered label block ("{a=\"b\"}", or empty: no labels).
  void Sample(std::string_view name, std::string_view suffix, std::string_view labels, double value);
  void Sample(std::string_view name, std::string_view suffix, std::string_view labels, uint64_t value);
  // A sample line with one more label after `labels` (a histogram's le, a summary's quantile).
  // `extra_value` is written as a number; kInfinity as "+Inf".
  template <typename V>
  void SampleWithLabel(std::string_view name, std::string_view suffix, std::string_view labels,
                       std::string_view extra_name, double extra_value, V value) {
    BeginLine(name, suffix);
    AppendLabelsWith(labels, extra_name, extra_value);
    buffer_.push_back(' ');
    AppendValue(value);
    EndLine();
  }

  // The same with the extra label already rendered (`le="0.5"`), for labels repeated on
  // every series of a family.
  void SampleWithRenderedLabel(std::string_view name, std::string_view suffix, std::string_view labels,
                               std::string_view extra_label, uint64_t value);

  // Whole families, as TextSerializer would write them.
  void Write(const prometheus::MetricFamily& family);
  void Write(const std::vector<prometheus::MetricFamily>& families);

  // Hands the rest of the buffer to the sink. Returns false when the sink refused any piece.
  bool Finish();
  bool failed() const { return failed_; }

 private:
  void BeginLine(std::string_view name, std::string_view suffix);
  void AppendLabelsWith(std::string_view labels, std::string_view extra_name, double extra_value);
  void AppendValue(double value);
  void AppendValue(uint64_t value);
  void EndLine();
  void Flush();

  Sink sink_;
  size_t chunk_bytes_;
  std::string buffer_;
  bool failed_ = false;
  std::string_view line_tail_;  // " <timestamp_ms>" while writing a family series that has one
};

// Appends one label to a label block being built as TextSerializer writes it: `{name="value"`
// to an empty block, `,name="value"` otherwise, the value escaped (backslash, double quote,
// newline). The caller closes a non-empty block with '}'.
void AppendLabel(std::string_view name, std::string_view value, std::string* block);
// Appends `value` as TextSerializer writes a double.
void AppendDouble(double value, std::string* out);

}  // namespace beam_exporter
