// Pure decoder for the native datagram forms (no I/O, no clock). Version 1, one event each:
//
//   datagram = "BXT1" ++ term_to_binary({Node :: atom(), Events :: [Event]})
//   Event    = {EventName :: [atom()], Measurements :: #{atom() => number()},
//               Metadata :: #{atom() => atom() | binary() | integer() | float()},
//               MonotonicTimeNative :: integer()}
//
// Each measurement of an event becomes one Sample named "<event.name>.<measurement>" with the
// metadata as tags, so the StatsD mapping rules apply unchanged. The forwarder has already
// converted time measurements to seconds. Decoding is bounded (event count, name length,
// map sizes, binary length) and reads the term through etf::Reader (exporter/etf_reader.h),
// which never reads past the datagram's end.
//
// Version 2, deltas the forwarder aggregated in the app since its last flush (docs/telemetry.md,
// "Aggregated form"): every series carries what happened to it, and the metric carries its own
// Prometheus name, type, help and buckets, so no mapping rule applies:
//
//   datagram = "BXT2" ++ term_to_binary({Node :: atom(), Metrics :: [Metric]})
//   Metric   = {Name :: binary(), counter | gauge | histogram, Help :: binary(),
//               Buckets :: [float()], LabelNames :: [binary()], Series :: [{LabelValues :: [binary()], Delta}]}
//   Delta    = number()                                 (counter: the increment, >= 0)
//            | {set | add, number()}                    (gauge: a new value, or a change)
//            | {Sum :: number(), BucketCounts :: tuple()} (histogram: one count per bound plus +Inf)
//
// Thread-compatible: one decoder per reader thread; buffers are reused between datagrams.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/telemetry/sample.h"
#include "exporter/etf_reader.h"

namespace beam_exporter::telemetry {

inline constexpr std::string_view kNativeMagic = "BXT";
inline constexpr char kNativeVersion = '1';
inline constexpr char kNativeAggregateVersion = '2';

enum class EtfError : uint8_t {
  kNone,
  kUnsupportedVersion,  // "BXT<digit>" with a version we do not know
  kMalformed,           // not the documented term shape, or truncated
  kLimitExceeded,       // too many events/measurements/tags, or a too long name or value
};

// The reason label value, e.g. "unsupported_version".
std::string_view EtfErrorName(EtfError error);

// Whether a datagram is in the native form (starts with "BXT" and a version digit).
bool IsNativeDatagram(std::string_view datagram);

struct EtfLimits {
  size_t max_events = 4096;  // events of a version 1 datagram, metrics and series of one metric of version 2
  size_t max_name_segments = 16;
  size_t max_measurements = 64;
  size_t max_metadata = 64;
  size_t max_binary_bytes = 1024;
  size_t max_buckets = 64;
};

enum class AggregateType : uint8_t { kCounter, kGauge, kHistogram };

// One series' delta from a version 2 datagram. Views are valid only during the callback.
struct AggregateSample {
  std::string_view name;  // a valid Prometheus name; counters end in _total
  AggregateType type = AggregateType::kCounter;
  std::string_view help;
  std::span<const double> buckets;  // histograms: ascending upper bounds, +Inf implied
  std::span<const Tag> labels;      // sorted by name, unique
  double value = 0;                 // counter increment, gauge value or change
  bool relative = false;            // gauge: add `value` instead of setting it
  double sum = 0;                               // histogram
  std::span<const uint64_t> bucket_counts;      // histogram: buckets.size() + 1, not cumulative
};

class AggregateSink {
 public:
  virtual ~AggregateSink() = default;
  virtual void OnAggregate(const AggregateSample& sample) = 0;
};

struct EtfResult {
  size_t events = 0;  // events fully decoded and delivered
  EtfError error = EtfError::kNone;
};

class EtfDecoder {
 public:
  explicit EtfDecoder(EtfLimits limits = {});

  // Decodes `datagram` and hands every measurement to `sink`. Decoding stops at the first
  // malformed event; the events before it have been delivered.
  EtfResult Decode(std::string_view datagram, SampleSink& sink);
  // The same for a version 2 datagram; `events` counts the series delivered. Decoding stops at
  // the first malformed metric or series.
  EtfResult DecodeAggregates(std::string_view datagram, AggregateSink& sink);

 private:
  struct Span {
    size_t offset;
    size_t size;
  };
  struct Measurement {
    Span name;
    double value;
  };
  struct MetadataEntry {
    Span key;
    Span value;
  };
  // Checks magic and version, points *in at the term and reads up to the list header of
  // {Node, [...]}: *count items follow.
  EtfError DecodeBatchHeader(std::string_view datagram, char version, etf::Reader* in, uint32_t* count);
  // After the last of `count` items: the list's tail and the term's end.
  EtfError DecodeBatchTail(etf::Reader& in, uint32_t count);
  EtfError DecodeEvent(etf::Reader& in, SampleSink& sink);
  EtfError DecodeMetric(etf::Reader& in, AggregateSink& sink, size_t* series);
  // One {LabelValues, Delta} of the metric whose header DecodeMetric read.
  EtfError DecodeSeries(etf::Reader& in, AggregateSample* sample);
  // A proper list header (an empty list gives 0), at most `max` elements.
  EtfError DecodeListHeader(etf::Reader& in, size_t max, uint32_t* count);
  EtfError DecodeListTail(etf::Reader& in, uint32_t count);
  EtfError DecodeBinary(etf::Reader& in, size_t max, Span* out);
  EtfError DecodeAtom(etf::Reader& in, Span* out);
  EtfError DecodeScalarAsText(etf::Reader& in, Span* out);
  EtfError DecodeNumber(etf::Reader& in, double* out);
  std::string_view View(Span span) const { return std::string_view(arena_).substr(span.offset, span.size); }

  EtfLimits limits_;
  std::string arena_;   // decoded texts of the current event
  std::vector<Span> name_segments_;
  std::vector<Measurement> measurements_;
  std::vector<MetadataEntry> metadata_;
  std::vector<Tag> tags_;
  std::string sample_name_;
  // Version 2 scratch.
  std::vector<double> buckets_;
  std::vector<uint64_t> bucket_counts_;
  std::vector<Span> label_names_;
  std::vector<Span> label_values_;
  std::vector<size_t> label_order_;
};

}  // namespace beam_exporter::telemetry
