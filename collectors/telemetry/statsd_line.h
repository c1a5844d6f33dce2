// Pure StatsD / DogStatsD line parser: datagram bytes -> Samples + counted error reasons.
// No I/O, no clock. The grammar follows Prometheus' statsd_exporter (docs/telemetry.md lists
// where we differ). Thread-compatible: one parser per reader thread; in steady state it does
// not allocate (tag and name scratch buffers keep their capacity between lines).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/telemetry/sample.h"

namespace beam_exporter::telemetry {

// Calls on_line(line) for each non-empty line of a datagram split on '\n' (a trailing '\r' is
// dropped: some senders end lines with "\r\n"). Returns how many lines it passed on.
template <typename OnLine>
size_t ForEachLine(std::string_view datagram, OnLine&& on_line) {
  size_t lines = 0;
  while (!datagram.empty()) {
    size_t nl = datagram.find('\n');
    std::string_view line = datagram.substr(0, nl);
    datagram.remove_prefix(nl == std::string_view::npos ? datagram.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    ++lines;
    on_line(line);
  }
  return lines;
}

enum class LineError : uint8_t {
  kMalformedLine,         // no ':' / empty name / invalid UTF-8
  kMixedTaggingStyles,    // name-embedded tags and |# tags on one line
  kNotEnoughParts,        // no '|type' after the value
  kMalformedComponent,    // empty |...| component
  kMalformedValue,        // value is not a finite number
  kInvalidSampleRate,     // @rate not a number in (0,1]; the line is still used with rate 1
  kInvalidTag,            // a tag without key or value; the tag is skipped, the line used
  kMalformedContainerId,  // |c without :id
  kMalformedTimestamp,    // |T without digits; the timestamp is ignored, the line used
  kInvalidComponent,      // unknown |x component
  kSetNotSupported,       // type s
  kIllegalType,           // unknown type
  kNegativeCounter,       // counters only go up
  kCount,
};

// The reason label value, e.g. "malformed_line".
std::string_view LineErrorName(LineError error);
// Whether the line was dropped (true) or only a part of it was ignored (false).
bool LineErrorDropsLine(LineError error);

struct StatsdDialects {
  bool dogstatsd = true;  // name:1|c|#k:v,k2:v2
  bool influxdb = true;   // name,k=v:1|c
  bool librato = true;    // name#k=v:1|c
  bool signalfx = true;   // na[k=v]me:1|c
};

class StatsdSink : public SampleSink {
 public:
  virtual void OnLineError(LineError error, std::string_view line) = 0;
};

class StatsdParser {
 public:
  explicit StatsdParser(StatsdDialects dialects = {});

  // Splits `datagram` on '\n' (a trailing '\r' is stripped) and parses each line.
  // Returns the number of non-empty lines seen.
  size_t ParseDatagram(std::string_view datagram, StatsdSink& sink);
  // Parses one line (no newline). Empty lines produce nothing.
  void ParseLine(std::string_view line, StatsdSink& sink);

 private:
  // Splits name-embedded tags (SignalFX, InfluxDB, Librato) off `*name`; *found tells
  // whether any dialect matched.
  void ExtractNameTags(std::string_view* name, bool* found, std::string_view line, StatsdSink& sink);
  void ParseKeyValueTags(std::string_view text, char separator, std::string_view line, StatsdSink& sink);
  void ParseDogStatsdTags(std::string_view text, std::string_view line, StatsdSink& sink);

  StatsdDialects dialects_;
  std::vector<Tag> tags_;
  std::vector<double> values_;
  std::string name_scratch_;
};

// Parses a StatsD value: a finite number, optionally with a leading '+' (relative gauges).
bool ParseStatsdValue(std::string_view text, double* out);

// Whether `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);

}  // namespace beam_exporter::telemetry
