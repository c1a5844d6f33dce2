#include "collectors/telemetry/statsd_line.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace beam_exporter::telemetry {

bool ParseStatsdValue(std::string_view text, double* out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty() || text.front() == '+') return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(*out);
}

namespace {

bool AllDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string_view LineErrorName(LineError error) {
  switch (error) {
    case LineError::kMalformedLine: return "malformed_line";
    case LineError::kMixedTaggingStyles: return "mixed_tagging_styles";
    case LineError::kNotEnoughParts: return "not_enough_parts";
    case LineError::kMalformedComponent: return "malformed_component";
    case LineError::kMalformedValue: return "malformed_value";
    case LineError::kInvalidSampleRate: return "invalid_sample_rate";
    case LineError::kInvalidTag: return "invalid_tag";
    case LineError::kMalformedContainerId: return "malformed_container_id";
    case LineError::kMalformedTimestamp: return "malformed_timestamp";
    case LineError::kInvalidComponent: return "invalid_component";
    case LineError::kSetNotSupported: return "set_not_supported";
    case LineError::kIllegalType: return "illegal_type";
    case LineError::kNegativeCounter: return "negative_counter";
    case LineError::kCount: break;
  }
  return "unknown";
}

bool LineErrorDropsLine(LineError error) {
  return error != LineError::kInvalidSampleRate && error != LineError::kInvalidTag &&
         error != LineError::kMalformedTimestamp;
}

bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    // Fast path: eight ASCII bytes at a time (StatsD traffic is nearly always ASCII).
    if (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, sizeof word);
      if ((word & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t extra = 0;
    uint32_t min = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, min = 0x10000, cp = c & 0x07;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) <= extra) return false;
    for (size_t i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += extra + 1;
  }
  return true;
}

StatsdParser::StatsdParser(StatsdDialects dialects) : dialects_(dialects) {
  tags_.reserve(16);
  values_.reserve(16);
  name_scratch_.reserve(256);
}

size_t StatsdParser::ParseDatagram(std::string_view datagram, StatsdSink& sink) {
  return ForEachLine(datagram, [&](std::string_view line) { ParseLine(line, sink); });
}

void StatsdParser::ParseKeyValueTags(std::string_view text, char separator, std::string_view line,
                                     StatsdSink& sink) {
  while (true) {
    size_t comma = text.find(',');
    std::string_view tag = text.substr(0, comma);
    size_t sep = tag.find(separator);
    if (sep == std::string_view::npos || sep == 0) {
      sink.OnLineError(LineError::kInvalidTag, line);
    } else {
      tags_.push_back({tag.substr(0, sep), tag.substr(sep + 1)});
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
}

void StatsdParser::ParseDogStatsdTags(std::string_view text, std::string_view line, StatsdSink& sink) {
  while (true) {
    size_t comma = text.find(',');
    std::string_view tag = text.substr(0, comma);
    if (!tag.empty() && tag.front() == '#') tag.remove_prefix(1);  // PHP clients send #k:v,#k2:v2
    size_t colon = tag.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      sink.OnLineError(LineError::kInvalidTag, line);
    } else {
      tags_.push_back({tag.substr(0, colon), tag.substr(colon + 1)});
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
}

void StatsdParser::ExtractNameTags(std::string_view* name, bool* found, std::string_view line, StatsdSink& sink) {
  *found = false;
  if (dialects_.signalfx) {
    size_t open = name->find('[');
    size_t close = name->find(']');
    if (open != std::string_view::npos && close != std::string_view::npos && open < close) {
      ParseKeyValueTags(name->substr(open + 1, close - open - 1), '=', line, sink);
      name_scratch_.assign(name->substr(0, open));
      name_scratch_.append(name->substr(close + 1));
      *name = name_scratch_;
      *found = true;
      return;
    }
    if (open != std::string_view::npos || close != std::string_view::npos) {
      // A lone or reversed bracket: keep the name as it is, like statsd_exporter.
      sink.OnLineError(LineError::kInvalidTag, line);
      return;
    }
  }
  size_t influx = dialects_.influxdb ? name->find(',') : std::string_view::npos;
  size_t librato = dialects_.librato ? name->find('#') : std::string_view::npos;
  size_t at = std::min(influx, librato);
  if (at == std::string_view::npos) return;
  ParseKeyValueTags(name->substr(at + 1), '=', line, sink);
  *name = name->substr(0, at);
  *found = true;
}

namespace {

// The ':' between the name and the value(s) in `head` (the line up to its first '|'): the one
// before the trailing run of numeric ':'-separated tokens. A name may itself contain ':' --
// telemetry_metrics_statsd's :standard formatter folds tag values such as the route
// "/users/:id" into it -- so the split is not at the first ':' (statsd_exporter splits there
// and drops such lines). npos when there is no ':'.
size_t NameValueColon(std::string_view head) {
  size_t colon = head.rfind(':');
  if (colon == std::string_view::npos) return colon;
  while (colon > 0) {
    size_t previous = head.rfind(':', colon - 1);
    if (previous == std::string_view::npos) break;
    double unused = 0;
    if (!ParseStatsdValue(head.substr(previous + 1, colon - previous - 1), &unused)) break;
    colon = previous;
  }
  return colon;
}

}  // namespace

void StatsdParser::ParseLine(std::string_view line, StatsdSink& sink) {
  if (line.empty()) return;
  tags_.clear();
  values_.clear();
  size_t colon = NameValueColon(line.substr(0, line.find('|')));
  if (colon == std::string_view::npos || line.front() == ':' || !IsValidUtf8(line)) {
    sink.OnLineError(LineError::kMalformedLine, line);
    return;
  }
  std::string_view name = line.substr(0, colon);
  std::string_view rest = line.substr(colon + 1);

  bool name_tags = false;
  ExtractNameTags(&name, &name_tags, line, sink);
  if (name.empty()) {
    sink.OnLineError(LineError::kMalformedLine, line);
    return;
  }
  if (name_tags && rest.find("|#") != std::string_view::npos) {
    sink.OnLineError(LineError::kMixedTaggingStyles, line);
    return;
  }

  size_t bar = rest.find('|');
  if (bar == std::string_view::npos) {
    sink.OnLineError(LineError::kNotEnoughParts, line);
    return;
  }
  std::string_view value_text = rest.substr(0, bar);
  rest.remove_prefix(bar + 1);
  bar = rest.find('|');
  std::string_view type = rest.substr(0, bar);
  rest.remove_prefix(bar == std::string_view::npos ? rest.size() : bar + 1);

  Sample sample;
  sample.source = SampleSource::kStatsd;
  double unit_scale = 1;
  if (type == "c") {
    sample.kind = SampleKind::kCounter;
  } else if (type == "g") {
    sample.kind = SampleKind::kGauge;
  } else if (type == "ms") {
    sample.kind = SampleKind::kObserver;
    sample.in_seconds = true;
    unit_scale = 0.001;
  } else if (type == "h" || type == "d") {
    sample.kind = SampleKind::kObserver;
  } else if (type == "s") {
    sink.OnLineError(LineError::kSetNotSupported, line);
    return;
  } else if (type.empty()) {
    sink.OnLineError(LineError::kNotEnoughParts, line);
    return;
  } else {
    sink.OnLineError(LineError::kIllegalType, line);
    return;
  }

  // Optional components after the type, in any order: @rate, #tags, c:container, Tts.
  double rate = 1;
  bool has_components = bar != std::string_view::npos;
  while (has_components) {
    bar = rest.find('|');
    std::string_view component = rest.substr(0, bar);
    has_components = bar != std::string_view::npos;
    rest.remove_prefix(has_components ? bar + 1 : rest.size());
    if (component.empty()) {
      sink.OnLineError(LineError::kMalformedComponent, line);
      return;
    }
    switch (component.front()) {
      case '@': {
        double r = 0;
        if (!ParseStatsdValue(component.substr(1), &r) || r <= 0 || r > 1) {
          sink.OnLineError(LineError::kInvalidSampleRate, line);
        } else {
          rate *= r;
        }
        break;
      }
      case '#':
        if (dialects_.dogstatsd) ParseDogStatsdTags(component.substr(1), line, sink);
        break;
      case 'c':
        if (component.size() < 3 || component[1] != ':') {
          sink.OnLineError(LineError::kMalformedContainerId, line);
          return;
        }
        tags_.push_back({"container_id", component.substr(2)});
        break;
      case 'T':
        // Timestamps are ignored (Prometheus stamps at scrape time), so a malformed or empty one
        // costs only itself, as in statsd_exporter: counted, and the sample kept.
        if (!AllDigits(component.substr(1))) sink.OnLineError(LineError::kMalformedTimestamp, line);
        break;
      default:
        sink.OnLineError(LineError::kInvalidComponent, line);
        return;
    }
  }

  // Packed values (DogStatsD 1.1): name:1:2:3|h shares type, rate and tags.
  bool relative = false;
  while (true) {
    size_t sep = value_text.find(':');
    std::string_view one = value_text.substr(0, sep);
    double v = 0;
    if (!ParseStatsdValue(one, &v)) {
      sink.OnLineError(LineError::kMalformedValue, line);
      return;
    }
    relative = relative || one.front() == '+' || one.front() == '-';
    if (sample.kind == SampleKind::kCounter && v < 0) {
      sink.OnLineError(LineError::kNegativeCounter, line);
      return;
    }
    values_.push_back(v);
    if (sep == std::string_view::npos) break;
    value_text.remove_prefix(sep + 1);
  }

  sample.name = name;
  sample.tags = tags_;
  sample.relative = sample.kind == SampleKind::kGauge && relative;
  sample.rate = rate;
  if (sample.kind == SampleKind::kObserver) {
    double copies = std::floor(1 / rate);
    sample.repeat = copies >= 4e9 ? 4'000'000'000u : static_cast<uint32_t>(copies);
  }
  for (double v : values_) {
    sample.value = sample.kind == SampleKind::kCounter ? v / rate : v * unit_scale;
    sink.OnSample(sample);
  }
}

}  // namespace beam_exporter::telemetry
