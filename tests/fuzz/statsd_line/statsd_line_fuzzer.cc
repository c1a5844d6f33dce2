// Feeds arbitrary bytes to the StatsD parser with every dialect on, then with every dialect
// off, touching every byte of every view it hands out (ASan reports a dangling view).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "collectors/telemetry/statsd_line.h"
#include "tests/fuzz/support/touch_sample.h"

namespace {

using beam_exporter::telemetry::LineError;
using beam_exporter::telemetry::Sample;

class TouchingSink : public beam_exporter::telemetry::StatsdSink {
 public:
  void OnSample(const Sample& s) override {
    sum += beam_exporter::telemetry::TouchSample(s);
    if (s.name.empty() || s.repeat == 0) __builtin_trap();  // the parser never emits these
  }
  void OnLineError(LineError, std::string_view line) override { sum += beam_exporter::telemetry::TouchBytes(line); }
  unsigned sum = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  TouchingSink sink;
  beam_exporter::telemetry::StatsdParser all;
  all.ParseDatagram(input, sink);
  beam_exporter::telemetry::StatsdParser none({false, false, false, false});
  none.ParseDatagram(input, sink);
  return 0;
}
