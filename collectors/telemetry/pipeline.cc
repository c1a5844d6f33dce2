#include "collectors/telemetry/pipeline.h"

#include <string>

namespace beam_exporter::telemetry {
namespace {

// Bad input is quoted in logs only up to this many bytes.
constexpr size_t kMaxQuoted = 200;
// Line cache entries per reader; the cache is cleared when full.
constexpr size_t kLineCacheLimit = 20000;

std::string Quote(std::string_view text) {
  std::string out(text.substr(0, kMaxQuoted));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return out;
}

}  // namespace

Pipeline::Pipeline(StatsdDialects dialects, const MappingRules& rules, Aggregator::Shard* shard, IngestStats* stats)
    : parser_(dialects), decoder_(), mapper_(rules), shard_(shard), stats_(stats), default_ttl_(rules.default_ttl) {}

void Pipeline::Process(std::string_view datagram, Aggregator::TimePoint now) {
  now_ = now;
  ProcessPacket(datagram);
  // Counted after processing, so a reader of the counter knows the packet's samples are stored.
  IngestStats::Bump(stats_->packets);
}

void Pipeline::ProcessPacket(std::string_view datagram) {
  if (IsNativeDatagram(datagram)) {
    const bool aggregated = datagram[3] == kNativeAggregateVersion;
    EtfResult r = aggregated ? decoder_.DecodeAggregates(datagram, *this) : decoder_.Decode(datagram, *this);
    IngestStats::Bump(aggregated ? stats_->native_series_deltas : stats_->native_events, r.events);
    if (r.error != EtfError::kNone) {
      PacketDrop drop = r.error == EtfError::kUnsupportedVersion ? PacketDrop::kUnsupportedVersion
                      : r.error == EtfError::kLimitExceeded      ? PacketDrop::kEtfLimitExceeded
                                                                 : PacketDrop::kMalformedEtf;
      Drop(drop, datagram.substr(0, 4));
    }
    return;
  }
  const uint64_t lines = ForEachLine(datagram, [this](std::string_view line) { ProcessLine(line); });
  IngestStats::Bump(stats_->lines, lines);
}

void Pipeline::ProcessStatsdLine(std::string_view line, Aggregator::TimePoint now) {
  now_ = now;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return;
  ProcessLine(line);
  IngestStats::Bump(stats_->lines);
}

void Pipeline::ProcessLine(std::string_view line) {
  size_t colon = line.find(':');
  size_t bar = colon == std::string_view::npos ? colon : line.find('|', colon);
  bool cacheable =
      bar != std::string_view::npos && line.substr(colon + 1, bar - colon - 1).find(':') == std::string_view::npos;
  if (cacheable && ProcessCachedLine(line, colon, bar)) return;

  capture_ = Capture{};
  capture_.active = cacheable;
  parser_.ParseLine(line, *this);
  capture_.active = false;
  if (!cacheable || !capture_.ok || capture_.samples != 1) return;
  if (!capture_.line.drop && capture_.line.handle.family_series == nullptr) return;
  if (line_cache_.size() >= kLineCacheLimit) line_cache_.clear();
  line_cache_.insert_or_assign(line_key_, capture_.line);  // line_key_ was built by ProcessCachedLine
}

bool Pipeline::ProcessCachedLine(std::string_view line, size_t colon, size_t bar) {
  line_key_.assign(line.substr(0, colon));
  line_key_.push_back('\n');  // never inside a line, so keys of different lines differ
  line_key_.append(line.substr(bar));
  auto it = line_cache_.find(line_key_);
  if (it == line_cache_.end()) return false;
  const CachedLine& c = it->second;
  std::string_view text = line.substr(colon + 1, bar - colon - 1);
  double v = 0;
  if (!ParseStatsdValue(text, &v)) return false;  // the slow path counts the error
  if (c.kind == SampleKind::kCounter && v < 0) return false;
  if (c.drop) {
    IngestStats::Bump(stats_->samples[static_cast<size_t>(c.outcome)]);
    return true;
  }
  double parsed = c.kind == SampleKind::kCounter ? v / c.rate : v * c.parse_scale;
  double value = parsed * c.rule_scale * c.unit_scale;
  bool relative = c.kind == SampleKind::kGauge && (text.front() == '+' || text.front() == '-');
  if (!shard_->AddTo(c.handle, value, c.kind == SampleKind::kObserver ? c.repeat : 1, relative, now_)) {
    line_cache_.erase(it);  // stale: the shard removed series since; take the slow path
    return false;
  }
  IngestStats::Bump(stats_->samples[static_cast<size_t>(c.outcome)]);
  return true;
}

void Pipeline::Drop(PacketDrop reason, std::string_view detail) {
  IngestStats::Bump(stats_->packet_drops[static_cast<size_t>(reason)]);
  uint64_t suppressed = 0;
  std::string_view name = PacketDropName(reason);
  if (log_limiter_.Allow(name, &suppressed)) {
    log::Warn("telemetry packet dropped",
              {{"reason", std::string(name)}, {"start", Quote(detail)}, {"suppressed", std::to_string(suppressed)}});
  }
}

void Pipeline::OnSample(const Sample& sample) {
  MapOutcome outcome = mapper_.Map(sample, &mapped_);
  if (capture_.active) {
    ++capture_.samples;
    CachedLine& c = capture_.line;
    c.drop = outcome == MapOutcome::kDropped;
    c.kind = sample.kind;
    c.rate = sample.rate;
    c.parse_scale = sample.kind == SampleKind::kObserver && sample.in_seconds ? 0.001 : 1;
    c.rule_scale = mapped_.rule_scale;
    c.unit_scale = mapped_.unit_scale;
    c.repeat = sample.repeat;
    capture_.ok = capture_.ok && outcome != MapOutcome::kInvalidName;
  }
  SampleOutcome counted = outcome == MapOutcome::kMapped    ? SampleOutcome::kMapped
                        : outcome == MapOutcome::kDefault   ? SampleOutcome::kDefault
                        : outcome == MapOutcome::kDropped   ? SampleOutcome::kDropped
                                                            : SampleOutcome::kInvalidName;
  IngestStats::Bump(stats_->samples[static_cast<size_t>(counted)]);
  if (outcome == MapOutcome::kMapped || outcome == MapOutcome::kDefault) {
    shard_->Add(mapped_, now_, capture_.active ? &capture_.line.handle : nullptr);
  }
  if (capture_.active) capture_.line.outcome = counted;
}

void Pipeline::OnAggregate(const AggregateSample& sample) {
  if (sample.name.starts_with("beam_exporter_") && !sample.name.starts_with("beam_exporter_forwarder_")) {
    IngestStats::Bump(stats_->samples[static_cast<size_t>(SampleOutcome::kInvalidName)]);
    return;
  }
  aggregate_labels_.clear();
  for (const Tag& t : sample.labels) aggregate_labels_.push_back({t.key, t.value});
  MappedSample mapped;
  mapped.name = sample.name;
  mapped.help = sample.help;
  mapped.ttl = default_ttl_;
  mapped.labels = aggregate_labels_;
  mapped.value = sample.value;
  mapped.relative = sample.relative;
  IngestStats::Bump(stats_->samples[static_cast<size_t>(SampleOutcome::kMapped)]);
  switch (sample.type) {
    case AggregateType::kCounter:
      mapped.type = MetricType::kCounter;
      shard_->Add(mapped, now_);
      return;
    case AggregateType::kGauge:
      mapped.type = MetricType::kGauge;
      shard_->Add(mapped, now_);
      return;
    case AggregateType::kHistogram:
      mapped.type = MetricType::kHistogram;
      aggregate_buckets_.assign(sample.buckets.begin(), sample.buckets.end());
      mapped.buckets = &aggregate_buckets_;
      shard_->AddHistogram(mapped, sample.bucket_counts, sample.sum, now_);
      return;
  }
}

void Pipeline::OnLineError(LineError error, std::string_view line) {
  capture_.ok = false;
  IngestStats::Bump(stats_->line_errors[static_cast<size_t>(error)]);
  uint64_t suppressed = 0;
  std::string_view name = LineErrorName(error);
  if (log_limiter_.Allow(name, &suppressed)) {
    log::Warn("bad telemetry line",
              {{"reason", std::string(name)}, {"line", Quote(line)}, {"suppressed", std::to_string(suppressed)}});
  }
}

}  // namespace beam_exporter::telemetry
