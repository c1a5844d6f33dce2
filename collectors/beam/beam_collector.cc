#include "collectors/beam/beam_collector.h"

#include "collectors/beam/convert.h"
#include "collectors/beam/node_connection.h"
#include "exporter/families.h"
#include "exporter/logging.h"

namespace beam_exporter::beam {

// Real time; the wait before a reconnect ends early when Stop() sets stop_ and wakes it.
class BeamCollector::WakeableClock final : public PollerClock {
 public:
  explicit WakeableClock(BeamCollector* owner) : owner_(owner) {}
  Clock::time_point Now() override { return Clock::now(); }
  double UnixSeconds() override { return UnixTimeSeconds(); }
  void WaitForRetry(std::chrono::milliseconds delay) override {
    std::unique_lock<Mutex> lock(owner_->wake_mu_);
    owner_->wake_.wait_for(lock, delay, [this] { return owner_->stop_.load(); });
  }

 private:
  BeamCollector* owner_;
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
  thread_ = std::thread([this] {
    NodeConnection link(ConnectionOptions{config_.node, cookie_, config_.connect_timeout, config_.max_reply_bytes});
    WakeableClock clock(this);
    Poller(config_, &link, &clock, this, &stop_).Run();
  });
}

void BeamCollector::Stop() {
  {
    std::unique_lock<Mutex> lock(wake_mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BeamCollector::PublishSuccess(Collection collection) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->families = std::move(collection.families);
  snapshot->taken = collection.taken;
  MutexLock lock(&mu_);
  snapshot_ = std::move(snapshot);
  last_poll_ok_ = true;
  last_success_unix_ = collection.unix_time;
  last_duration_seconds_ = collection.duration_seconds;
  last_reply_bytes_ = static_cast<double>(collection.reply_bytes);
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
