// One reader thread's processing chain: datagram -> (StatsD parser | ETF decoder) -> mapper ->
// its aggregator shard, counting everything in its IngestStats.
//
// Line cache: StatsD senders repeat the same lines with new values (same name, type, rate and
// tags). After a line went through the parser and mapper once, the line minus its value keys a
// cache entry holding everything needed to apply the next value straight to its series: the
// next such line costs a hash lookup and a number parse. Lines that produced an error, packed
// values or no series are never cached, so every error is still counted each time. Owned and used by exactly one
// thread; nothing here is shared except the shard (which has its own lock) and the immutable
// mapping rules.
#pragma once

#include <chrono>
#include <string_view>

#include "collectors/telemetry/aggregator.h"
#include "collectors/telemetry/etf_event.h"
#include "collectors/telemetry/ingest_stats.h"
#include "collectors/telemetry/mapper.h"
#include "collectors/telemetry/statsd_line.h"
#include "collectors/telemetry/string_hash.h"
#include "exporter/logging.h"

namespace beam_exporter::telemetry {

class Pipeline : public StatsdSink, public AggregateSink {
 public:
  Pipeline(StatsdDialects dialects, const MappingRules& rules, Aggregator::Shard* shard, IngestStats* stats);

  // One datagram (or one TCP line), received at `now`.
  void Process(std::string_view datagram, Aggregator::TimePoint now);
  // One StatsD line from a stream (TCP): never the native form.
  void ProcessStatsdLine(std::string_view line, Aggregator::TimePoint now);
  // The kernel's running count of drops on this thread's socket (SO_RXQ_OVFL).
  void SetKernelDrops(uint64_t total) { stats_->kernel_drops.store(total, std::memory_order_relaxed); }
  // A packet refused before parsing (e.g. truncated).
  void Drop(PacketDrop reason, std::string_view detail);

  void OnSample(const Sample& sample) override;
  void OnLineError(LineError error, std::string_view line) override;
  // A series delta of the aggregated native form: stored as the forwarder named and typed it
  // (no mapping rule), except names under the exporter's own prefix, which are refused unless
  // they are the forwarder's own counters (beam_exporter_forwarder_*).
  void OnAggregate(const AggregateSample& sample) override;

 private:
  struct CachedLine {
    bool drop = false;  // a rule drops it
    SampleKind kind = SampleKind::kGauge;
    SampleOutcome outcome = SampleOutcome::kMapped;
    double rate = 1;         // counters: divided by it
    double parse_scale = 1;  // others: multiplied by it (0.001 for ms timers)
    double rule_scale = 1;
    double unit_scale = 1;
    uint32_t repeat = 1;
    Aggregator::SeriesHandle handle;
  };
  // What the slow path saw for the line being cached.
  struct Capture {
    bool active = false;
    bool ok = true;
    int samples = 0;
    CachedLine line;
  };

  void ProcessPacket(std::string_view datagram);
  void ProcessLine(std::string_view line);
  // Applies `line` from the cache; false when it is not cached (or the entry went stale).
  bool ProcessCachedLine(std::string_view line, size_t colon, size_t bar);

  StatsdParser parser_;
  EtfDecoder decoder_;
  Mapper mapper_;
  Aggregator::Shard* shard_;
  IngestStats* stats_;
  Aggregator::TimePoint now_{};
  log::RateLimiter log_limiter_{std::chrono::seconds(10)};
  MappedSample mapped_;
  StringMap<CachedLine> line_cache_;
  std::string line_key_;
  Capture capture_;
  std::chrono::milliseconds default_ttl_;
  std::vector<Label> aggregate_labels_;
  std::vector<double> aggregate_buckets_;
};

}  // namespace beam_exporter::telemetry
