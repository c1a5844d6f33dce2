#include "collectors/beam/beam_collector.h"

#include <algorithm>

#include "collectors/beam/backoff.h"
#include "collectors/beam/convert.h"
#include "collectors/beam/probe_args.h"
#include "collectors/beam/probe_image.h"
#include "collectors/beam/sample_decoder.h"
#include "collectors/beam/scan_budget.h"
#include "exporter/families.h"
#include "exporter/logging.h"

namespace beam_exporter::beam {
namespace {

using Clock = std::chrono::steady_clock;

// The memory scan reads heap_size (for the ranking's candidates) for one slice of the processes
// each run, so a process that starts hoarding memory is ranked within this many runs (a minute
// at the default interval on a node small enough for the scan to keep it); rows already ranked
// are re-read every time.
constexpr int kMemorySlices = 6;

int64_t InfoOr0(const NodeSample& s, const char* key) {
  auto it = s.system_info.find(key);
  return it == s.system_info.end() ? 0 : it->second;
}

// Copies the values `scan` produced from one sample to another.
void CopyScanPart(Scan scan, const NodeSample& from, NodeSample* to) {
  switch (scan) {
    case Scan::kMailboxes:
      to->has_mailboxes = from.has_mailboxes;
      to->mailbox_buckets = from.mailbox_buckets;
      to->mailbox_messages = from.mailbox_messages;
      to->top_mailbox = from.top_mailbox;
      break;
    case Scan::kMemory:
      to->has_memory = from.has_memory;
      to->top_memory = from.top_memory;
      break;
    case Scan::kEts:
      to->has_ets = from.has_ets;
      to->ets = from.ets;
      to->ets_other = from.ets_other;
      break;
    case Scan::kGroups:
      to->has_groups = from.has_groups;
      to->groups = from.groups;
      to->groups_scanned = from.groups_scanned;
      to->groups_total = from.groups_total;
      break;
  }
}

std::vector<Scan> ScansInUse(const BeamConfig& config) {
  std::vector<Scan> scans = {Scan::kMailboxes, Scan::kMemory, Scan::kEts};
  if (!config.process_groups.empty()) scans.push_back(Scan::kGroups);
  return scans;
}

}  // namespace

// Runs on the poll thread only; everything here is owned by that thread.
class BeamCollector::Poller {
 public:
  explicit Poller(BeamCollector* owner)
      : owner_(owner),
        config_(owner->config_),
        conn_(ConnectionOptions{config_.node, owner->cookie_, config_.connect_timeout, config_.max_reply_bytes}),
        backoff_(std::chrono::milliseconds(250),
                 std::clamp<std::chrono::milliseconds>(2 * config_.interval, std::chrono::seconds(1), std::chrono::seconds(30))),
        convert_options_{config_.node, config_.metric_names} {}

  void Run() {
    while (!owner_->stop_.load()) {
      if (!conn_.connected()) {
        std::string detail;
        FailureReason reason = conn_.Connect(&detail);
        if (reason != FailureReason::kNone) {
          Failed(reason, detail);
          WaitForRetry(backoff_.NextDelay());
          continue;
        }
        OnConnected();
      }
      const auto started = Clock::now();
      FailureReason reason = FailureReason::kNone;
      Status s = CollectOnce(&reason);
      if (!s.ok()) {
        Failed(reason, s.message());
        if (!conn_.connected()) {
          WaitForRetry(backoff_.NextDelay());
          continue;
        }
      } else {
        backoff_.Reset();
        if (last_reason_ != FailureReason::kNone) {
          log::Info("beam: collecting from the node again", {{"node", config_.node}});
          last_reason_ = FailureReason::kNone;
        }
      }
      auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
      if (conn_.Idle(config_.interval - elapsed, owner_->stop_) != FailureReason::kNone) {
        Failed(FailureReason::kConnectionLost, "the node closed the connection");
      }
    }
    Disconnect();
  }

 private:
  void OnConnected() {
    log::Info("beam: connected", {{"node", config_.node}, {"as", conn_.self_node()}});
    probe_ready_ = false;
    holder_pid_.clear();
    previous_swt_.clear();
    // Every scan starts over: the first collection reads only the cheap items (so beam_up comes
    // at once and the node's size is known), the scans then run as their credit allows.
    budget_ = ScanBudget(config_.cpu_budget, config_.interval, ScansInUse(config_), config_.rpc_timeout);
    latest_scans_ = NodeSample();
    size_known_ = false;
    cheap_reads_ = std::chrono::microseconds(0);
    memory_scans_ = 0;
    memory_row_pids_.clear();
  }

  // Counts the failure, marks the data stale, and logs only when the reason changes.
  void Failed(FailureReason reason, const std::string& detail) {
    owner_->PublishFailure(reason);
    if (reason != last_reason_) {
      log::Warn("beam: cannot collect from the node",
                {{"node", config_.node}, {"reason", FailureReasonName(reason)}, {"detail", detail}});
      last_reason_ = reason;
    }
  }

  void WaitForRetry(std::chrono::milliseconds delay) {
    std::unique_lock<Mutex> lock(owner_->wake_mu_);
    owner_->wake_.wait_for(lock, delay, [this] { return owner_->stop_.load(); });
  }

  // Stops the scheduler_wall_time holder (so the flag goes off) and closes the connection.
  void Disconnect() {
    if (conn_.connected() && !holder_pid_.empty()) {
      RpcArgs args;
      ei_x_encode_list_header(args.x(), 1);
      ei_x_append_buf(args.x(), holder_pid_.data(), static_cast<int>(holder_pid_.size()));
      ei_x_encode_empty_list(args.x());
      Term reply;
      size_t bytes = 0;
      FailureReason reason;
      conn_.Rpc(kProbeModule, "stop_holder", args.buff(), std::chrono::milliseconds(500), &reply, &bytes, &reason);
    }
    conn_.Close();
  }

  Status Call(const char* module, const char* function, const RpcArgs& args, Term* reply, FailureReason* reason) {
    size_t bytes = 0;
    Status s = conn_.Rpc(module, function, args.buff(), config_.rpc_timeout, reply, &bytes, reason);
    reply_bytes_ += bytes;
    return s;
  }

  Status CollectOnce(FailureReason* reason) {
    const auto started = Clock::now();
    reply_bytes_ = 0;
    NodeSample sample;
    Status s = config_.load_probe ? CollectWithProbe(&sample, reason) : CollectWithBifs(&sample, reason);
    if (!s.ok()) return s;

    ServeLatestScans(&sample);
    std::map<std::string, double> utilization = SchedulerUtilization(previous_swt_, sample.scheduler_wall_time);
    previous_swt_ = sample.scheduler_wall_time;

    auto snapshot = std::make_shared<Snapshot>();
    snapshot->families = NodeFamilies(sample, utilization, convert_options_);
    snapshot->taken = Clock::now();
    owner_->PublishSuccess(std::move(snapshot), UnixTimeSeconds(),
                           std::chrono::duration<double>(Clock::now() - started).count(),
                           static_cast<double>(reply_bytes_));
    return Status::Ok();
  }

  Status CollectWithBifs(NodeSample* sample, FailureReason* reason) {
    std::map<std::string, Term> replies;
    for (const BifCall& call : BifCalls()) {
      RpcArgs args;
      EncodeAtomArgs(call.atom_arg.empty() ? std::vector<std::string>{} : std::vector<std::string>{call.atom_arg},
                     &args);
      Status s = Call(call.module.c_str(), call.function.c_str(), args, &replies[call.key], reason);
      if (!s.ok()) return s;
    }
    Status s = DecodeBifReplies(replies, sample);
    if (!s.ok()) *reason = FailureReason::kBadReply;
    return s;
  }

  // Loads the probe when the node has none or another version.
  Status EnsureProbe(FailureReason* reason) {
    Term reply;
    RpcArgs none;
    EncodeAtomArgs({}, &none);
    std::string version;
    Status s = Call(kProbeModule, "vsn", none, &reply, reason);
    if (s.ok() && reply.AsText(&version) && version == ProbeVersion()) return Status::Ok();
    if (!s.ok() && *reason != FailureReason::kBadReply) return s;  // {badrpc, undef} just means "not loaded"

    // Old code still running (a previous holder) would make load_binary fail with not_purged.
    RpcArgs purge;
    EncodeAtomArgs({kProbeModule}, &purge);
    s = Call("code", "soft_purge", purge, &reply, reason);
    if (!s.ok()) return s;

    RpcArgs load;
    EncodeLoadProbeArgs(ProbeBeam(), &load);
    s = Call("code", "load_binary", load, &reply, reason);
    if (!s.ok()) return s;
    if (!(reply.kind == Term::Kind::kTuple && reply.items.size() == 2 && reply.items[0].IsAtom("module"))) {
      *reason = FailureReason::kBadReply;
      return Status::Unavailable("code:load_binary of the probe was refused (is the old version still in use?)");
    }
    log::Info("beam: loaded the probe module", {{"node", config_.node}, {"version", std::string(ProbeVersion())}});
    return Status::Ok();
  }

  // Starts the process that keeps scheduler_wall_time on while we are connected.
  Status EnsureHolder(FailureReason* reason) {
    if (!holder_pid_.empty()) return Status::Ok();
    RpcArgs args;
    EncodeAtomArgs({conn_.self_node()}, &args);
    Term reply;
    Status s = Call(kProbeModule, "start_holder", args, &reply, reason);
    if (!s.ok()) return s;
    if (reply.kind != Term::Kind::kPid) {
      *reason = FailureReason::kBadReply;
      return Status::Unavailable("start_holder did not return a pid");
    }
    holder_pid_ = reply.text;
    return Status::Ok();
  }

  // Runs the cheap reads and the scans the budget allows now; charges each scan its on-node time.
  Status CollectWithProbe(NodeSample* sample, FailureReason* reason) {
    if (!probe_ready_) {
      Status s = EnsureProbe(reason);
      if (!s.ok()) return s;
      probe_ready_ = true;
    }
    Status s = EnsureHolder(reason);
    if (!s.ok()) return s;

    std::vector<Scan> due;
    if (size_known_) due = budget_.Plan(cheap_reads_, size_);
    const bool groups_due = std::find(due.begin(), due.end(), Scan::kGroups) != due.end();
    CollectRequest request;
    request.scans = due;
    request.top_n = config_.top_n;
    request.ets_top_n = config_.ets_top_n;
    // The first memory scan after connecting sweeps all processes, so the ranking is complete at once.
    request.slices = memory_scans_ == 0 ? 1 : kMemorySlices;
    request.slice_phase = static_cast<int>(memory_scans_ % static_cast<uint64_t>(request.slices));
    request.memory_pids = memory_row_pids_;
    RpcArgs args;
    EncodeCollectArgs(request, &args);

    Term reply;
    const auto started = Clock::now();
    s = Call(kProbeModule, "collect", args, &reply, reason);
    if (!s.ok()) {
      // A reloaded or purged probe shows up as {badrpc, undef}: check it again next time.
      probe_ready_ = false;
      return s;
    }
    const auto round_trip = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
    s = DecodeProbeReply(reply, sample);
    if (!s.ok()) {
      *reason = FailureReason::kBadReply;
      return s;
    }
    // The holder is gone (killed by a probe reload, or by someone): start a new one next time.
    if (sample->scheduler_wall_time.empty()) holder_pid_.clear();

    size_ = {InfoOr0(*sample, "process_count"), InfoOr0(*sample, "ets_count")};
    size_known_ = true;
    cheap_reads_ = NodeTime(*sample, "basic", round_trip);
    for (Scan scan : due) {
      if (scan == Scan::kGroups) continue;
      if (scan == Scan::kMemory) ++memory_scans_;
      Charge(scan, NodeTime(*sample, ScanName(scan), round_trip), scan == Scan::kEts ? size_.ets_tables : size_.processes,
             sample);
    }
    return groups_due ? CollectGroups(sample, reason) : Status::Ok();
  }

  // The probe stops its group pass after rpc_timeout and the reply gets another rpc_timeout, so
  // a node with many processes gets a partial pass instead of a timeout.
  Status CollectGroups(NodeSample* sample, FailureReason* reason) {
    RpcArgs args;
    EncodeGroupsArgs(config_.rpc_timeout, config_.process_groups, &args);

    Term reply;
    size_t bytes = 0;
    const auto started = Clock::now();
    Status s = conn_.Rpc(kProbeModule, "groups", args.buff(), 2 * config_.rpc_timeout, &reply, &bytes, reason);
    reply_bytes_ += bytes;
    if (!s.ok()) return s;
    s = DecodeGroupsReply(reply, sample);
    if (!s.ok()) {
      *reason = FailureReason::kBadReply;
      return s;
    }
    const auto round_trip = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
    Charge(Scan::kGroups, NodeTime(*sample, "groups", round_trip), sample->groups_scanned, sample);
    return s;
  }

  // A part's time by the probe's own timer; the round trip when the reply lacks it.
  static std::chrono::microseconds NodeTime(const NodeSample& sample, const char* part,
                                            std::chrono::microseconds round_trip) {
    auto it = sample.probe_timings_us.find(part);
    return it == sample.probe_timings_us.end() ? round_trip : std::chrono::microseconds(it->second);
  }

  // Charges a scan that ran to the budget and stamps its values with when and what it cost.
  void Charge(Scan scan, std::chrono::microseconds cost, int64_t covered, NodeSample* sample) {
    budget_.Ran(scan, cost, covered);
    sample->scan_timestamps[ScanName(scan)] = UnixTimeSeconds();
    sample->scan_node_seconds[ScanName(scan)] = std::chrono::duration<double>(cost).count();
  }

  // Keeps the values of the scans that ran in this sample and gives the sample the latest values
  // (with their time) of those that did not, so every scrape serves each scan's latest result.
  void ServeLatestScans(NodeSample* sample) {
    for (Scan scan : kAllScans) {
      auto ran = sample->scan_timestamps.find(ScanName(scan));
      if (ran != sample->scan_timestamps.end()) {
        CopyScanPart(scan, *sample, &latest_scans_);
        latest_scans_.scan_timestamps[ran->first] = ran->second;
        latest_scans_.scan_node_seconds[ran->first] = sample->scan_node_seconds[ran->first];
      }
      CopyScanPart(scan, latest_scans_, sample);
    }
    sample->scan_timestamps = latest_scans_.scan_timestamps;
    sample->scan_node_seconds = latest_scans_.scan_node_seconds;
    // The memory scan re-reads its last rows and the last top mailboxes (queued messages count in memory).
    memory_row_pids_.clear();
    for (const MemoryRow& row : latest_scans_.top_memory) memory_row_pids_.push_back(row.pid);
    for (const ProcessRow& row : latest_scans_.top_mailbox) memory_row_pids_.push_back(row.pid);
  }

  BeamCollector* owner_;
  const BeamConfig& config_;
  NodeConnection conn_;
  Backoff backoff_;
  ConvertOptions convert_options_;
  FailureReason last_reason_ = FailureReason::kNone;
  bool probe_ready_ = false;
  std::string holder_pid_;  // ETF encoding of the holder's pid; empty: none running
  std::vector<SchedulerTime> previous_swt_;
  ScanBudget budget_{config_.cpu_budget, config_.interval, ScansInUse(config_), config_.rpc_timeout};
  NodeSample latest_scans_;  // each scan's latest values and times (only the scan parts are used)
  NodeSize size_;            // from the last cheap reads
  bool size_known_ = false;
  std::chrono::microseconds cheap_reads_{0};  // the last cheap reads' node time
  uint64_t memory_scans_ = 0;
  std::vector<std::string> memory_row_pids_;  // re-read by the next memory scan
  size_t reply_bytes_ = 0;
};

BeamCollector::~BeamCollector() { Stop(); }

void BeamCollector::Configure(ConfigMap& section) {
  config_ = ParseBeamConfig(section);
  if (!config_.node.empty()) cookie_ = LoadCookie(config_);
}

void BeamCollector::Start() {
  if (config_.node.empty()) {
    log::Info("beam: no node configured (collectors.beam.node or --beam.node); reporting beam_up 0");
    return;
  }
  stop_.store(false);
  thread_ = std::thread([this] { Poller(this).Run(); });
}

void BeamCollector::Stop() {
  {
    std::unique_lock<Mutex> lock(wake_mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BeamCollector::PublishSuccess(std::shared_ptr<const Snapshot> snapshot, double unix_time, double duration_seconds,
                                   double reply_bytes) {
  MutexLock lock(&mu_);
  snapshot_ = std::move(snapshot);
  last_poll_ok_ = true;
  last_success_unix_ = unix_time;
  last_duration_seconds_ = duration_seconds;
  last_reply_bytes_ = reply_bytes;
}

void BeamCollector::PublishFailure(FailureReason reason) {
  MutexLock lock(&mu_);
  last_poll_ok_ = false;
  ++connect_errors_[FailureReasonName(reason)];
}

Status BeamCollector::Serve(const std::function<void(const std::vector<prometheus::MetricFamily>&)>& emit) {
  CollectorState state;
  std::shared_ptr<const Snapshot> snapshot;
  {
    MutexLock lock(&mu_);
    snapshot = snapshot_;
    state.up = snapshot && last_poll_ok_ && Clock::now() - snapshot->taken <= config_.MaxAge();
    state.connect_errors = connect_errors_;
    state.last_collection_timestamp_seconds = last_success_unix_;
    state.collection_duration_seconds = last_duration_seconds_;
    state.reply_bytes = last_reply_bytes_;
  }
  ConvertOptions options{config_.node, config_.metric_names};
  emit(CollectorStateFamilies(state, options));
  if (!state.up) {
    return config_.node.empty() ? Status::Ok() : Status::Unavailable("no fresh collection from node " + config_.node);
  }
  emit(snapshot->families);  // the snapshot is immutable and kept alive by `snapshot`
  return Status::Ok();
}

Status BeamCollector::Collect(Clock::time_point, std::vector<prometheus::MetricFamily>* out) {
  return Serve([out](const std::vector<prometheus::MetricFamily>& families) {
    out->insert(out->end(), families.begin(), families.end());
  });
}

Status BeamCollector::Stream(Clock::time_point, ExpositionWriter* out) {
  return Serve([out](const std::vector<prometheus::MetricFamily>& families) { out->Write(families); });
}

CollectorDescriptor Descriptor() {
  return {"beam",
          "Reads VM metrics from an Erlang/Elixir node over erl_interface",
          true,
          {CollectorFlag{"beam.node", "node", "The node to read, e.g. app@127.0.0.1 (collectors.beam.node)."},
           CollectorFlag{"beam.cookie-file", "cookie_file",
                         "File holding the node's cookie (collectors.beam.cookie_file); else $BEAM_EXPORTER_COOKIE."},
           CollectorFlag{"beam.cpu-budget", "cpu_budget",
                         "Share of one node core the whole collection may average, e.g. 0.005 for 0.5% "
                         "(collectors.beam.cpu_budget)."}},
          [] { return std::make_unique<BeamCollector>(); }};
}

}  // namespace beam_exporter::beam
