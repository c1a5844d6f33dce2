#include "collectors/beam/convert.h"

#include <algorithm>
#include <limits>
#include <tuple>

#include "exporter/families.h"

namespace beam_exporter::beam {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
class Builder {
 public:
  Builder(const ConvertOptions& options, std::vector<MetricFamily>* out)
      : options_(options), node_label_{{"node", options.node}}, out_(out) {}

  // The 6.x name, or the 4.x one in legacy mode.
  std::string Name(const char* current, const char* legacy_name) const { return legacy() ? legacy_name : current; }
  bool legacy() const { return options_.names == MetricNames::kLegacy; }

  std::vector<ClientMetric::Label> LabelsFor(const LabelPairs& labels) const { return MetricLabels(node_label_, labels); }

  // A new, empty family; fill it with Add() and hand it over with Emit().
  MetricFamily Family(const std::string& name, const std::string& help, MetricType type) const {
    return MakeFamily(name, help, type);
  }
  void Emit(MetricFamily family) { out_->push_back(std::move(family)); }

  void Add(MetricFamily& family, double value, const LabelPairs& labels = {}) const {
    AddSample(&family, labels, value, node_label_);
  }

  void Single(const std::string& name, const std::string& help, MetricType type, double value) {
    MetricFamily f = Family(name, help, type);
    Add(f, value);
    Emit(std::move(f));
  }

 private:
  const ConvertOptions& options_;
  const LabelPairs node_label_;  // on every series
  std::vector<MetricFamily>* out_;
};

int64_t Get(const std::map<std::string, int64_t>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

void Memory(const NodeSample& s, Builder& b) {
  const auto& m = s.memory;
  MetricFamily bytes = b.Family(b.Name("erlang_vm_memory_bytes", "erlang_vm_memory_bytes_total"),
                         "The total amount of memory currently allocated, by kind (erlang:memory/0).",
                         MetricType::Gauge);
  b.Add(bytes, Get(m, "processes"), {{"kind", "processes"}});
  b.Add(bytes, Get(m, "system"), {{"kind", "system"}});
  b.Emit(std::move(bytes));

  // erlang:memory's `kind` and `kind_used` as one family with usage="used" and usage="free".
  auto used_and_free = [&](const std::string& kind, const std::string& what) {
    const std::string name = "erlang_vm_memory_" + kind + "_bytes";
    const std::string legacy_name = name + "_total";
    MetricFamily family = b.Family(b.Name(name.c_str(), legacy_name.c_str()),
                                   "Memory allocated for " + what + ", used and free (erlang:memory/0).",
                                   MetricType::Gauge);
    b.Add(family, Get(m, kind + "_used"), {{"usage", "used"}});
    b.Add(family, Get(m, kind) - Get(m, kind + "_used"), {{"usage", "free"}});
    b.Emit(std::move(family));
  };
  used_and_free("processes", "Erlang processes");

  MetricFamily system = b.Family(b.Name("erlang_vm_memory_system_bytes", "erlang_vm_memory_system_bytes_total"),
                          "Memory not directly related to Erlang processes, by usage (erlang:memory/0).",
                          MetricType::Gauge);
  int64_t other = Get(m, "system") - Get(m, "atom") - Get(m, "binary") - Get(m, "code") - Get(m, "ets");
  for (const char* usage : {"atom", "binary", "code", "ets"}) b.Add(system, Get(m, usage), {{"usage", usage}});
  b.Add(system, other, {{"usage", "other"}});
  b.Emit(std::move(system));

  used_and_free("atom", "atoms");

  b.Single("erlang_vm_memory_total_bytes", "Total memory allocated by the VM, erlang:memory(total).",
           MetricType::Gauge, Get(m, "total"));
}

void SystemInfo(const NodeSample& s, Builder& b) {
  struct Item {
    const char* key;
    const char* current;
    const char* legacy;
    const char* help;
  };
  static const Item kItems[] = {
      {"process_count", "erlang_vm_processes", "erlang_vm_process_count", "The number of processes currently existing on the node."},
      {"process_limit", "erlang_vm_process_limit", "erlang_vm_process_limit", "The maximum number of simultaneously existing processes."},
      {"port_count", "erlang_vm_ports", "erlang_vm_port_count", "The number of ports currently existing on the node."},
      {"port_limit", "erlang_vm_port_limit", "erlang_vm_port_limit", "The maximum number of simultaneously existing ports."},
      {"atom_count", "erlang_vm_atoms", "erlang_vm_atom_count", "The number of atoms currently existing on the node."},
      {"atom_limit", "erlang_vm_atom_limit", "erlang_vm_atom_limit", "The maximum number of simultaneously existing atoms."},
      {"ets_count", "erlang_vm_ets_tables", "erlang_vm_memory_ets_tables", "The number of ETS tables, erlang:system_info(ets_count)."},
      {"ets_limit", "erlang_vm_ets_limit", "erlang_vm_ets_limit", "The maximum number of ETS tables allowed (advisory on OTP 25)."},
      {"schedulers", "erlang_vm_schedulers", "erlang_vm_schedulers", "The number of scheduler threads used by the emulator."},
      {"schedulers_online", "erlang_vm_schedulers_online", "erlang_vm_schedulers_online", "The number of schedulers online."},
      {"dirty_cpu_schedulers_online", "erlang_vm_dirty_cpu_schedulers_online", "erlang_vm_dirty_cpu_schedulers_online",
       "The number of dirty CPU scheduler threads online."},
      {"dirty_io_schedulers", "erlang_vm_dirty_io_schedulers", "erlang_vm_dirty_io_schedulers",
       "The number of dirty I/O scheduler threads."},
      {"logical_processors", "erlang_vm_logical_processors", "erlang_vm_logical_processors",
       "The detected number of logical processors configured in the system."},
  };
  for (const Item& item : kItems) {
    auto it = s.system_info.find(item.key);
    if (it == s.system_info.end()) continue;
    b.Single(b.Name(item.current, item.legacy), item.help, MetricType::Gauge, static_cast<double>(it->second));
  }
  MetricFamily info = b.Family("erlang_vm_info", "Always 1; labels give the OTP release and ERTS version.", MetricType::Gauge);
  b.Add(info, 1, {{"otp_release", s.otp_release}, {"erts_version", s.erts_version}});
  b.Emit(std::move(info));
  b.Single("erlang_vm_uptime_seconds", "Time since the node started, statistics(wall_clock).", MetricType::Gauge,
           static_cast<double>(Get(s.statistics, "wall_clock_ms")) / 1000.0);
  b.Single("erlang_vm_dist_peers",
           "Nodes connected to this node over distribution (visible and hidden), not counting this exporter.",
           MetricType::Gauge, static_cast<double>(std::max<int64_t>(0, s.connected_nodes - 1)));
}

void Statistics(const NodeSample& s, Builder& b) {
  const auto& st = s.statistics;
  b.Single("erlang_vm_statistics_run_queues_length", "The total length of the normal run queues, statistics(run_queue).",
           MetricType::Gauge, Get(st, "run_queue"));
  if (s.dirty_cpu_run_queue) {
    b.Single("erlang_vm_statistics_dirty_cpu_run_queue_length", "The length of the dirty CPU run queue.",
             MetricType::Gauge, static_cast<double>(*s.dirty_cpu_run_queue));
  }
  if (s.dirty_io_run_queue) {
    b.Single("erlang_vm_statistics_dirty_io_run_queue_length", "The length of the dirty I/O run queue.",
             MetricType::Gauge, static_cast<double>(*s.dirty_io_run_queue));
  }
  b.Single("erlang_vm_statistics_reductions_total", "Total reductions, statistics(reductions).", MetricType::Counter,
           Get(st, "reductions"));
  b.Single(b.Name("erlang_vm_statistics_context_switches_total", "erlang_vm_statistics_context_switches"),
           "Total context switches since the node started.", MetricType::Counter, Get(st, "context_switches"));
  b.Single(b.Name("erlang_vm_statistics_garbage_collection_number_of_gcs_total",
                  "erlang_vm_statistics_garbage_collection_number_of_gcs"),
           "Garbage collections since the node started.", MetricType::Counter, Get(st, "gc_count"));
  b.Single(b.Name("erlang_vm_statistics_garbage_collection_words_reclaimed_total",
                  "erlang_vm_statistics_garbage_collection_words_reclaimed"),
           "Words reclaimed by garbage collection since the node started.", MetricType::Counter,
           Get(st, "gc_words_reclaimed"));
  b.Single(b.Name("erlang_vm_statistics_garbage_collection_bytes_reclaimed_total",
                  "erlang_vm_statistics_garbage_collection_bytes_reclaimed"),
           "Bytes reclaimed by garbage collection since the node started (words times word size).",
           MetricType::Counter,
           static_cast<double>(Get(st, "gc_words_reclaimed")) * static_cast<double>(Get(s.system_info, "wordsize")));
  b.Single("erlang_vm_statistics_bytes_received_total", "Bytes received through ports, statistics(io).",
           MetricType::Counter, Get(st, "io_input_bytes"));
  b.Single("erlang_vm_statistics_bytes_output_total", "Bytes output to ports, statistics(io).", MetricType::Counter,
           Get(st, "io_output_bytes"));
  // 6.x names say seconds and we convert; 4.x names say milliseconds and keep them.
  const double ms_scale = b.legacy() ? 1.0 : 1000.0;
  b.Single(b.Name("erlang_vm_statistics_runtime_seconds_total", "erlang_vm_statistics_runtime_milliseconds"),
           "CPU time of all emulator threads since the node started, statistics(runtime).", MetricType::Counter,
           static_cast<double>(Get(st, "runtime_ms")) / ms_scale);
  b.Single(b.Name("erlang_vm_statistics_wallclock_time_seconds_total", "erlang_vm_statistics_wallclock_time_milliseconds"),
           "Wall clock time since the node started, statistics(wall_clock).", MetricType::Counter,
           static_cast<double>(Get(st, "wall_clock_ms")) / ms_scale);
}

void Mailboxes(const NodeSample& s, Builder& b) {
  MetricFamily hist = b.Family("erlang_vm_process_message_queue_length",
                        "Distribution of message queue lengths over all processes; _sum is the total queued messages.",
                        MetricType::Histogram);
  ClientMetric m;
  m.label = b.LabelsFor({});
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kMailboxBuckets; ++i) {
    cumulative += static_cast<uint64_t>(std::max<int64_t>(0, s.mailbox_buckets[i]));
    double bound = i < kMailboxBucketBounds.size() ? kMailboxBucketBounds[i] : std::numeric_limits<double>::infinity();
    m.histogram.bucket.push_back({cumulative, bound});
  }
  m.histogram.sample_count = cumulative;
  m.histogram.sample_sum = static_cast<double>(s.mailbox_messages);
  hist.metric.push_back(std::move(m));
  b.Emit(std::move(hist));

  MetricFamily len = b.Family("erlang_vm_top_process_message_queue_length",
                       "Message queue length of the processes with the longest queues (top N, non-empty only).",
                       MetricType::Gauge);
  MetricFamily mem = b.Family("erlang_vm_top_mailbox_process_memory_bytes",
                       "Memory of the processes listed in erlang_vm_top_process_message_queue_length.", MetricType::Gauge);
  MetricFamily reds = b.Family("erlang_vm_top_mailbox_process_reductions",
                        "Reductions of the processes listed in erlang_vm_top_process_message_queue_length.",
                        MetricType::Gauge);
  MetricFamily info = b.Family("erlang_vm_top_mailbox_process_info",
                        "Always 1; current function of the processes listed in erlang_vm_top_process_message_queue_length.",
                        MetricType::Gauge);
  for (const ProcessRow& r : s.top_mailbox) {
    LabelPairs labels = {{"process", r.process}, {"pid", r.pid}};
    b.Add(len, static_cast<double>(r.message_queue_len), labels);
    b.Add(mem, static_cast<double>(r.memory_bytes), labels);
    b.Add(reds, static_cast<double>(r.reductions), labels);
    labels.emplace_back("current_function", r.current_function);
    b.Add(info, 1, labels);
  }
  b.Emit(std::move(len));
  b.Emit(std::move(mem));
  b.Emit(std::move(reds));
  b.Emit(std::move(info));
}

void TopMemory(const NodeSample& s, Builder& b) {
  MetricFamily mem = b.Family("erlang_vm_top_process_memory_bytes", "Memory of the processes using the most memory (top N).",
                       MetricType::Gauge);
  for (const MemoryRow& r : s.top_memory) {
    b.Add(mem, static_cast<double>(r.memory_bytes), {{"process", r.process}, {"pid", r.pid}});
  }
  b.Emit(std::move(mem));
}

void Groups(const NodeSample& s, Builder& b) {
  MetricFamily groups = b.Family("erlang_vm_process_group_processes",
                          "Live processes started from the modules of each configured process group.", MetricType::Gauge);
  for (const auto& [name, count] : s.groups) b.Add(groups, static_cast<double>(count), {{"group", name}});
  b.Emit(std::move(groups));
  b.Single("beam_exporter_beam_groups_coverage_ratio",
           "Share of processes the last process-group pass covered before its time budget ran out.", MetricType::Gauge,
           s.groups_total > 0 ? std::min(1.0, static_cast<double>(s.groups_scanned) / static_cast<double>(s.groups_total)) : 1.0);
}

// The age and cost of what each scan serves: the scans run as often as cpu_budget allows, so a
// served value can be minutes old at a million processes and says so.
void ScanTimes(const NodeSample& s, Builder& b) {
  MetricFamily when = b.Family("beam_exporter_beam_last_scan_timestamp_seconds",
                               "Unix time the served values of each scan were read from the node (scans are spaced "
                               "to keep the collection within cpu_budget).",
                               MetricType::Gauge);
  for (const auto& [scan, time] : s.scan_timestamps) b.Add(when, time, {{"scan", scan}});
  b.Emit(std::move(when));
  MetricFamily cost = b.Family("beam_exporter_beam_scan_node_seconds",
                               "Node time (on-node timer) of the run of each scan whose values are served; what "
                               "the cpu_budget was charged for it.",
                               MetricType::Gauge);
  for (const auto& [scan, seconds] : s.scan_node_seconds) b.Add(cost, seconds, {{"scan", scan}});
  b.Emit(std::move(cost));
}

void Ets(const NodeSample& s, Builder& b) {
  // Unnamed tables can share a name and owner: rows with the same labels are summed so every
  // series is unique.
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::pair<int64_t, int64_t>> rows;
  std::vector<std::tuple<std::string, std::string, std::string, std::string>> order;
  for (const EtsRow& r : s.ets) {
    auto key = std::make_tuple(r.table, r.owner, r.type, r.protection);
    auto [it, inserted] = rows.try_emplace(key, 0, 0);
    if (inserted) order.push_back(key);
    it->second.first += r.size;
    it->second.second += r.memory_bytes;
  }
  MetricFamily size = b.Family("erlang_vm_ets_table_size",
                        "Objects in the ETS tables using the most memory (top M); table=\"_other\" sums the rest.",
                        MetricType::Gauge);
  MetricFamily memory = b.Family("erlang_vm_ets_table_memory_bytes",
                          "Memory of the ETS tables using the most memory (top M); table=\"_other\" sums the rest.",
                          MetricType::Gauge);
  for (const auto& key : order) {
    const auto& [table, owner, type, protection] = key;
    LabelPairs labels = {{"table", table}, {"owner", owner}, {"type", type}, {"protection", protection}};
    b.Add(size, static_cast<double>(rows[key].first), labels);
    b.Add(memory, static_cast<double>(rows[key].second), labels);
  }
  LabelPairs other = {{"table", "_other"}, {"owner", "_other"}, {"type", "_other"}, {"protection", "_other"}};
  b.Add(size, static_cast<double>(s.ets_other.size), other);
  b.Add(memory, static_cast<double>(s.ets_other.memory_bytes), other);
  b.Emit(std::move(size));
  b.Emit(std::move(memory));
}

}  // namespace

std::map<std::string, double> SchedulerUtilization(const std::vector<SchedulerTime>& previous,
                                                   const std::vector<SchedulerTime>& current) {
  std::map<std::string, double> out;
  for (const SchedulerTime& now : current) {
    for (const SchedulerTime& before : previous) {
      if (before.type != now.type) continue;
      double total = now.total - before.total;
      double active = now.active - before.active;
      if (total > 0 && active >= 0) out[now.type] = std::clamp(active / total, 0.0, 1.0);
    }
  }
  return out;
}

std::vector<MetricFamily> NodeFamilies(const NodeSample& sample,
                                       const std::map<std::string, double>& scheduler_utilization,
                                       const ConvertOptions& options) {
  std::vector<MetricFamily> out;
  Builder b(options, &out);
  Memory(sample, b);
  SystemInfo(sample, b);
  Statistics(sample, b);
  if (!scheduler_utilization.empty()) {
    MetricFamily util = b.Family("erlang_vm_scheduler_utilization",
                          "Scheduler utilisation (0..1) per scheduler type over the last collection interval.",
                          MetricType::Gauge);
    for (const auto& [type, value] : scheduler_utilization) b.Add(util, value, {{"type", type}});
    b.Emit(std::move(util));
  }
  if (sample.has_mailboxes) Mailboxes(sample, b);
  if (sample.has_memory) TopMemory(sample, b);
  if (sample.has_groups) Groups(sample, b);
  if (sample.has_ets) Ets(sample, b);
  if (!sample.scan_timestamps.empty()) ScanTimes(sample, b);
  return out;
}

std::vector<MetricFamily> CollectorStateFamilies(const CollectorState& state, const ConvertOptions& options) {
  std::vector<MetricFamily> out;
  Builder b(options, &out);
  b.Single("beam_up", "1 if the last collection from the node succeeded and is fresh, else 0.", MetricType::Gauge,
           state.up ? 1 : 0);
  MetricFamily errors = b.Family("beam_exporter_beam_connect_errors_total",
                          "Failed attempts to connect to or talk to the node, by reason.", MetricType::Counter);
  for (const auto& [reason, count] : state.connect_errors) {
    b.Add(errors, static_cast<double>(count), {{"reason", reason}});
  }
  b.Emit(std::move(errors));
  b.Single("beam_exporter_beam_last_collection_timestamp_seconds",
           "Unix time of the last successful collection from the node (0: none yet).", MetricType::Gauge,
           state.last_collection_timestamp_seconds);
  b.Single("beam_exporter_beam_collection_duration_seconds",
           "Wall time of the last successful collection (all RPCs and decoding).", MetricType::Gauge,
           state.collection_duration_seconds);
  b.Single("beam_exporter_beam_reply_bytes", "Size of the node's replies in the last successful collection.",
           MetricType::Gauge, state.reply_bytes);
  return out;
}

}  // namespace beam_exporter::beam
