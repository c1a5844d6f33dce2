// Counters of what the listeners received and refused. Each reader thread owns one
// IngestStats and is its only writer (no read-modify-write, no sharing on the hot path);
// Collect() sums them on the scrape thread. Stores release and sums acquire, so a scrape that
// sees a packet counted also sees what the reader stored before counting it.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "collectors/telemetry/etf_event.h"
#include "collectors/telemetry/statsd_line.h"

namespace beam_exporter::telemetry {

enum class PacketDrop : uint8_t {
  kTooLarge,           // datagram truncated by our receive buffer, or TCP line too long
  kUnsupportedVersion, // native form with an unknown version
  kMalformedEtf,
  kEtfLimitExceeded,
  kCount,
};
std::string_view PacketDropName(PacketDrop drop);

enum class SampleOutcome : uint8_t { kMapped, kDefault, kDropped, kInvalidName, kCount };
std::string_view SampleOutcomeName(SampleOutcome outcome);

struct IngestStats {
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> lines{0};
  std::atomic<uint64_t> native_events{0};
  std::atomic<uint64_t> native_series_deltas{0};  // native form version 2 (aggregated in the app)
  std::array<std::atomic<uint64_t>, static_cast<size_t>(LineError::kCount)> line_errors{};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(PacketDrop::kCount)> packet_drops{};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(SampleOutcome::kCount)> samples{};
  // SO_RXQ_OVFL: the kernel's running count of datagrams dropped on this reader's socket.
  std::atomic<uint64_t> kernel_drops{0};

  static void Bump(std::atomic<uint64_t>& counter, uint64_t n = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_release);
  }
};

// The IngestStats of all readers summed at one moment, as plain numbers.
struct IngestCounts {
  uint64_t packets = 0;
  uint64_t lines = 0;
  uint64_t native_events = 0;
  uint64_t native_series_deltas = 0;
  std::array<uint64_t, static_cast<size_t>(LineError::kCount)> line_errors{};
  std::array<uint64_t, static_cast<size_t>(PacketDrop::kCount)> packet_drops{};
  std::array<uint64_t, static_cast<size_t>(SampleOutcome::kCount)> samples{};
  uint64_t kernel_drops = 0;

  void Add(const IngestStats& s);
};

}  // namespace beam_exporter::telemetry
