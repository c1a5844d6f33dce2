#include "exporter/scraper.h"

#include <gtest/gtest.h>

#include "exporter/families.h"

namespace beam_exporter {
namespace {

// Fake collectors: scripted outcomes to check how the scraper isolates collector failures.
class FakeCollector : public Collector {
 public:
  enum class Outcome { kOk, kError, kThrow };
  FakeCollector(std::string metric, Outcome outcome) : metric_(std::move(metric)), outcome_(outcome) {}
  void Configure(ConfigMap&) override {}
  Status Collect(Clock::time_point, std::vector<prometheus::MetricFamily>* out) override {
    out->push_back(MakeFamily(metric_, "test metric", prometheus::MetricType::Gauge));
    AddSample(&out->back(), {{"l", "v"}}, 7);
    if (outcome_ == Outcome::kThrow) throw std::runtime_error("boom");
    return outcome_ == Outcome::kOk ? Status::Ok() : Status::Unavailable("node down");
  }

 private:
  std::string metric_;
  Outcome outcome_;
};

std::shared_ptr<CollectorSet> Set(std::vector<std::pair<std::string, FakeCollector::Outcome>> specs) {
  auto set = std::make_shared<CollectorSet>();
  for (auto& [name, outcome] : specs) {
    set->push_back({name, std::make_unique<FakeCollector>("fake_" + name, outcome)});
  }
  return set;
}

TEST(ScraperTest, FailingCollectorDoesNotFailTheOthers) {
  Scraper scraper({"1.0", "abc", "cc"});
  scraper.SetCollectors(Set({{"good", FakeCollector::Outcome::kOk},
                             {"bad", FakeCollector::Outcome::kError},
                             {"thrower", FakeCollector::Outcome::kThrow}}));
  std::string text = scraper.Scrape(Collector::Clock::now() + std::chrono::seconds(1));
  EXPECT_NE(text.find("beam_exporter_collector_success{collector=\"good\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("beam_exporter_collector_success{collector=\"bad\"} 0"), std::string::npos);
  EXPECT_NE(text.find("beam_exporter_collector_success{collector=\"thrower\"} 0"), std::string::npos);
  EXPECT_NE(text.find("fake_good{l=\"v\"} 7"), std::string::npos);
  // What a failing collector did produce is still served.
  EXPECT_NE(text.find("fake_bad{l=\"v\"} 7"), std::string::npos);
  EXPECT_NE(text.find("beam_exporter_collector_duration_seconds{collector=\"bad\"}"), std::string::npos);
}

TEST(ScraperTest, ServesBuildInfoAndProcessMetrics) {
  Scraper scraper({"1.2.3", "deadbeef", "gcc-12"});
  std::string text = scraper.Scrape(Collector::Clock::now() + std::chrono::seconds(1));
  EXPECT_NE(text.find("beam_exporter_build_info{compiler=\"gcc-12\",revision=\"deadbeef\",version=\"1.2.3\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("process_resident_memory_bytes "), std::string::npos);
}

TEST(ScraperTest, RecordsReloadOutcome) {
  Scraper scraper({"1", "r", "c"});
  scraper.RecordReload(true);
  scraper.RecordReload(false);
  std::string text = scraper.Scrape(Collector::Clock::now() + std::chrono::seconds(1));
  EXPECT_NE(text.find("beam_exporter_config_last_reload_successful 0"), std::string::npos) << text;
  EXPECT_NE(text.find("beam_exporter_config_reloads_total{result=\"failure\"} 1"), std::string::npos);
  EXPECT_NE(text.find("beam_exporter_config_reloads_total{result=\"success\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace beam_exporter
