#include "collectors/telemetry/pipeline.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/unit/telemetry/aggregate_datagram.h"

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

// The forwarder's aggregated deltas add up as if every event had been seen: two flushes give
// the totals of both, served under the names, types, help and buckets they carry.
TEST(PipelineTest, AggregatedDeltasAddUp) {
  Harness h;
  auto flush = [](double requests, std::vector<uint64_t> counts, double sum, double gauge) {
    return AggregateDatagram({{"req_total", "counter", "Requests.", {}, {"route"}, {{{"/a"}, requests}}},
                              {"req_seconds", "histogram", "Request time.", {0.1, 1}, {"route"}, {{{"/a"}, 0, "set", sum, counts}}},
                              {"mem_bytes", "gauge", "Memory.", {}, {}, {{{}, gauge, "set"}}}});
  };
  h.pipeline.Process(flush(3, {1, 2, 0}, 1.25, 10), kT0);
  h.pipeline.Process(flush(4, {0, 1, 3}, 7.5, 20), kT0);
  const prometheus::ClientMetric* req = h.Series("req_total");
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(req->counter.value, 7);
  EXPECT_EQ(req->label[0].name, "route");
  EXPECT_EQ(req->label[0].value, "/a");
  const prometheus::ClientMetric* hist = h.Series("req_seconds");
  ASSERT_NE(hist, nullptr);
  EXPECT_EQ(hist->histogram.sample_count, 7u);
  EXPECT_DOUBLE_EQ(hist->histogram.sample_sum, 8.75);
  ASSERT_EQ(hist->histogram.bucket.size(), 3u);
  EXPECT_EQ(hist->histogram.bucket[0].cumulative_count, 1u);
  EXPECT_EQ(hist->histogram.bucket[1].cumulative_count, 4u);
  EXPECT_EQ(hist->histogram.bucket[2].cumulative_count, 7u);
  const prometheus::ClientMetric* mem = h.Series("mem_bytes");
  ASSERT_NE(mem, nullptr);
  EXPECT_EQ(mem->gauge.value, 20);
  for (const auto& f : h.families) {
    if (f.name == "req_seconds") {
      EXPECT_EQ(f.help, "Request time.");
    }
  }
  EXPECT_EQ(h.stats.native_series_deltas.load(), 6u);
  EXPECT_EQ(h.stats.native_events.load(), 0u);
  EXPECT_EQ(h.stats.samples[static_cast<size_t>(SampleOutcome::kMapped)].load(), 6u);
}

TEST(PipelineTest, AggregatesMayNotPoseAsTheExportersOwnMetrics) {
  Harness h;
  h.pipeline.Process(AggregateDatagram({{"beam_exporter_up_total", "counter", "", {}, {}, {{{}, 1}}},
                                        {"beam_exporter_forwarder_flushes_total", "counter", "", {}, {}, {{{}, 2}}}}),
                     kT0);
  EXPECT_EQ(h.Series("beam_exporter_up_total"), nullptr);
  const prometheus::ClientMetric* flushes = h.Series("beam_exporter_forwarder_flushes_total");
  ASSERT_NE(flushes, nullptr);
  EXPECT_EQ(flushes->counter.value, 2);
  EXPECT_EQ(h.stats.samples[static_cast<size_t>(SampleOutcome::kInvalidName)].load(), 1u);
}

TEST(PipelineTest, AggregatedHistogramWithOtherBoundsIsDroppedAndCounted) {
  Harness h;
  h.pipeline.Process(AggregateDatagram({{"t_seconds", "histogram", "", {1}, {}, {{{}, 0, "set", 0.5, {1, 0}}}}}), kT0);
  h.pipeline.Process(AggregateDatagram({{"t_seconds", "histogram", "", {2}, {}, {{{}, 0, "set", 0.5, {1, 0}}}}}), kT0);
  std::vector<prometheus::MetricFamily> out;
  Aggregator::Totals totals = h.aggregator.Collect(kT0, &out);
  EXPECT_EQ((totals.drops[{"t_seconds", DropReason::kBucketMismatch}]), 1u);
  const prometheus::ClientMetric* t = h.Series("t_seconds");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->histogram.sample_count, 1u);
}

}  // namespace
}  // namespace beam_exporter::telemetry
