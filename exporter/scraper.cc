#include "exporter/scraper.h"

#include <chrono>

#include "exporter/families.h"
#include "exporter/logging.h"
#include "exporter/process_metrics.h"

namespace beam_exporter {
namespace {

double SecondsSince(Collector::Clock::time_point start) {
  return std::chrono::duration<double>(Collector::Clock::now() - start).count();
}

}  // namespace

Scraper::Scraper(const BuildInfo& build) : registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::BuildGauge()
      .Name("beam_exporter_build_info")
      .Help("A metric with a constant '1' value labeled by version, revision and compiler of beam_exporter.")
      .Register(*registry_)
      .Add({{"version", build.version}, {"revision", build.revision}, {"compiler", build.compiler}})
      .Set(1);
  scrape_duration_ = &prometheus::BuildHistogram()
                          .Name("beam_exporter_scrape_duration_seconds")
                          .Help("Time to gather the families of a /metrics response (all collectors and self-metrics).")
                          .Register(*registry_)
                          .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                           0.05, 0.1, 0.25, 0.5, 1});
  reload_successful_ = &prometheus::BuildGauge()
                            .Name("beam_exporter_config_last_reload_successful")
                            .Help("Whether the last configuration load or reload succeeded (1) or was rejected (0).")
                            .Register(*registry_)
                            .Add({});
  reload_success_time_ = &prometheus::BuildGauge()
                              .Name("beam_exporter_config_last_reload_success_timestamp_seconds")
                              .Help("Unix time of the last successful configuration load or reload.")
                              .Register(*registry_)
                              .Add({});
  auto& reloads = prometheus::BuildCounter()
                      .Name("beam_exporter_config_reloads_total")
                      .Help("Configuration reloads by result.")
                      .Register(*registry_);
  reloads_ok_ = &reloads.Add({{"result", "success"}});
  reloads_failed_ = &reloads.Add({{"result", "failure"}});
}

void Scraper::SetCollectors(std::shared_ptr<const CollectorSet> collectors) {
  MutexLock lock(&mu_);
  collectors_ = std::move(collectors);
}

std::shared_ptr<const CollectorSet> Scraper::collectors() const {
  MutexLock lock(&mu_);
  return collectors_;
}

void Scraper::RecordReload(bool success) {
  reload_successful_->Set(success ? 1 : 0);
  if (success) {
    reload_success_time_->Set(UnixTimeSeconds());
    reloads_ok_->Increment();
  } else {
    reloads_failed_->Increment();
  }
}

void Scraper::Stream(Collector::Clock::time_point deadline, ExpositionWriter* out) const {
  static log::RateLimiter failure_log(std::chrono::minutes(1));
  const auto start = Collector::Clock::now();
  std::shared_ptr<const CollectorSet> set = collectors();
  auto success = MakeFamily("beam_exporter_collector_success",
                            "Whether the collector's last collection succeeded (1) or failed (0).",
                            prometheus::MetricType::Gauge);
  auto duration = MakeFamily("beam_exporter_collector_duration_seconds",
                             "Time the collector took to serve its metrics for this scrape.",
                             prometheus::MetricType::Gauge);
  if (set) {
    for (const auto& c : *set) {
      const auto t0 = Collector::Clock::now();
      Status status;
      try {
        status = c.collector->Stream(deadline, out);
      } catch (const std::exception& e) {
        status = Status::Internal(e.what());
      }
      AddSample(&duration, {{"collector", c.name}}, SecondsSince(t0));
      AddSample(&success, {{"collector", c.name}}, status.ok() ? 1 : 0);
      uint64_t suppressed = 0;
      if (!status.ok() && failure_log.Allow(c.name + status.message(), &suppressed)) {
        log::Warn("collector failed", {{"collector", c.name}, {"err", status.ToString()},
                                       {"suppressed", std::to_string(suppressed)}});
      }
    }
  }
  out->Write(success);
  out->Write(duration);
  out->Write(CollectProcessMetrics());
  scrape_duration_->Observe(SecondsSince(start));
  out->Write(registry_->Collect());
}

std::string Scraper::Scrape(Collector::Clock::time_point deadline) const {
  std::string text;
  ExpositionWriter writer([&text](std::string_view piece) {
    text.append(piece);
    return true;
  });
  Stream(deadline, &writer);
  writer.Finish();
  return text;
}

}  // namespace beam_exporter
