#include "collectors/telemetry/etf_event.h"

#include <ei.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "collectors/telemetry/statsd_line.h"

namespace beam_exporter::telemetry {
namespace {

// Bytes of zero padding after the term: covers the longest fixed-size item ei may read
// (a 9-byte NEW_FLOAT_EXT, or a 5-byte header) when a truncated datagram ends just before it.
constexpr size_t kPadding = 16;

// Raw external-format tags (ei.h only names the normalised ones ei_get_type reports).
constexpr unsigned char kVersionTag = 131;
constexpr unsigned char kNewFloatTag = 70;
constexpr unsigned char kSmallAtomUtf8Tag = 119;
constexpr unsigned char kAtomUtf8Tag = 118;
constexpr unsigned char kAtomTag = 100;
constexpr unsigned char kSmallAtomTag = 115;

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
  buffer_.reserve(65536 + kPadding);
  arena_.reserve(4096);
  name_segments_.reserve(limits_.max_name_segments);
  measurements_.reserve(16);
  metadata_.reserve(16);
  tags_.reserve(16);
  sample_name_.reserve(256);
}

bool EtfDecoder::Fits(int index, int size) const {
  if (index < 0 || static_cast<size_t>(index) >= term_size_ || size < 0) return false;
  auto tag = static_cast<unsigned char>(buffer_[index]);
  size_t need = 0;
  switch (tag) {
    case kSmallAtomUtf8Tag:
    case kSmallAtomTag: need = 2 + static_cast<size_t>(size); break;
    case kAtomUtf8Tag:
    case kAtomTag: need = 3 + static_cast<size_t>(size); break;
    case ERL_BINARY_EXT: need = 5 + static_cast<size_t>(size); break;
    case ERL_SMALL_INTEGER_EXT: need = 2; break;
    case ERL_INTEGER_EXT: need = 5; break;
    case kNewFloatTag: need = 9; break;
    case ERL_FLOAT_EXT: need = 32; break;
    case ERL_SMALL_BIG_EXT: need = 3 + static_cast<size_t>(size); break;
    case ERL_LARGE_BIG_EXT: need = 6 + static_cast<size_t>(size); break;
    case ERL_SMALL_TUPLE_EXT: need = 2; break;
    case ERL_LARGE_TUPLE_EXT: need = 5; break;
    case ERL_MAP_EXT: need = 5; break;
    case ERL_LIST_EXT: need = 5; break;
    case ERL_NIL_EXT: need = 1; break;
    default: return false;
  }
  return static_cast<size_t>(index) + need <= term_size_;
}

EtfError EtfDecoder::DecodeAtom(int* index, Span* out) {
  int type = 0, size = 0;
  if (ei_get_type(buffer_.data(), index, &type, &size) != 0 || type != ERL_ATOM_EXT) return EtfError::kMalformed;
  if (!Fits(*index, size)) return EtfError::kMalformed;
  char atom[MAXATOMLEN_UTF8];
  erlang_char_encoding was{}, result{};
  if (ei_decode_atom_as(buffer_.data(), index, atom, sizeof atom, ERLANG_UTF8, &was, &result) != 0) {
    return EtfError::kMalformed;
  }
  std::string_view text(atom);
  if (!IsValidUtf8(text)) return EtfError::kMalformed;
  out->offset = arena_.size();
  out->size = text.size();
  arena_.append(text);
  return EtfError::kNone;
}

EtfError EtfDecoder::DecodeNumber(int* index, double* out) {
  int type = 0, size = 0;
  if (ei_get_type(buffer_.data(), index, &type, &size) != 0 || !Fits(*index, size)) return EtfError::kMalformed;
  switch (type) {
    case ERL_SMALL_INTEGER_EXT:
    case ERL_INTEGER_EXT:
    case ERL_SMALL_BIG_EXT:
    case ERL_LARGE_BIG_EXT: {
      long long v = 0;
      if (ei_decode_longlong(buffer_.data(), index, &v) != 0) return EtfError::kMalformed;
      *out = static_cast<double>(v);
      return EtfError::kNone;
    }
    case ERL_FLOAT_EXT: {
      if (ei_decode_double(buffer_.data(), index, out) != 0 || !std::isfinite(*out)) return EtfError::kMalformed;
      return EtfError::kNone;
    }
    default:
      return EtfError::kMalformed;
  }
}

EtfError EtfDecoder::DecodeBinary(int* index, size_t max, Span* out) {
  int type = 0, size = 0;
  if (ei_get_type(buffer_.data(), index, &type, &size) != 0 || type != ERL_BINARY_EXT || !Fits(*index, size)) {
    return EtfError::kMalformed;
  }
  if (static_cast<size_t>(size) > max) return EtfError::kLimitExceeded;
  out->offset = arena_.size();
  out->size = static_cast<size_t>(size);
  arena_.resize(arena_.size() + out->size);
  long len = 0;
  if (ei_decode_binary(buffer_.data(), index, arena_.data() + out->offset, &len) != 0) return EtfError::kMalformed;
  if (!IsValidUtf8(View(*out))) return EtfError::kMalformed;
  return EtfError::kNone;
}

EtfError EtfDecoder::DecodeListHeader(int* index, size_t max, int* count) {
  int type = 0, size = 0;
  if (ei_get_type(buffer_.data(), index, &type, &size) != 0 || !Fits(*index, size) ||
      (type != ERL_LIST_EXT && type != ERL_NIL_EXT)) {
    return EtfError::kMalformed;
  }
  if (ei_decode_list_header(buffer_.data(), index, count) != 0 || *count < 0) return EtfError::kMalformed;
  if (static_cast<size_t>(*count) > max) return EtfError::kLimitExceeded;
  return EtfError::kNone;
}

EtfError EtfDecoder::DecodeListTail(int* index, int count) {
  if (count == 0) return EtfError::kNone;  // an empty list is NIL alone
  int type = 0, size = 0, none = 0;
  if (ei_get_type(buffer_.data(), index, &type, &size) != 0 || type != ERL_NIL_EXT || !Fits(*index, size) ||
      ei_decode_list_header(buffer_.data(), index, &none) != 0) {
    return EtfError::kMalformed;
  }
  return EtfError::kNone;
}

EtfError EtfDecoder::DecodeScalarAsText(int* index, Span* out) {
  int type = 0, size = 0;
  if (ei_get_type(buffer_.data(), index, &type, &size) != 0 || !Fits(*index, size)) return EtfError::kMalformed;
  if (type == ERL_ATOM_EXT) return DecodeAtom(index, out);
  if (type == ERL_BINARY_EXT) return DecodeBinary(index, limits_.max_binary_bytes, out);
  bool integer = type == ERL_SMALL_INTEGER_EXT || type == ERL_INTEGER_EXT || type == ERL_SMALL_BIG_EXT ||
                 type == ERL_LARGE_BIG_EXT;
  double number = 0;
  long long whole = 0;
  if (integer) {
    if (ei_decode_longlong(buffer_.data(), index, &whole) != 0) return EtfError::kMalformed;
  } else if (DecodeNumber(index, &number) != EtfError::kNone) {
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

EtfError EtfDecoder::DecodeEvent(int* index, SampleSink& sink) {
  arena_.clear();
  name_segments_.clear();
  measurements_.clear();
  metadata_.clear();
  const char* buf = buffer_.data();
  int arity = 0;
  int type = 0, size = 0;
  if (ei_get_type(buf, index, &type, &size) != 0 || !Fits(*index, size)) return EtfError::kMalformed;
  if (ei_decode_tuple_header(buf, index, &arity) != 0 || arity != 4) return EtfError::kMalformed;

  // Event name: a non-empty proper list of atoms.
  if (ei_get_type(buf, index, &type, &size) != 0 || type != ERL_LIST_EXT || !Fits(*index, size)) {
    return EtfError::kMalformed;
  }
  int count = 0;
  if (ei_decode_list_header(buf, index, &count) != 0 || count <= 0) return EtfError::kMalformed;
  if (static_cast<size_t>(count) > limits_.max_name_segments) return EtfError::kLimitExceeded;
  for (int i = 0; i < count; ++i) {
    Span segment{};
    if (EtfError e = DecodeAtom(index, &segment); e != EtfError::kNone) return e;
    name_segments_.push_back(segment);
  }
  if (ei_get_type(buf, index, &type, &size) != 0 || type != ERL_NIL_EXT || !Fits(*index, size)) {
    return EtfError::kMalformed;
  }
  if (ei_decode_list_header(buf, index, &count) != 0) return EtfError::kMalformed;

  // Measurements: atom => number.
  if (ei_get_type(buf, index, &type, &size) != 0 || type != ERL_MAP_EXT || !Fits(*index, size)) {
    return EtfError::kMalformed;
  }
  if (ei_decode_map_header(buf, index, &count) != 0 || count < 0) return EtfError::kMalformed;
  if (static_cast<size_t>(count) > limits_.max_measurements) return EtfError::kLimitExceeded;
  for (int i = 0; i < count; ++i) {
    Measurement m{};
    if (EtfError e = DecodeAtom(index, &m.name); e != EtfError::kNone) return e;
    if (EtfError e = DecodeNumber(index, &m.value); e != EtfError::kNone) return e;
    measurements_.push_back(m);
  }

  // Metadata: atom => scalar, rendered as text.
  if (ei_get_type(buf, index, &type, &size) != 0 || type != ERL_MAP_EXT || !Fits(*index, size)) {
    return EtfError::kMalformed;
  }
  if (ei_decode_map_header(buf, index, &count) != 0 || count < 0) return EtfError::kMalformed;
  if (static_cast<size_t>(count) > limits_.max_metadata) return EtfError::kLimitExceeded;
  for (int i = 0; i < count; ++i) {
    MetadataEntry entry{};
    if (EtfError e = DecodeAtom(index, &entry.key); e != EtfError::kNone) return e;
    if (EtfError e = DecodeScalarAsText(index, &entry.value); e != EtfError::kNone) return e;
    metadata_.push_back(entry);
  }

  // Monotonic time: an integer, read for validation; Prometheus stamps at scrape time.
  double monotonic = 0;
  if (EtfError e = DecodeNumber(index, &monotonic); e != EtfError::kNone) return e;

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

EtfError EtfDecoder::DecodeBatchHeader(std::string_view datagram, char version, int* index, int* count) {
  if (!IsNativeDatagram(datagram)) return EtfError::kMalformed;
  if (datagram[3] != version) return EtfError::kUnsupportedVersion;
  std::string_view term = datagram.substr(4);
  buffer_.assign(term);
  buffer_.append(kPadding, '\0');
  term_size_ = term.size();
  const char* buf = buffer_.data();
  *index = 0;
  int term_version = 0;
  int type = 0, size = 0, arity = 0;
  if (term.empty() || static_cast<unsigned char>(term[0]) != kVersionTag ||
      ei_decode_version(buf, index, &term_version) != 0) {
    return EtfError::kMalformed;
  }
  // {Node, [...]}
  if (ei_get_type(buf, index, &type, &size) != 0 || !Fits(*index, size) ||
      ei_decode_tuple_header(buf, index, &arity) != 0 || arity != 2) {
    return EtfError::kMalformed;
  }
  arena_.clear();
  Span node{};
  if (EtfError e = DecodeAtom(index, &node); e != EtfError::kNone) return e;
  return DecodeListHeader(index, limits_.max_events, count);
}

EtfError EtfDecoder::DecodeBatchTail(int* index, int count) {
  if (EtfError e = DecodeListTail(index, count); e != EtfError::kNone) return e;
  return static_cast<size_t>(*index) == term_size_ ? EtfError::kNone : EtfError::kMalformed;
}

EtfResult EtfDecoder::Decode(std::string_view datagram, SampleSink& sink) {
  EtfResult result;
  int index = 0, count = 0;
  if (EtfError e = DecodeBatchHeader(datagram, kNativeVersion, &index, &count); e != EtfError::kNone) {
    result.error = e;
    return result;
  }
  for (int i = 0; i < count; ++i) {
    if (EtfError e = DecodeEvent(&index, sink); e != EtfError::kNone) {
      result.error = e;
      return result;
    }
    ++result.events;
  }
  result.error = DecodeBatchTail(&index, count);
  return result;
}

EtfResult EtfDecoder::DecodeAggregates(std::string_view datagram, AggregateSink& sink) {
  EtfResult result;
  int index = 0, count = 0;
  if (EtfError e = DecodeBatchHeader(datagram, kNativeAggregateVersion, &index, &count); e != EtfError::kNone) {
    result.error = e;
    return result;
  }
  for (int i = 0; i < count; ++i) {
    if (EtfError e = DecodeMetric(&index, sink, &result.events); e != EtfError::kNone) {
      result.error = e;
      return result;
    }
  }
  result.error = DecodeBatchTail(&index, count);
  return result;
}

EtfError EtfDecoder::DecodeMetric(int* index, AggregateSink& sink, size_t* delivered) {
  arena_.clear();
  buckets_.clear();
  label_names_.clear();
  const char* buf = buffer_.data();
  int type = 0, size = 0, arity = 0, count = 0;
  if (ei_get_type(buf, index, &type, &size) != 0 || !Fits(*index, size) ||
      ei_decode_tuple_header(buf, index, &arity) != 0 || arity != 6) {
    return EtfError::kMalformed;
  }
  Span name{}, kind{}, help{};
  if (EtfError e = DecodeBinary(index, limits_.max_binary_bytes, &name); e != EtfError::kNone) return e;
  if (EtfError e = DecodeAtom(index, &kind); e != EtfError::kNone) return e;
  if (EtfError e = DecodeBinary(index, limits_.max_binary_bytes, &help); e != EtfError::kNone) return e;
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

  if (EtfError e = DecodeListHeader(index, limits_.max_buckets, &count); e != EtfError::kNone) return e;
  for (int i = 0; i < count; ++i) {
    double bound = 0;
    if (EtfError e = DecodeNumber(index, &bound); e != EtfError::kNone) return e;
    if (!buckets_.empty() && bound <= buckets_.back()) return EtfError::kMalformed;  // ascending
    buckets_.push_back(bound);
  }
  if (EtfError e = DecodeListTail(index, count); e != EtfError::kNone) return e;
  if (sample.type != AggregateType::kHistogram && !buckets_.empty()) return EtfError::kMalformed;

  if (EtfError e = DecodeListHeader(index, limits_.max_metadata, &count); e != EtfError::kNone) return e;
  for (int i = 0; i < count; ++i) {
    Span label{};
    if (EtfError e = DecodeBinary(index, limits_.max_binary_bytes, &label); e != EtfError::kNone) return e;
    if (!IsValidLabelName(View(label)) || (sample.type == AggregateType::kHistogram && View(label) == "le")) {
      return EtfError::kMalformed;
    }
    label_names_.push_back(label);
  }
  if (EtfError e = DecodeListTail(index, count); e != EtfError::kNone) return e;
  // Series keys need the labels sorted by name: sort once per metric, refuse duplicates.
  label_order_.resize(label_names_.size());
  for (size_t i = 0; i < label_order_.size(); ++i) label_order_[i] = i;
  std::sort(label_order_.begin(), label_order_.end(),
            [this](size_t a, size_t b) { return View(label_names_[a]) < View(label_names_[b]); });
  for (size_t i = 1; i < label_order_.size(); ++i) {
    if (View(label_names_[label_order_[i - 1]]) == View(label_names_[label_order_[i]])) return EtfError::kMalformed;
  }

  if (EtfError e = DecodeListHeader(index, limits_.max_events, &count); e != EtfError::kNone) return e;
  const size_t header_end = arena_.size();
  for (int i = 0; i < count; ++i) {
    arena_.resize(header_end);
    if (EtfError e = DecodeSeries(index, &sample); e != EtfError::kNone) return e;
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
  return DecodeListTail(index, count);
}

EtfError EtfDecoder::DecodeSeries(int* index, AggregateSample* sample) {
  const char* buf = buffer_.data();
  int type = 0, size = 0, arity = 0, count = 0;
  if (ei_get_type(buf, index, &type, &size) != 0 || !Fits(*index, size) ||
      ei_decode_tuple_header(buf, index, &arity) != 0 || arity != 2) {
    return EtfError::kMalformed;
  }
  label_values_.clear();
  if (EtfError e = DecodeListHeader(index, limits_.max_metadata, &count); e != EtfError::kNone) return e;
  if (static_cast<size_t>(count) != label_names_.size()) return EtfError::kMalformed;
  for (int i = 0; i < count; ++i) {
    Span value{};
    if (EtfError e = DecodeBinary(index, limits_.max_binary_bytes, &value); e != EtfError::kNone) return e;
    label_values_.push_back(value);
  }
  if (EtfError e = DecodeListTail(index, count); e != EtfError::kNone) return e;

  switch (sample->type) {
    case AggregateType::kCounter:
      if (EtfError e = DecodeNumber(index, &sample->value); e != EtfError::kNone) return e;
      return sample->value >= 0 ? EtfError::kNone : EtfError::kMalformed;
    case AggregateType::kGauge: {
      Span op{};
      if (ei_get_type(buf, index, &type, &size) != 0 || !Fits(*index, size) ||
          ei_decode_tuple_header(buf, index, &arity) != 0 || arity != 2) {
        return EtfError::kMalformed;
      }
      if (EtfError e = DecodeAtom(index, &op); e != EtfError::kNone) return e;
      if (View(op) != "set" && View(op) != "add") return EtfError::kMalformed;
      sample->relative = View(op) == "add";
      return DecodeNumber(index, &sample->value);
    }
    case AggregateType::kHistogram: {
      if (ei_get_type(buf, index, &type, &size) != 0 || !Fits(*index, size) ||
          ei_decode_tuple_header(buf, index, &arity) != 0 || arity != 2) {
        return EtfError::kMalformed;
      }
      if (EtfError e = DecodeNumber(index, &sample->sum); e != EtfError::kNone) return e;
      if (ei_get_type(buf, index, &type, &size) != 0 || !Fits(*index, size) ||
          (type != ERL_SMALL_TUPLE_EXT && type != ERL_LARGE_TUPLE_EXT) ||
          ei_decode_tuple_header(buf, index, &arity) != 0 || static_cast<size_t>(arity) != buckets_.size() + 1) {
        return EtfError::kMalformed;
      }
      bucket_counts_.clear();
      for (int i = 0; i < arity; ++i) {
        unsigned long long n = 0;
        if (ei_get_type(buf, index, &type, &size) != 0 || !Fits(*index, size) ||
            ei_decode_ulonglong(buf, index, &n) != 0) {
          return EtfError::kMalformed;
        }
        bucket_counts_.push_back(n);
      }
      return EtfError::kNone;
    }
  }
  return EtfError::kMalformed;
}

}  // namespace beam_exporter::telemetry
