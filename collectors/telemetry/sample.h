// One measurement as it leaves a decoder (StatsD line or native ETF event) and enters the
// mapper. Views point into the decoder's input or scratch buffers: valid only during the
// SampleSink callback that receives them.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace beam_exporter::telemetry {

enum class SampleKind : uint8_t { kCounter, kGauge, kObserver };
enum class SampleSource : uint8_t { kStatsd, kNative };

struct Tag {
  std::string_view key;
  std::string_view value;
};

struct Sample {
  SampleSource source = SampleSource::kStatsd;
  SampleKind kind = SampleKind::kGauge;
  // Gauge only: "+N"/"-N" adds to the current value instead of setting it.
  bool relative = false;
  // The value is already in seconds: StatsD `ms` timers (divided by 1000 by the parser) and
  // every native time measurement (converted by the forwarder). A rule's `statsd_unit`
  // conversion never touches these.
  bool in_seconds = false;
  // Observer only: how many observations this sample stands for (sample rate @0.1 -> 10).
  uint32_t repeat = 1;
  // StatsD @rate (product of all @ fields; 1 without). Counters are already divided by it.
  double rate = 1;
  double value = 0;
  std::string_view name;  // dotted, e.g. phoenix.router_dispatch.stop.duration
  std::span<const Tag> tags;
};

// Receives what a decoder produced. Called on the decoding (reader) thread.
class SampleSink {
 public:
  virtual ~SampleSink() = default;
  virtual void OnSample(const Sample& sample) = 0;
};

}  // namespace beam_exporter::telemetry
