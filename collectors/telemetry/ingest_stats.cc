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

}  // namespace beam_exporter::telemetry
