// Feeds arbitrary bytes, prefixed with the "BXT1" magic, to the native-form decoder and
// touches every view it hands out. The input is copied into an exact-size heap block so ASan
// sees any read past its end by our code (ei itself is not instrumented; the decoder checks
// every length against the datagram before ei reads).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "collectors/telemetry/etf_event.h"
#include "tests/fuzz/support/touch_sample.h"

namespace {

class TouchingSink : public beam_exporter::telemetry::SampleSink {
 public:
  void OnSample(const beam_exporter::telemetry::Sample& s) override { sum += beam_exporter::telemetry::TouchSample(s); }
  unsigned sum = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<char[]> datagram(new char[size + 4]);
  std::memcpy(datagram.get(), "BXT1", 4);
  if (size > 0) std::memcpy(datagram.get() + 4, data, size);
  TouchingSink sink;
  beam_exporter::telemetry::EtfDecoder decoder;
  decoder.Decode(std::string_view(datagram.get(), size + 4), sink);
  return 0;
}
