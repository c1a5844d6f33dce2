#include "collectors/beam/poller.h"

#include <algorithm>
#include <map>

#include "collectors/beam/probe_image.h"
#include "collectors/beam/sample_decoder.h"
#include "exporter/logging.h"

namespace beam_exporter::beam {
namespace {

using Clock = std::chrono::steady_clock;

// The memory scan reads heap_size (for the ranking's candidates) for one slice of the processes
// each run, so a process that starts hoarding memory is ranked within this many runs (a minute
// at the default interval on a node small enough for the scan to keep it); rows already ranked
// are re-read every time.
constexpr int kMemorySlices = 6;

// stop_holder gets this long: the poller is on its way out.
constexpr std::chrono::milliseconds kStopHolderTimeout(500);

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

ScanBudget FreshBudget(const BeamConfig& config) {
  return ScanBudget(config.cpu_budget, config.interval, ScansInUse(config), config.rpc_timeout);
}

NodeStatus BadReply(Status status) { return NodeStatus::Failed(FailureReason::kBadReply, std::move(status)); }

// A part's time by the probe's own timer; the round trip when the reply lacks it.
std::chrono::microseconds NodeTime(const NodeSample& sample, const char* part, std::chrono::microseconds round_trip) {
  auto it = sample.probe_timings_us.find(part);
  return it == sample.probe_timings_us.end() ? round_trip : std::chrono::microseconds(it->second);
}

}  // namespace

Poller::Poller(const BeamConfig& config, NodeLink* link, PollerClock* clock, PollerSink* sink,
               const std::atomic<bool>* stop)
    : config_(config),
      link_(link),
      clock_(clock),
      sink_(sink),
      stop_(stop),
      backoff_(std::chrono::milliseconds(250),
               std::clamp<std::chrono::milliseconds>(2 * config.interval, std::chrono::seconds(1), std::chrono::seconds(30))),
      convert_options_{config.node, config.metric_names},
      budget_(FreshBudget(config)) {}

void Poller::Run() {
  while (!stop_->load()) Step();
  Disconnect();
}

void Poller::Step() {
  if (!link_->connected()) {
    NodeStatus connected = link_->Connect();
    if (!connected.ok()) {
      Failed(connected);
      clock_->WaitForRetry(backoff_.NextDelay());
      return;
    }
    OnConnected();
  }
  const auto started = clock_->Now();
  NodeStatus collected = CollectOnce();
  if (!collected.ok()) {
    Failed(collected);
    if (!link_->connected()) {
      clock_->WaitForRetry(backoff_.NextDelay());
      return;
    }
  } else {
    backoff_.Reset();
    if (last_reason_ != FailureReason::kNone) {
      log::Info("beam: collecting from the node again", {{"node", config_.node}});
      last_reason_ = FailureReason::kNone;
    }
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock_->Now() - started);
  NodeStatus idled = link_->Idle(config_.interval - elapsed, *stop_);
  if (!idled.ok()) Failed(idled);
}

void Poller::Disconnect() {
  if (link_->connected() && !holder_pid_.empty()) {
    RpcArgs args;
    ei_x_encode_list_header(args.x(), 1);
    ei_x_append_buf(args.x(), holder_pid_.data(), static_cast<int>(holder_pid_.size()));
    ei_x_encode_empty_list(args.x());
    link_->Rpc(kProbeModule, "stop_holder", args.buff(), kStopHolderTimeout);  // best effort: we are leaving
  }
  link_->Close();
}

void Poller::OnConnected() {
  log::Info("beam: connected", {{"node", config_.node}, {"as", link_->self_node()}});
  probe_ready_ = false;
  holder_pid_.clear();
  previous_swt_.clear();
  // Every scan starts over: the first collection reads only the cheap items (so beam_up comes
  // at once and the node's size is known), the scans then run as their credit allows.
  budget_ = FreshBudget(config_);
  latest_scans_ = NodeSample();
  size_known_ = false;
  cheap_reads_ = std::chrono::microseconds(0);
  memory_scans_ = 0;
  memory_row_pids_.clear();
}

void Poller::Failed(const NodeStatus& status) {
  sink_->PublishFailure(status.reason());
  if (status.reason() != last_reason_) {
    log::Warn("beam: cannot collect from the node", {{"node", config_.node},
                                                     {"reason", FailureReasonName(status.reason())},
                                                     {"detail", status.message()}});
    last_reason_ = status.reason();
  }
}

RpcResult Poller::Call(const char* module, const char* function, const RpcArgs& args,
                       std::chrono::milliseconds timeout) {
  RpcResult result = link_->Rpc(module, function, args.buff(), timeout);
  reply_bytes_ += result.reply_bytes;
  return result;
}

std::chrono::microseconds Poller::Since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock_->Now() - start);
}

NodeStatus Poller::CollectOnce() {
  const auto started = clock_->Now();
  reply_bytes_ = 0;
  Collection collection;
  NodeStatus s = config_.load_probe ? CollectWithProbe(&collection.sample) : CollectWithBifs(&collection.sample);
  if (!s.ok()) return s;

  ServeLatestScans(&collection.sample);
  const std::map<std::string, double> utilization =
      SchedulerUtilization(previous_swt_, collection.sample.scheduler_wall_time);
  previous_swt_ = collection.sample.scheduler_wall_time;
  collection.families = NodeFamilies(collection.sample, utilization, convert_options_);
  collection.taken = clock_->Now();
  collection.unix_time = clock_->UnixSeconds();
  collection.duration_seconds = std::chrono::duration<double>(collection.taken - started).count();
  collection.reply_bytes = reply_bytes_;
  sink_->PublishSuccess(std::move(collection));
  return NodeStatus::Ok();
}

NodeStatus Poller::CollectWithBifs(NodeSample* sample) {
  std::map<std::string, Term> replies;
  for (const BifCall& call : BifCalls()) {
    RpcArgs args;
    EncodeAtomArgs(call.atom_arg.empty() ? std::vector<std::string>{} : std::vector<std::string>{call.atom_arg}, &args);
    RpcResult result = Call(call.module.c_str(), call.function.c_str(), args, config_.rpc_timeout);
    if (!result.ok()) return result.status;
    replies[call.key] = std::move(result.reply);
  }
  Status s = DecodeBifReplies(replies, sample);
  return s.ok() ? NodeStatus::Ok() : BadReply(std::move(s));
}

NodeStatus Poller::EnsureProbe() {
  RpcArgs none;
  EncodeAtomArgs({}, &none);
  RpcResult vsn = Call(kProbeModule, "vsn", none, config_.rpc_timeout);
  std::string version;
  if (vsn.ok() && vsn.reply.AsText(&version) && version == ProbeVersion()) return NodeStatus::Ok();
  // {badrpc, undef} just means "not loaded"; a broken connection does not.
  if (!vsn.ok() && vsn.status.reason() != FailureReason::kBadReply) return vsn.status;

  // Old code still running (a previous holder) would make load_binary fail with not_purged.
  RpcArgs purge;
  EncodeAtomArgs({kProbeModule}, &purge);
  RpcResult purged = Call("code", "soft_purge", purge, config_.rpc_timeout);
  if (!purged.ok()) return purged.status;

  RpcArgs load;
  EncodeLoadProbeArgs(ProbeBeam(), &load);
  RpcResult loaded = Call("code", "load_binary", load, config_.rpc_timeout);
  if (!loaded.ok()) return loaded.status;
  const Term& reply = loaded.reply;
  if (!(reply.kind == Term::Kind::kTuple && reply.items.size() == 2 && reply.items[0].IsAtom("module"))) {
    return BadReply(Status::Unavailable("code:load_binary of the probe was refused (is the old version still in use?)"));
  }
  log::Info("beam: loaded the probe module", {{"node", config_.node}, {"version", std::string(ProbeVersion())}});
  return NodeStatus::Ok();
}

// Starts the process that keeps scheduler_wall_time on while we are connected.
NodeStatus Poller::EnsureHolder() {
  if (!holder_pid_.empty()) return NodeStatus::Ok();
  RpcArgs args;
  EncodeAtomArgs({link_->self_node()}, &args);
  RpcResult started = Call(kProbeModule, "start_holder", args, config_.rpc_timeout);
  if (!started.ok()) return started.status;
  if (started.reply.kind != Term::Kind::kPid) return BadReply(Status::Unavailable("start_holder did not return a pid"));
  holder_pid_ = started.reply.text;
  return NodeStatus::Ok();
}

// Runs the cheap reads and the scans the budget allows now; charges each scan its on-node time.
NodeStatus Poller::CollectWithProbe(NodeSample* sample) {
  if (!probe_ready_) {
    NodeStatus s = EnsureProbe();
    if (!s.ok()) return s;
    probe_ready_ = true;
  }
  NodeStatus s = EnsureHolder();
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

  const auto started = clock_->Now();
  RpcResult collected = Call(kProbeModule, "collect", args, config_.rpc_timeout);
  if (!collected.ok()) {
    // A reloaded or purged probe shows up as {badrpc, undef}: check it again next time.
    probe_ready_ = false;
    return collected.status;
  }
  const auto round_trip = Since(started);
  Status decoded = DecodeProbeReply(collected.reply, sample);
  if (!decoded.ok()) return BadReply(std::move(decoded));
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
  return groups_due ? CollectGroups(sample) : NodeStatus::Ok();
}

// The probe stops its group pass after rpc_timeout and the reply gets another rpc_timeout, so
// a node with many processes gets a partial pass instead of a timeout.
NodeStatus Poller::CollectGroups(NodeSample* sample) {
  RpcArgs args;
  EncodeGroupsArgs(config_.rpc_timeout, config_.process_groups, &args);
  const auto started = clock_->Now();
  RpcResult grouped = Call(kProbeModule, "groups", args, 2 * config_.rpc_timeout);
  if (!grouped.ok()) return grouped.status;
  Status decoded = DecodeGroupsReply(grouped.reply, sample);
  if (!decoded.ok()) return BadReply(std::move(decoded));
  Charge(Scan::kGroups, NodeTime(*sample, "groups", Since(started)), sample->groups_scanned, sample);
  return NodeStatus::Ok();
}

void Poller::Charge(Scan scan, std::chrono::microseconds cost, int64_t covered, NodeSample* sample) {
  budget_.Ran(scan, cost, covered);
  sample->scan_timestamps[ScanName(scan)] = clock_->UnixSeconds();
  sample->scan_node_seconds[ScanName(scan)] = std::chrono::duration<double>(cost).count();
}

void Poller::ServeLatestScans(NodeSample* sample) {
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

}  // namespace beam_exporter::beam
