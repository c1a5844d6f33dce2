// Feeds arbitrary bytes to the native-form decoder and touches every view it hands out. An
// input that starts with "BXT" is a whole datagram (the seeds of the aggregated form, "BXT2",
// are such), anything else is prefixed with the "BXT1" magic. As in the pipeline, version 2 goes
// to DecodeAggregates, everything else to Decode. The input is copied into an exact-size heap block so ASan
// sees any read past its end. The ETF reader the decoder reads through is linked, not
// instrumented for coverage: the etf_reader target fuzzes it.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "collectors/telemetry/etf_event.h"
#include "tests/fuzz/support/touch_sample.h"

namespace {

namespace telemetry = beam_exporter::telemetry;

class TouchingSink : public telemetry::SampleSink, public telemetry::AggregateSink {
 public:
  void OnSample(const telemetry::Sample& s) override { sum += telemetry::TouchSample(s); }
  void OnAggregate(const telemetry::AggregateSample& s) override {
    for (char c : s.name) sum += static_cast<unsigned char>(c);
    for (char c : s.help) sum += static_cast<unsigned char>(c);
    for (const telemetry::Tag& t : s.labels) {
      for (char c : t.key) sum += static_cast<unsigned char>(c);
      for (char c : t.value) sum += static_cast<unsigned char>(c);
    }
    for (double b : s.buckets) sum += static_cast<unsigned>(b != 0);
    for (uint64_t n : s.bucket_counts) sum += static_cast<unsigned>(n);
  }
  unsigned sum = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const bool whole = size >= 3 && std::memcmp(data, telemetry::kNativeMagic.data(), 3) == 0;
  const size_t prefix = whole ? 0 : 4;
  std::unique_ptr<char[]> datagram(new char[size + prefix]);
  if (!whole) std::memcpy(datagram.get(), "BXT1", 4);
  if (size > 0) std::memcpy(datagram.get() + prefix, data, size);
  std::string_view view(datagram.get(), size + prefix);
  TouchingSink sink;
  telemetry::EtfDecoder decoder;
  if (view.size() >= 4 && view[3] == telemetry::kNativeAggregateVersion) {
    decoder.DecodeAggregates(view, sink);
  } else {
    decoder.Decode(view, sink);
  }
  return 0;
}
