#include "collectors/telemetry/etf_event.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "collectors/telemetry/statsd_line.h"

namespace beam_exporter::telemetry {
namespace {

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// Prometheus' metric name syntax: [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(std::string_view name) {
  if (name.empty() || IsAsciiDigit(name[0])) return false;
  for (char c : name) {
    if (!IsAsciiLetter(c) && !IsAsciiDigit(c) && c != '_' && c != ':') return false;
  }
  return true;
}

// Prometheus' label name syntax, [a-zA-Z_][a-zA-Z0-9_]*, without the reserved "__" prefix.
bool IsValidLabelName(std::string_view name) {
  if (name.empty() || IsAsciiDigit(name[0]) || name.starts_with("__")) return false;
  for (char c : name) {
    if (!IsAsciiLetter(c) && !IsAsciiDigit(c) && c != '_') return false;
  }
  return true;
}

}  // namespace

std::string_view EtfErrorName(EtfError error) {
  switch (error) {
    case EtfError::kNone: return "none";
    case EtfError::kUnsupportedVersion: return "unsupported_version";
    case EtfError::kMalformed: return "malformed_etf";
    case EtfError::kLimitExceeded: return "etf_limit_exceeded";
  }
  return "unknown";
}

bool IsNativeDatagram(std::string_view datagram) {
  return datagram.size() >= 4 && datagram.substr(0, 3) == kNativeMagic && datagram[3] >= '0' && datagram[3] <= '9';
}

EtfDecoder::EtfDecoder(EtfLimits limits) : limits_(limits) {
  arena_.reserve(4096);
  name_segments_.reserve(limits_.max_name_segments);
  measurements_.reserve(16);
  metadata_.reserve(16);
  tags_.reserve(16);
  sample_name_.reserve(256);
}

EtfError EtfDecoder::DecodeAtom(etf::Reader& in, Span* out) {
  etf::Atom atom;
  if (!in.ReadAtom(&atom).ok()) return EtfError::kMalformed;
  out->offset = arena_.size();
  atom.AppendUtf8To(&arena_);
  out->size = arena_.size() - out->offset;
  // A Latin-1 name converted to UTF-8 is valid by construction.
  if (!atom.latin1 && !IsValidUtf8(View(*out))) return EtfError::kMalformed;
  return EtfError::kNone;
}

EtfError EtfDecoder::DecodeNumber(etf::Reader& in, double* out) {
  uint8_t tag = 0;
  if (!in.PeekTag(&tag).ok()) return EtfError::kMalformed;
  if (etf::tag::IsInteger(tag)) {
    int64_t v = 0;
    if (!in.ReadInt64(&v).ok()) return EtfError::kMalformed;
    *out = static_cast<double>(v);
    return EtfError::kNone;
  }
  if (etf::tag::IsFloat(tag)) {
    if (!in.ReadFloat(out).ok() || !std::isfinite(*out)) return EtfError::kMalformed;
    return EtfError::kNone;
  }
  return EtfError::kMalformed;
}

EtfError EtfDecoder::DecodeBinary(etf::Reader& in, size_t max, Span* out) {
  std::string_view bytes;
  if (!in.ReadBinary(&bytes).ok()) return EtfError::kMalformed;
  if (bytes.size() > max) return EtfError::kLimitExceeded;
  if (!IsValidUtf8(bytes)) return EtfError::kMalformed;
  out->offset = arena_.size();
  out->size = bytes.size();
  arena_.append(bytes);
  return EtfError::kNone;
}

EtfError EtfDecoder::DecodeListHeader(etf::Reader& in, size_t max, uint32_t* count) {
  if (!in.ReadListHeader(count).ok()) return EtfError::kMalformed;
  if (*count > max) return EtfError::kLimitExceeded;
  return EtfError::kNone;
}

EtfError EtfDecoder::DecodeListTail(etf::Reader& in, uint32_t count) {
  if (count == 0) return EtfError::kNone;  // an empty list is NIL alone
  return in.ReadNil().ok() ? EtfError::kNone : EtfError::kMalformed;
}

EtfError EtfDecoder::DecodeScalarAsText(etf::Reader& in, Span* out) {
  uint8_t tag = 0;
  if (!in.PeekTag(&tag).ok()) return EtfError::kMalformed;
  if (etf::tag::IsAtom(tag)) return DecodeAtom(in, out);
  if (tag == etf::tag::kBinary) return DecodeBinary(in, limits_.max_binary_bytes, out);
  const bool integer = etf::tag::IsInteger(tag);
  double number = 0;
  int64_t whole = 0;
  if (integer) {
    if (!in.ReadInt64(&whole).ok()) return EtfError::kMalformed;
  } else if (DecodeNumber(in, &number) != EtfError::kNone) {
    return EtfError::kMalformed;
  }
  char text[64];
  auto [end, ec] = integer ? std::to_chars(text, text + sizeof text, whole) : std::to_chars(text, text + sizeof text, number);
  if (ec != std::errc()) return EtfError::kMalformed;
  out->offset = arena_.size();
  out->size = static_cast<size_t>(end - text);
  arena_.append(text, out->size);
  return EtfError::kNone;
}

EtfError EtfDecoder::DecodeEvent(etf::Reader& in, SampleSink& sink) {
  arena_.clear();
  name_segments_.clear();
  measurements_.clear();
  metadata_.clear();
  uint32_t arity = 0;
  if (!in.ReadTupleHeader(&arity).ok() || arity != 4) return EtfError::kMalformed;

  // Event name: a non-empty proper list of atoms.
  uint32_t count = 0;
  if (!in.ReadListHeader(&count).ok() || count == 0) return EtfError::kMalformed;
  if (count > limits_.max_name_segments) return EtfError::kLimitExceeded;
  for (uint32_t i = 0; i < count; ++i) {
    Span segment{};
    if (EtfError e = DecodeAtom(in, &segment); e != EtfError::kNone) return e;
    name_segments_.push_back(segment);
  }
  if (!in.ReadNil().ok()) return EtfError::kMalformed;

  // Measurements: atom => number.
  if (!in.ReadMapHeader(&count).ok()) return EtfError::kMalformed;
  if (count > limits_.max_measurements) return EtfError::kLimitExceeded;
  for (uint32_t i = 0; i < count; ++i) {
    Measurement m{};
    if (EtfError e = DecodeAtom(in, &m.name); e != EtfError::kNone) return e;
    if (EtfError e = DecodeNumber(in, &m.value); e != EtfError::kNone) return e;
    measurements_.push_back(m);
  }

  // Metadata: atom => scalar, rendered as text.
  if (!in.ReadMapHeader(&count).ok()) return EtfError::kMalformed;
  if (count > limits_.max_metadata) return EtfError::kLimitExceeded;
  for (uint32_t i = 0; i < count; ++i) {
    MetadataEntry entry{};
    if (EtfError e = DecodeAtom(in, &entry.key); e != EtfError::kNone) return e;
    if (EtfError e = DecodeScalarAsText(in, &entry.value); e != EtfError::kNone) return e;
    metadata_.push_back(entry);
  }

  // Monotonic time: an integer, read for validation; Prometheus stamps at scrape time.
  double monotonic = 0;
  if (EtfError e = DecodeNumber(in, &monotonic); e != EtfError::kNone) return e;

  tags_.clear();
  for (const MetadataEntry& entry : metadata_) tags_.push_back({View(entry.key), View(entry.value)});
  sample_name_.clear();
  for (const Span& segment : name_segments_) {
    sample_name_.append(View(segment));
    sample_name_.push_back('.');
  }
  size_t prefix = sample_name_.size();
  Sample sample;
  sample.source = SampleSource::kNative;
  sample.in_seconds = true;
  sample.tags = tags_;
  for (const Measurement& m : measurements_) {
    sample_name_.resize(prefix);
    sample_name_.append(View(m.name));
    sample.name = sample_name_;
    sample.value = m.value;
    // The forwarder sends count = 1 where it wants an event counted; everything else is a
    // distribution of values (durations, sizes) unless a mapping rule says otherwise.
    sample.kind = View(m.name) == "count" ? SampleKind::kCounter : SampleKind::kObserver;
    if (sample.kind == SampleKind::kCounter && m.value < 0) continue;
    sink.OnSample(sample);
  }
  return EtfError::kNone;
}

EtfError EtfDecoder::DecodeBatchHeader(std::string_view datagram, char version, etf::Reader* in, uint32_t* count) {
  if (!IsNativeDatagram(datagram)) return EtfError::kMalformed;
  if (datagram[3] != version) return EtfError::kUnsupportedVersion;
  *in = etf::Reader(datagram.substr(4));
  // {Node, [...]}
  uint32_t arity = 0;
  if (!in->ReadVersion().ok() || !in->ReadTupleHeader(&arity).ok() || arity != 2) return EtfError::kMalformed;
  arena_.clear();
  Span node{};
  if (EtfError e = DecodeAtom(*in, &node); e != EtfError::kNone) return e;
  return DecodeListHeader(*in, limits_.max_events, count);
}

EtfError EtfDecoder::DecodeBatchTail(etf::Reader& in, uint32_t count) {
  if (EtfError e = DecodeListTail(in, count); e != EtfError::kNone) return e;
  return in.remaining() == 0 ? EtfError::kNone : EtfError::kMalformed;
}

EtfResult EtfDecoder::Decode(std::string_view datagram, SampleSink& sink) {
  EtfResult result;
  etf::Reader in{std::string_view()};
  uint32_t count = 0;
  if (EtfError e = DecodeBatchHeader(datagram, kNativeVersion, &in, &count); e != EtfError::kNone) {
    result.error = e;
    return result;
  }
  for (uint32_t i = 0; i < count; ++i) {
    if (EtfError e = DecodeEvent(in, sink); e != EtfError::kNone) {
      result.error = e;
      return result;
    }
    ++result.events;
  }
  result.error = DecodeBatchTail(in, count);
  return result;
}

EtfResult EtfDecoder::DecodeAggregates(std::string_view datagram, AggregateSink& sink) {
  EtfResult result;
  etf::Reader in{std::string_view()};
  uint32_t count = 0;
  if (EtfError e = DecodeBatchHeader(datagram, kNativeAggregateVersion, &in, &count); e != EtfError::kNone) {
    result.error = e;
    return result;
  }
  for (uint32_t i = 0; i < count; ++i) {
    if (EtfError e = DecodeMetric(in, sink, &result.events); e != EtfError::kNone) {
      result.error = e;
      return result;
    }
  }
  result.error = DecodeBatchTail(in, count);
  return result;
}

EtfError EtfDecoder::DecodeMetric(etf::Reader& in, AggregateSink& sink, size_t* delivered) {
  arena_.clear();
  buckets_.clear();
  label_names_.clear();
  uint32_t arity = 0, count = 0;
  if (!in.ReadTupleHeader(&arity).ok() || arity != 6) return EtfError::kMalformed;
  Span name{}, kind{}, help{};
  if (EtfError e = DecodeBinary(in, limits_.max_binary_bytes, &name); e != EtfError::kNone) return e;
  if (EtfError e = DecodeAtom(in, &kind); e != EtfError::kNone) return e;
  if (EtfError e = DecodeBinary(in, limits_.max_binary_bytes, &help); e != EtfError::kNone) return e;
  AggregateSample sample;
  if (View(kind) == "counter") {
    sample.type = AggregateType::kCounter;
  } else if (View(kind) == "gauge") {
    sample.type = AggregateType::kGauge;
  } else if (View(kind) == "histogram") {
    sample.type = AggregateType::kHistogram;
  } else {
    return EtfError::kMalformed;
  }
  if (!IsValidMetricName(View(name)) ||
      (sample.type == AggregateType::kCounter && !View(name).ends_with("_total"))) {
    return EtfError::kMalformed;
  }

  if (EtfError e = DecodeListHeader(in, limits_.max_buckets, &count); e != EtfError::kNone) return e;
  for (uint32_t i = 0; i < count; ++i) {
    double bound = 0;
    if (EtfError e = DecodeNumber(in, &bound); e != EtfError::kNone) return e;
    if (!buckets_.empty() && bound <= buckets_.back()) return EtfError::kMalformed;  // ascending
    buckets_.push_back(bound);
  }
  if (EtfError e = DecodeListTail(in, count); e != EtfError::kNone) return e;
  if (sample.type != AggregateType::kHistogram && !buckets_.empty()) return EtfError::kMalformed;

  if (EtfError e = DecodeListHeader(in, limits_.max_metadata, &count); e != EtfError::kNone) return e;
  for (uint32_t i = 0; i < count; ++i) {
    Span label{};
    if (EtfError e = DecodeBinary(in, limits_.max_binary_bytes, &label); e != EtfError::kNone) return e;
    if (!IsValidLabelName(View(label)) || (sample.type == AggregateType::kHistogram && View(label) == "le")) {
      return EtfError::kMalformed;
    }
    label_names_.push_back(label);
  }
  if (EtfError e = DecodeListTail(in, count); e != EtfError::kNone) return e;
  // Series keys need the labels sorted by name: sort once per metric, refuse duplicates.
  label_order_.resize(label_names_.size());
  for (size_t i = 0; i < label_order_.size(); ++i) label_order_[i] = i;
  std::sort(label_order_.begin(), label_order_.end(),
            [this](size_t a, size_t b) { return View(label_names_[a]) < View(label_names_[b]); });
  for (size_t i = 1; i < label_order_.size(); ++i) {
    if (View(label_names_[label_order_[i - 1]]) == View(label_names_[label_order_[i]])) return EtfError::kMalformed;
  }

  if (EtfError e = DecodeListHeader(in, limits_.max_events, &count); e != EtfError::kNone) return e;
  const size_t header_end = arena_.size();
  for (uint32_t i = 0; i < count; ++i) {
    arena_.resize(header_end);
    if (EtfError e = DecodeSeries(in, &sample); e != EtfError::kNone) return e;
    // Views only now: decoding the label values may have moved the arena.
    tags_.clear();
    for (size_t at : label_order_) tags_.push_back({View(label_names_[at]), View(label_values_[at])});
    sample.name = View(name);
    sample.help = View(help);
    sample.buckets = buckets_;
    sample.labels = tags_;
    sample.bucket_counts = bucket_counts_;
    sink.OnAggregate(sample);
    ++*delivered;
  }
  return DecodeListTail(in, count);
}

EtfError EtfDecoder::DecodeSeries(etf::Reader& in, AggregateSample* sample) {
  uint32_t arity = 0, count = 0;
  if (!in.ReadTupleHeader(&arity).ok() || arity != 2) return EtfError::kMalformed;
  label_values_.clear();
  if (EtfError e = DecodeListHeader(in, limits_.max_metadata, &count); e != EtfError::kNone) return e;
  if (count != label_names_.size()) return EtfError::kMalformed;
  for (uint32_t i = 0; i < count; ++i) {
    Span value{};
    if (EtfError e = DecodeBinary(in, limits_.max_binary_bytes, &value); e != EtfError::kNone) return e;
    label_values_.push_back(value);
  }
  if (EtfError e = DecodeListTail(in, count); e != EtfError::kNone) return e;

  switch (sample->type) {
    case AggregateType::kCounter:
      if (EtfError e = DecodeNumber(in, &sample->value); e != EtfError::kNone) return e;
      return sample->value >= 0 ? EtfError::kNone : EtfError::kMalformed;
    case AggregateType::kGauge: {
      Span op{};
      if (!in.ReadTupleHeader(&arity).ok() || arity != 2) return EtfError::kMalformed;
      if (EtfError e = DecodeAtom(in, &op); e != EtfError::kNone) return e;
      if (View(op) != "set" && View(op) != "add") return EtfError::kMalformed;
      sample->relative = View(op) == "add";
      return DecodeNumber(in, &sample->value);
    }
    case AggregateType::kHistogram: {
      if (!in.ReadTupleHeader(&arity).ok() || arity != 2) return EtfError::kMalformed;
      if (EtfError e = DecodeNumber(in, &sample->sum); e != EtfError::kNone) return e;
      if (!in.ReadTupleHeader(&arity).ok() || arity != buckets_.size() + 1) return EtfError::kMalformed;
      bucket_counts_.clear();
      for (uint32_t i = 0; i < arity; ++i) {
        uint64_t n = 0;
        if (!in.ReadUint64(&n).ok()) return EtfError::kMalformed;
        bucket_counts_.push_back(n);
      }
      return EtfError::kNone;
    }
  }
  return EtfError::kMalformed;
}

}  // namespace beam_exporter::telemetry
