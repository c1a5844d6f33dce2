#include "collectors/telemetry/telemetry_collector.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "collectors/telemetry/aggregator.h"
#include "collectors/telemetry/ingest_stats.h"
#include "collectors/telemetry/mapper.h"
#include "collectors/telemetry/pipeline.h"
#include "collectors/telemetry/udp_listener.h"
#include "exporter/families.h"
#include "exporter/logging.h"

namespace beam_exporter::telemetry {
namespace {

constexpr int64_t kMiB = 1 << 20;

// Threads: Configure/Start/Stop run on the main thread; Collect on HTTP threads (concurrently).
// Everything Collect touches is created in Start and lives until destruction (Stop only joins
// the reader threads), and is itself thread-safe: the aggregator locks shard by shard, the
// stats are atomics.
class TelemetryCollector : public Collector {
 public:
  void Configure(ConfigMap& section) override {
    options_.udp_address = section.GetString("listen_udp", ":8125");
    options_.unixgram_path = section.GetString("listen_unixgram", "");
    options_.tcp_address = section.GetString("listen_tcp", "");
    options_.readers = static_cast<int>(section.GetInt("readers", 1, 1, 64));
    options_.receive_buffer_bytes =
        static_cast<int>(section.GetInt("receive_buffer_bytes", 16 * kMiB, 0, 1024 * kMiB));
    for (const std::string* address : {&options_.udp_address, &options_.tcp_address}) {
      if (address->empty()) continue;
      try {
        ParseListenAddress(*address);
      } catch (const std::invalid_argument& e) {
        section.Fail(address == &options_.udp_address ? "listen_udp" : "listen_tcp", e.what());
      }
    }
    ConfigMap dialects = section.GetMap("dialects");
    dialects_.dogstatsd = dialects.GetBool("dogstatsd", true);
    dialects_.influxdb = dialects.GetBool("influxdb", true);
    dialects_.librato = dialects.GetBool("librato", true);
    dialects_.signalfx = dialects.GetBool("signalfx", true);
    dialects.CheckNoUnknownKeys();

    rules_ = std::make_unique<MappingRules>();
    rules_->default_buckets = section.GetDoubleList("default_buckets", DefaultBuckets());
    if (rules_->default_buckets.empty() ||
        !std::is_sorted(rules_->default_buckets.begin(), rules_->default_buckets.end()) ||
        std::adjacent_find(rules_->default_buckets.begin(), rules_->default_buckets.end()) !=
            rules_->default_buckets.end()) {
      section.Fail("default_buckets", "expected strictly increasing bucket bounds");
    }
    rules_->default_ttl = section.GetDuration("ttl", std::chrono::milliseconds(0));
    // Before the rules: a rule's summary_options fill their gaps from these.
    rules_->default_summary = ParseSummaryOptions(section.GetMap("default_summary_options"), SummaryOptions{});
    // Inline rules come first so they can override a preset's rule for the same name.
    rules_->AddRules(section.GetMapList("mappings"));
    std::filesystem::path base = section.source_file().empty()
                                     ? std::filesystem::current_path()
                                     : std::filesystem::path(section.source_file()).parent_path();
    for (const std::string& file : section.GetStringList("mapping_files", {})) {
      std::filesystem::path path(file);
      if (path.is_relative()) path = base / path;
      rules_->AddFile(path.string());
    }
    aggregator_options_.series_limit_per_metric =
        static_cast<size_t>(section.GetInt("series_limit_per_metric", 10000, 1, 10'000'000));
    aggregator_options_.metric_limit = static_cast<size_t>(section.GetInt("metric_limit", 2000, 1, 1'000'000));
    aggregator_options_.series_limit = static_cast<size_t>(
        section.GetInt("series_limit", static_cast<int64_t>(Aggregator::Options{}.series_limit), 1, 100'000'000));
    section.CheckNoUnknownKeys();
  }

  void Start() override {
    size_t receivers = ReceiverCount(options_);
    aggregator_ = std::make_unique<Aggregator>(aggregator_options_, std::max<size_t>(receivers, 1));
    std::vector<Pipeline*> raw;
    for (size_t i = 0; i < receivers; ++i) {
      stats_.push_back(std::make_unique<IngestStats>());
      pipelines_.push_back(std::make_unique<Pipeline>(dialects_, *rules_, &aggregator_->shard(i), stats_.back().get()));
      raw.push_back(pipelines_.back().get());
    }
    listener_ = std::make_unique<Listener>(options_, raw);
    listener_->Start();
    if (!options_.udp_address.empty() && listener_->granted_receive_buffer() < options_.receive_buffer_bytes) {
      // Linux reports twice the requested size when granted; less means rmem_max capped it.
      log::Warn("telemetry receive buffer smaller than configured; raise net.core.rmem_max or run with CAP_NET_ADMIN",
                {{"wanted_bytes", std::to_string(options_.receive_buffer_bytes)},
                 {"granted_bytes", std::to_string(listener_->granted_receive_buffer())}});
    }
    log::Info("telemetry listening", {{"udp", options_.udp_address},
                                      {"unixgram", options_.unixgram_path},
                                      {"tcp", options_.tcp_address},
                                      {"readers", std::to_string(options_.readers)},
                                      {"mapping_rules", std::to_string(rules_->rules.size())}});
  }

  void Stop() override {
    if (listener_) listener_->Stop();
  }

  Status Collect(Clock::time_point, std::vector<prometheus::MetricFamily>* out) override {
    if (!aggregator_) return Status::Unavailable("telemetry collector not started");
    // The counters first: a reader counts a packet after storing its samples, so every packet
    // this scrape counts has its samples in the series collected next.
    IngestCounts counts = Counts();
    Aggregator::Totals totals = aggregator_->Collect(std::chrono::steady_clock::now(), out);
    AppendSelfMetrics(counts, totals, out);
    return Status::Ok();
  }

  // The scrape path: the series are written straight from the store (see aggregator.h).
  Status Stream(Clock::time_point, ExpositionWriter* out) override {
    if (!aggregator_) return Status::Unavailable("telemetry collector not started");
    IngestCounts counts = Counts();  // first, as in Collect()
    Aggregator::Totals totals = aggregator_->Stream(std::chrono::steady_clock::now(), out);
    std::vector<prometheus::MetricFamily> self;
    AppendSelfMetrics(counts, totals, &self);
    out->Write(self);
    return Status::Ok();
  }

 private:
  IngestCounts Counts() const {
    IngestCounts counts;
    for (const auto& s : stats_) counts.Add(*s);
    return counts;
  }

  void AppendSelfMetrics(const IngestCounts& counts, const Aggregator::Totals& totals,
                         std::vector<prometheus::MetricFamily>* out) const {
    using prometheus::MetricType;
    AppendSingleSample(out, "beam_exporter_telemetry_packets_total", "Datagrams received by the telemetry listeners.",
                       MetricType::Counter, static_cast<double>(counts.packets));
    AppendSingleSample(out, "beam_exporter_telemetry_lines_total", "StatsD lines received.", MetricType::Counter,
                       static_cast<double>(counts.lines));
    AppendSingleSample(out, "beam_exporter_telemetry_native_events_total", "Events decoded from native (ETF) datagrams.",
                       MetricType::Counter, static_cast<double>(counts.native_events));
    AppendSingleSample(out, "beam_exporter_telemetry_native_series_deltas_total",
                       "Series deltas decoded from aggregated native (ETF version 2) datagrams.", MetricType::Counter,
                       static_cast<double>(counts.native_series_deltas));

    // One sample per value of an enum (`kCount` of them), labelled `label` with its name.
    auto by_name = [](prometheus::MetricFamily* family, const char* label, size_t n, auto name_of, const auto& counts_of) {
      for (size_t i = 0; i < n; ++i) AddSample(family, {{label, std::string(name_of(i))}}, static_cast<double>(counts_of[i]));
    };
    auto errors = MakeFamily("beam_exporter_telemetry_line_errors_total",
                             "StatsD lines (or parts of lines) refused, by reason.", MetricType::Counter);
    by_name(&errors, "reason", static_cast<size_t>(LineError::kCount),
            [](size_t i) { return LineErrorName(static_cast<LineError>(i)); }, counts.line_errors);
    out->push_back(std::move(errors));

    auto dropped = MakeFamily("beam_exporter_telemetry_packets_dropped_total",
                              "Datagrams lost or refused, by reason (kernel_overflow: dropped by the kernel "
                              "because the receive buffer was full).",
                              MetricType::Counter);
    AddSample(&dropped, {{"reason", "kernel_overflow"}}, static_cast<double>(counts.kernel_drops));
    by_name(&dropped, "reason", static_cast<size_t>(PacketDrop::kCount),
            [](size_t i) { return PacketDropName(static_cast<PacketDrop>(i)); }, counts.packet_drops);
    out->push_back(std::move(dropped));

    auto samples = MakeFamily("beam_exporter_telemetry_samples_total",
                              "Samples by mapping outcome (mapped by a rule, unmapped = default rule, dropped by a "
                              "rule, invalid_name).",
                              MetricType::Counter);
    by_name(&samples, "outcome", static_cast<size_t>(SampleOutcome::kCount),
            [](size_t i) { return SampleOutcomeName(static_cast<SampleOutcome>(i)); }, counts.samples);
    out->push_back(std::move(samples));

    auto series_dropped = MakeFamily("beam_exporter_telemetry_series_dropped_total",
                                     "Samples dropped by the series store, by metric and reason "
                                     "(series_limit, type_clash, metric_limit, global_series_limit).",
                                     MetricType::Counter);
    for (const auto& [key, n] : totals.drops) {
      AddSample(&series_dropped, {{"metric", key.first}, {"reason", std::string(DropReasonName(key.second))}},
                static_cast<double>(n));
    }
    if (!series_dropped.metric.empty()) out->push_back(std::move(series_dropped));

    AppendSingleSample(out, "beam_exporter_telemetry_series", "Series currently held by the telemetry collector.",
                       MetricType::Gauge, static_cast<double>(totals.series));
    AppendSingleSample(out, "beam_exporter_telemetry_receive_buffer_bytes",
                       "Receive buffer the kernel granted the UDP socket (SO_RCVBUF as reported by Linux).",
                       MetricType::Gauge, listener_ ? listener_->granted_receive_buffer() : 0);
  }

  ListenerOptions options_;
  StatsdDialects dialects_;
  std::unique_ptr<MappingRules> rules_;
  Aggregator::Options aggregator_options_;
  std::unique_ptr<Aggregator> aggregator_;
  std::vector<std::unique_ptr<IngestStats>> stats_;
  std::vector<std::unique_ptr<Pipeline>> pipelines_;
  std::unique_ptr<Listener> listener_;
};

}  // namespace

CollectorDescriptor Descriptor() {
  return {"telemetry",
          "Receives :telemetry events over UDP (StatsD/DogStatsD or the native ETF form) and maps them to metrics",
          true,
          {CollectorFlag{"telemetry.listen-udp", "listen_udp", "UDP address for telemetry datagrams (empty disables)"}},
          [] { return std::make_unique<TelemetryCollector>(); }};
}

}  // namespace beam_exporter::telemetry
