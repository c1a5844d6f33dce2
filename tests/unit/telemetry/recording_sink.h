// A sink that copies every sample and error it receives, for assertions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "collectors/telemetry/statsd_line.h"

namespace beam_exporter::telemetry {

struct RecordedSample {
  SampleSource source;
  SampleKind kind;
  bool relative;
  bool in_seconds;
  uint32_t repeat;
  double value;
  std::string name;
  std::map<std::string, std::string> tags;
};

class RecordingSink : public StatsdSink {
 public:
  void OnSample(const Sample& s) override {
    RecordedSample r{s.source, s.kind, s.relative, s.in_seconds, s.repeat, s.value, std::string(s.name), {}};
    for (const Tag& t : s.tags) r.tags[std::string(t.key)] = std::string(t.value);
    samples.push_back(std::move(r));
  }
  void OnLineError(LineError error, std::string_view) override { errors.push_back(error); }

  std::vector<RecordedSample> samples;
  std::vector<LineError> errors;
};

}  // namespace beam_exporter::telemetry
