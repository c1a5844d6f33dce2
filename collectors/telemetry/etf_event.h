// Pure decoder for the native datagram form (no I/O, no clock):
//
//   datagram = "BXT1" ++ term_to_binary({Node :: atom(), Events :: [Event]})
//   Event    = {EventName :: [atom()], Measurements :: #{atom() => number()},
//               Metadata :: #{atom() => atom() | binary() | integer() | float()},
//               MonotonicTimeNative :: integer()}
//
// Each measurement of an event becomes one Sample named "<event.name>.<measurement>" with the
// metadata as tags, so the StatsD mapping rules apply unchanged. The forwarder has already
// converted time measurements to seconds. Decoding is bounded (event count, name length,
// map sizes, binary length) and checks every length against the datagram before ei reads it.
// Thread-compatible: one decoder per reader thread; buffers are reused between datagrams.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/telemetry/sample.h"

namespace beam_exporter::telemetry {

inline constexpr std::string_view kNativeMagic = "BXT";
inline constexpr char kNativeVersion = '1';

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
  size_t max_events = 4096;
  size_t max_name_segments = 16;
  size_t max_measurements = 64;
  size_t max_metadata = 64;
  size_t max_binary_bytes = 1024;
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
  EtfError DecodeEvent(int* index, SampleSink& sink);
  EtfError DecodeAtom(int* index, Span* out);
  EtfError DecodeScalarAsText(int* index, Span* out);
  EtfError DecodeNumber(int* index, double* out);
  // Checks that the item at *index (with payload `size` bytes) lies within the datagram.
  bool Fits(int index, int size) const;
  std::string_view View(Span span) const { return std::string_view(arena_).substr(span.offset, span.size); }

  EtfLimits limits_;
  std::string buffer_;  // the term, followed by zero padding so ei's header reads stay in bounds
  size_t term_size_ = 0;
  std::string arena_;   // decoded texts of the current event
  std::vector<Span> name_segments_;
  std::vector<Measurement> measurements_;
  std::vector<MetadataEntry> metadata_;
  std::vector<Tag> tags_;
  std::string sample_name_;
};

}  // namespace beam_exporter::telemetry
