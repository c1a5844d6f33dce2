#include "collectors/telemetry/pipeline.h"

#include <gtest/gtest.h>

#include <cmath>

namespace beam_exporter::telemetry {
namespace {

using std::chrono::seconds;
const Aggregator::TimePoint kT0 = Aggregator::TimePoint{} + std::chrono::hours(1);

MappingRules Rules(const std::string& yaml) {
  auto source = std::make_shared<ConfigSource>();
  ConfigMap root(YAML::Load(yaml), source, "");
  MappingRules rules;
  rules.AddRules(root.GetMapList("mappings"));
  return rules;
}

struct Harness {
  explicit Harness(const std::string& yaml = "mappings: []")
      : rules(Rules(yaml)), aggregator({}, 1), pipeline({}, rules, &aggregator.shard(0), &stats) {}

  std::vector<prometheus::MetricFamily> Collect(Aggregator::TimePoint now = kT0) {
    std::vector<prometheus::MetricFamily> out;
    aggregator.Collect(now, &out);
    return out;
  }
  const prometheus::ClientMetric* Series(const std::string& name, Aggregator::TimePoint now = kT0) {
    families = Collect(now);
    for (const auto& f : families) {
      if (f.name == name && !f.metric.empty()) return &f.metric[0];
    }
    return nullptr;
  }
  uint64_t Errors(LineError e) { return stats.line_errors[static_cast<size_t>(e)].load(); }

  MappingRules rules;
  Aggregator aggregator;
  IngestStats stats;
  Pipeline pipeline;
  std::vector<prometheus::MetricFamily> families;
};

// Every line is sent several times: the first goes through parser and mapper, the rest
// through the line cache; the totals must be what the parser alone would give.
TEST(PipelineTest, CachedLinesGiveTheSameValues) {
  Harness h(R"(
mappings:
  - match: req.duration
    name: req_duration_seconds
    type: histogram
    statsd_unit: milliseconds
    buckets: [0.1, 1]
    labels: {route: "${route}"}
)");
  for (int i = 0; i < 3; ++i) {
    h.pipeline.Process("req.duration:250|h|#route:/a\nhits:2|c|@0.5\nt:1500|ms|@0.5\ng:+3|g\nq:7|g", kT0);
  }
  const auto* hist = h.Series("req_duration_seconds");
  ASSERT_NE(hist, nullptr);
  EXPECT_EQ(hist->histogram.sample_count, 3u);
  EXPECT_DOUBLE_EQ(hist->histogram.sample_sum, 0.75);
  EXPECT_EQ(hist->histogram.bucket[1].cumulative_count, 3u);
  EXPECT_DOUBLE_EQ(h.Series("hits_total")->counter.value, 12);  // 3 x 2 / 0.5
  EXPECT_EQ(h.Series("t")->histogram.sample_count, 6u);         // 3 x (1 / 0.5)
  EXPECT_DOUBLE_EQ(h.Series("t")->histogram.sample_sum, 9);     // 6 x 1.5 s
  EXPECT_DOUBLE_EQ(h.Series("g")->gauge.value, 9);              // relative, 3 x +3
  EXPECT_DOUBLE_EQ(h.Series("q")->gauge.value, 7);
  EXPECT_EQ(h.stats.lines.load(), 15u);
  EXPECT_EQ(h.stats.samples[static_cast<size_t>(SampleOutcome::kMapped)].load(), 3u);
  EXPECT_EQ(h.stats.samples[static_cast<size_t>(SampleOutcome::kDefault)].load(), 12u);
}

TEST(PipelineTest, CachedLineWithABadValueStillCountsTheError) {
  Harness h;
  h.pipeline.Process("c:1|c", kT0);
  h.pipeline.Process("c:x|c\nc:-1|c\nc:nan|c\nc:2|c", kT0);
  EXPECT_EQ(h.Errors(LineError::kMalformedValue), 2u);
  EXPECT_EQ(h.Errors(LineError::kNegativeCounter), 1u);
  EXPECT_DOUBLE_EQ(h.Series("c_total")->counter.value, 3);
}

TEST(PipelineTest, LinesWithNonFatalErrorsAreNotCached) {
  Harness h;
  h.pipeline.Process("c:1|c|#novalue,k:v", kT0);
  h.pipeline.Process("c:1|c|#novalue,k:v", kT0);
  EXPECT_EQ(h.Errors(LineError::kInvalidTag), 2u);
  EXPECT_DOUBLE_EQ(h.Series("c_total")->counter.value, 2);
}

TEST(PipelineTest, DropRuleIsCachedAndCounted) {
  Harness h("mappings:\n  - match: debug.*\n    action: drop\n");
  h.pipeline.Process("debug.x:1|c\ndebug.x:1|c", kT0);
  EXPECT_EQ(h.stats.samples[static_cast<size_t>(SampleOutcome::kDropped)].load(), 2u);
  EXPECT_TRUE(h.Collect().empty());
}

TEST(PipelineTest, StaleCacheEntryAfterTtlExpiryFallsBackToTheSlowPath) {
  Harness h("mappings:\n  - match: e\n    name: e\n    ttl: 10s\n");
  h.pipeline.Process("e:1|c", kT0);
  ASSERT_NE(h.Series("e_total", kT0), nullptr);
  EXPECT_EQ(h.Series("e_total", kT0 + seconds(20)), nullptr);  // expired and removed
  h.pipeline.Process("e:5|c", kT0 + seconds(21));                // cached handle is stale now
  const auto* s = h.Series("e_total", kT0 + seconds(21));
  ASSERT_NE(s, nullptr);
  EXPECT_DOUBLE_EQ(s->counter.value, 5);
}

TEST(PipelineTest, PackedValuesBypassTheCache) {
  Harness h;
  h.pipeline.Process("p:1:2:3|h\np:1:2:3|h", kT0);
  EXPECT_EQ(h.Series("p")->histogram.sample_count, 6u);
}

TEST(PipelineTest, PacketsAndDropsAreCounted) {
  Harness h;
  h.pipeline.Process("BXT7junk", kT0);
  h.pipeline.Drop(PacketDrop::kTooLarge, "x");
  EXPECT_EQ(h.stats.packets.load(), 1u);
  EXPECT_EQ(h.stats.packet_drops[static_cast<size_t>(PacketDrop::kUnsupportedVersion)].load(), 1u);
  EXPECT_EQ(h.stats.packet_drops[static_cast<size_t>(PacketDrop::kTooLarge)].load(), 1u);
}

}  // namespace
}  // namespace beam_exporter::telemetry
