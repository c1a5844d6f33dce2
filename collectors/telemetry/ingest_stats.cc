#include "collectors/telemetry/ingest_stats.h"

namespace beam_exporter::telemetry {

std::string_view PacketDropName(PacketDrop drop) {
  switch (drop) {
    case PacketDrop::kTooLarge: return "too_large";
    case PacketDrop::kUnsupportedVersion: return "unsupported_version";
    case PacketDrop::kMalformedEtf: return "malformed_etf";
    case PacketDrop::kEtfLimitExceeded: return "etf_limit_exceeded";
    case PacketDrop::kCount: break;
  }
  return "unknown";
}

std::string_view SampleOutcomeName(SampleOutcome outcome) {
  switch (outcome) {
    case SampleOutcome::kMapped: return "mapped";
    case SampleOutcome::kDefault: return "unmapped";
    case SampleOutcome::kDropped: return "dropped_by_rule";
    case SampleOutcome::kInvalidName: return "invalid_name";
    case SampleOutcome::kCount: break;
  }
  return "unknown";
}

void IngestCounts::Add(const IngestStats& s) {
  auto read = [](const std::atomic<uint64_t>& counter) { return counter.load(std::memory_order_acquire); };
  packets += read(s.packets);
  lines += read(s.lines);
  native_events += read(s.native_events);
  native_series_deltas += read(s.native_series_deltas);
  for (size_t i = 0; i < line_errors.size(); ++i) line_errors[i] += read(s.line_errors[i]);
  for (size_t i = 0; i < packet_drops.size(); ++i) packet_drops[i] += read(s.packet_drops[i]);
  for (size_t i = 0; i < samples.size(); ++i) samples[i] += read(s.samples[i]);
  kernel_drops += read(s.kernel_drops);
}

}  // namespace beam_exporter::telemetry
