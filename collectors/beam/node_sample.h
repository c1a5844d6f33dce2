// What one collection read from the node, decoded into plain values (no ETF, no metrics).
// Filled by sample_decoder from the probe's reply or from plain BIF replies; turned into
// metric families by convert.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace beam_exporter::beam {

// Upper bounds of the mailbox histogram buckets (the last one is +Inf); the probe uses the
// same boundaries (beam_exporter_probe:bucket/1).
inline constexpr std::array<double, 7> kMailboxBucketBounds = {0, 1, 10, 100, 1000, 10000, 100000};
inline constexpr size_t kMailboxBuckets = kMailboxBucketBounds.size() + 1;

// Scheduler time summed over the schedulers of one type, from statistics(scheduler_wall_time_all),
// in perf-counter units (only ratios of differences are meaningful).
struct SchedulerTime {
  std::string type;  // normal | dirty_cpu | dirty_io
  double active = 0;
  double total = 0;
};

struct ProcessRow {
  std::string process;  // registered name, else initial module
  std::string pid;      // "<0.123.0>"
  int64_t message_queue_len = 0;
  int64_t memory_bytes = 0;
  int64_t reductions = 0;
  std::string current_function;  // "Mod:fun/arity"
};

struct MemoryRow {
  std::string process;
  std::string pid;
  int64_t memory_bytes = 0;
};

struct EtsRow {
  std::string table;
  std::string owner;
  std::string type;
  std::string protection;
  int64_t size = 0;  // objects
  int64_t memory_bytes = 0;
};

struct EtsOther {
  int64_t tables = 0;
  int64_t size = 0;
  int64_t memory_bytes = 0;
};

struct NodeSample {
  // erlang:memory() items by name (total, processes, processes_used, system, atom, atom_used,
  // binary, code, ets).
  std::map<std::string, int64_t> memory;
  // Integer erlang:system_info/1 items by name (logical_processors may be absent: `unknown`).
  std::map<std::string, int64_t> system_info;
  std::string otp_release;
  std::string erts_version;
  // Counters and gauges from erlang:statistics/1 by the probe's key names (run_queue,
  // reductions, context_switches, gc_count, gc_words_reclaimed, io_input_bytes,
  // io_output_bytes, runtime_ms, wall_clock_ms).
  std::map<std::string, int64_t> statistics;
  std::optional<int64_t> dirty_cpu_run_queue;
  std::optional<int64_t> dirty_io_run_queue;
  int64_t connected_nodes = 0;  // length(nodes(connected)), including this exporter
  std::vector<SchedulerTime> scheduler_wall_time;  // empty while the flag is off

  // The scans (beam_exporter_probe:collect/1 and groups/1), each run as often as the collector's
  // cpu_budget allows (scan_budget.h); a part is filled when its scan's values are known.
  bool has_mailboxes = false;
  std::array<int64_t, kMailboxBuckets> mailbox_buckets{};  // non-cumulative counts
  int64_t mailbox_messages = 0;
  std::vector<ProcessRow> top_mailbox;

  bool has_memory = false;
  std::vector<MemoryRow> top_memory;

  bool has_groups = false;
  std::vector<std::pair<std::string, int64_t>> groups;
  int64_t groups_scanned = 0;  // processes the pass covered before its time limit
  int64_t groups_total = 0;    // processes when the pass started

  bool has_ets = false;
  std::vector<EtsRow> ets;
  EtsOther ets_other;

  std::map<std::string, int64_t> probe_timings_us;

  // By scan name (ScanName): the Unix time the served values were read and that run's node
  // time in seconds; only scans that have run since the exporter connected.
  std::map<std::string, double> scan_timestamps;
  std::map<std::string, double> scan_node_seconds;
};

}  // namespace beam_exporter::beam
