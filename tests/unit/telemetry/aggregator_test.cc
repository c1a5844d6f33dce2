#include "collectors/telemetry/aggregator.h"

#include <gtest/gtest.h>

#include <prometheus/text_serializer.h>

#include <cmath>
#include <sstream>

namespace beam_exporter::telemetry {
namespace {

using TimePoint = Aggregator::TimePoint;
using std::chrono::seconds;

const TimePoint kT0 = TimePoint{} + std::chrono::hours(1);

MappedSample Make(std::string_view name, MetricType type, double value, std::span<const Label> labels = {}) {
  MappedSample m;
  m.name = name;
  m.type = type;
  m.value = value;
  m.labels = labels;
  m.buckets = &DefaultBuckets();
  return m;
}

const prometheus::MetricFamily* Find(const std::vector<prometheus::MetricFamily>& fams, const std::string& name) {
  for (const auto& f : fams) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

TEST(AggregatorTest, CountersSumAcrossShards) {
  Aggregator agg({}, 2);
  Label l[] = {{"route", "/a"}};
  EXPECT_TRUE(agg.shard(0).Add(Make("hits_total", MetricType::kCounter, 2, l), kT0));
  EXPECT_TRUE(agg.shard(1).Add(Make("hits_total", MetricType::kCounter, 3, l), kT0));
  std::vector<prometheus::MetricFamily> out;
  Aggregator::Totals totals = agg.Collect(kT0, &out);
  const auto* f = Find(out, "hits_total");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->type, prometheus::MetricType::Counter);
  ASSERT_EQ(f->metric.size(), 1u);
  EXPECT_DOUBLE_EQ(f->metric[0].counter.value, 5);
  ASSERT_EQ(f->metric[0].label.size(), 1u);
  EXPECT_EQ(f->metric[0].label[0].name, "route");
  EXPECT_EQ(totals.series, 1u);
}

TEST(AggregatorTest, GaugeSetAndRelative) {
  Aggregator agg({}, 2);
  MappedSample set = Make("g", MetricType::kGauge, 10);
  MappedSample add = Make("g", MetricType::kGauge, 5);
  add.relative = true;
  agg.shard(0).Add(set, kT0);
  agg.shard(0).Add(add, kT0 + seconds(1));
  agg.shard(1).Add(add, kT0 + seconds(2));
  std::vector<prometheus::MetricFamily> out;
  agg.Collect(kT0, &out);
  EXPECT_DOUBLE_EQ(Find(out, "g")->metric[0].gauge.value, 20);
  // A newer absolute set in another shard replaces the base.
  MappedSample set2 = Make("g", MetricType::kGauge, 1);
  agg.shard(1).Add(set2, kT0 + seconds(3));
  out.clear();
  agg.Collect(kT0, &out);
  EXPECT_DOUBLE_EQ(Find(out, "g")->metric[0].gauge.value, 6);  // 1 + the +5 of shard 0 after its set
}

TEST(AggregatorTest, HistogramBucketsAreCumulativeWithRepeat) {
  Aggregator agg({}, 1);
  std::vector<double> bounds = {0.1, 1};
  MappedSample a = Make("h", MetricType::kHistogram, 0.05);
  a.buckets = &bounds;
  MappedSample b = Make("h", MetricType::kHistogram, 0.5);
  b.buckets = &bounds;
  b.repeat = 3;
  MappedSample c = Make("h", MetricType::kHistogram, 7);
  c.buckets = &bounds;
  MappedSample edge = Make("h", MetricType::kHistogram, 1);  // le is inclusive
  edge.buckets = &bounds;
  for (auto* m : {&a, &b, &c, &edge}) agg.shard(0).Add(*m, kT0);
  std::vector<prometheus::MetricFamily> out;
  agg.Collect(kT0, &out);
  const auto& h = Find(out, "h")->metric[0].histogram;
  ASSERT_EQ(h.bucket.size(), 3u);
  EXPECT_EQ(h.bucket[0].cumulative_count, 1u);
  EXPECT_EQ(h.bucket[1].cumulative_count, 5u);
  EXPECT_EQ(h.bucket[2].cumulative_count, 6u);
  EXPECT_TRUE(std::isinf(h.bucket[2].upper_bound));
  EXPECT_EQ(h.sample_count, 6u);
  EXPECT_DOUBLE_EQ(h.sample_sum, 0.05 + 1.5 + 7 + 1);
}

// Counts observed elsewhere (the forwarder's aggregated deltas) add to a histogram series across
// shards as if each observation had been seen; counts for other bounds are dropped and counted.
TEST(AggregatorTest, HistogramDeltasAddUpAcrossShardsAndOtherBoundsAreRefused) {
  Aggregator agg({}, 2);
  const std::vector<double> bounds = {0.1, 1};
  MappedSample m = Make("t_seconds", MetricType::kHistogram, 0);
  m.buckets = &bounds;
  const uint64_t first[] = {1, 2, 0};
  const uint64_t second[] = {0, 1, 4};
  EXPECT_TRUE(agg.shard(0).AddHistogram(m, first, 1.25, kT0));
  EXPECT_TRUE(agg.shard(1).AddHistogram(m, second, 10.5, kT0));
  EXPECT_TRUE(agg.shard(1).Add([&] { MappedSample one = m; one.value = 0.05; return one; }(), kT0));
  const std::vector<double> other = {2};
  MappedSample wrong = m;
  wrong.buckets = &other;
  const uint64_t two[] = {1, 1};
  EXPECT_FALSE(agg.shard(0).AddHistogram(wrong, two, 1, kT0));
  EXPECT_FALSE(agg.shard(0).AddHistogram(m, two, 1, kT0));  // too few counts for the family's bounds

  std::vector<prometheus::MetricFamily> out;
  Aggregator::Totals totals = agg.Collect(kT0, &out);
  const auto* f = Find(out, "t_seconds");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->metric.size(), 1u);
  const auto& h = f->metric[0].histogram;
  EXPECT_EQ(h.sample_count, 9u);
  EXPECT_DOUBLE_EQ(h.sample_sum, 11.8);
  ASSERT_EQ(h.bucket.size(), 3u);
  EXPECT_EQ(h.bucket[0].cumulative_count, 2u);
  EXPECT_EQ(h.bucket[1].cumulative_count, 5u);
  EXPECT_EQ(h.bucket[2].cumulative_count, 9u);
  EXPECT_EQ((totals.drops[{"t_seconds", DropReason::kBucketMismatch}]), 2u);
  EXPECT_EQ(DropReasonName(DropReason::kBucketMismatch), "bucket_mismatch");
}

TEST(AggregatorTest, SeriesCapDropsOverflowAndCounts) {
  Aggregator agg({/*series_limit_per_metric=*/2, /*metric_limit=*/100}, 1);
  for (const char* v : {"a", "b", "c", "d"}) {
    Label l[] = {{"k", v}};
    agg.shard(0).Add(Make("capped", MetricType::kGauge, 1, l), kT0);
  }
  Label existing[] = {{"k", "a"}};
  EXPECT_TRUE(agg.shard(0).Add(Make("capped", MetricType::kGauge, 2, existing), kT0));  // known series still update
  std::vector<prometheus::MetricFamily> out;
  Aggregator::Totals totals = agg.Collect(kT0, &out);
  EXPECT_EQ(Find(out, "capped")->metric.size(), 2u);
  EXPECT_EQ((totals.drops[{"capped", DropReason::kSeriesLimit}]), 2u);
}

TEST(AggregatorTest, TypeClashIsDroppedAndCounted) {
  Aggregator agg({}, 2);
  EXPECT_TRUE(agg.shard(0).Add(Make("x", MetricType::kGauge, 1), kT0));
  EXPECT_FALSE(agg.shard(1).Add(Make("x", MetricType::kHistogram, 1), kT0));
  EXPECT_FALSE(agg.shard(0).Add(Make("x", MetricType::kHistogram, 1), kT0));
  // A histogram owns x_count: a gauge of that name would break the exposition.
  EXPECT_TRUE(agg.shard(0).Add(Make("lat", MetricType::kHistogram, 1), kT0));
  EXPECT_FALSE(agg.shard(0).Add(Make("lat_count", MetricType::kGauge, 1), kT0));
  std::vector<prometheus::MetricFamily> out;
  Aggregator::Totals totals = agg.Collect(kT0, &out);
  EXPECT_EQ(Find(out, "x")->type, prometheus::MetricType::Gauge);
  EXPECT_EQ(Find(out, "lat_count"), nullptr);
  EXPECT_EQ((totals.drops[{"x", DropReason::kTypeClash}]), 2u);
  EXPECT_EQ((totals.drops[{"lat_count", DropReason::kTypeClash}]), 1u);
}

TEST(AggregatorTest, MetricLimit) {
  Aggregator agg({100, 1}, 1);
  EXPECT_TRUE(agg.shard(0).Add(Make("one", MetricType::kGauge, 1), kT0));
  EXPECT_FALSE(agg.shard(0).Add(Make("two", MetricType::kGauge, 1), kT0));
  std::vector<prometheus::MetricFamily> out;
  Aggregator::Totals totals = agg.Collect(kT0, &out);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ((totals.drops[{"two", DropReason::kMetricLimit}]), 1u);
}

TEST(AggregatorTest, TtlExpiresWithFakeClockAndFreesCap) {
  // The cap counts shard copies: the one label set held by both shards takes both slots.
  Aggregator agg({/*series_limit_per_metric=*/2, 100}, 2);
  MappedSample m = Make("t", MetricType::kCounter, 1);
  m.ttl = seconds(60);
  agg.shard(0).Add(m, kT0);
  agg.shard(1).Add(m, kT0 + seconds(50));
  Label l[] = {{"k", "new"}};
  MappedSample n = Make("t", MetricType::kCounter, 1, l);
  n.ttl = seconds(60);
  EXPECT_FALSE(agg.shard(0).Add(n, kT0 + seconds(51)));  // cap full
  std::vector<prometheus::MetricFamily> out;
  agg.Collect(kT0 + seconds(100), &out);  // newest update 50 s old: kept, both shard copies
  ASSERT_NE(Find(out, "t"), nullptr);
  EXPECT_DOUBLE_EQ(Find(out, "t")->metric[0].counter.value, 2);
  out.clear();
  Aggregator::Totals totals = agg.Collect(kT0 + seconds(111), &out);
  EXPECT_EQ(Find(out, "t"), nullptr);
  EXPECT_EQ(totals.series, 0u);
  // The cap slots are free again.
  EXPECT_TRUE(agg.shard(0).Add(n, kT0 + seconds(112)));
}

// The values of one counter family as label value -> value, in the order a scrape gave them.
std::vector<std::pair<std::string, double>> CounterValues(Aggregator& agg, TimePoint now, const std::string& name) {
  std::vector<prometheus::MetricFamily> out;
  agg.Collect(now, &out);
  std::vector<std::pair<std::string, double>> values;
  if (const auto* f = Find(out, name)) {
    for (const auto& m : f->metric) values.emplace_back(m.label.at(0).value, m.counter.value);
  }
  return values;
}

TEST(AggregatorTest, ScrapesListSeriesInLabelOrderWhateverOrderTheyCameIn) {
  Aggregator agg({}, 1);
  for (const char* route : {"/c", "/a", "/d", "/b"}) {
    Label l[] = {{"route", route}};
    agg.shard(0).Add(Make("hits_total", MetricType::kCounter, route[1] - 'a' + 1, l), kT0);
  }
  using Values = std::vector<std::pair<std::string, double>>;
  EXPECT_EQ(CounterValues(agg, kT0, "hits_total"), (Values{{"/a", 1}, {"/b", 2}, {"/c", 3}, {"/d", 4}}));
  // A series that comes after a scrape takes its place in the order at the next one.
  Label l[] = {{"route", "/bb"}};
  agg.shard(0).Add(Make("hits_total", MetricType::kCounter, 9, l), kT0);
  EXPECT_EQ(CounterValues(agg, kT0, "hits_total"), (Values{{"/a", 1}, {"/b", 2}, {"/bb", 9}, {"/c", 3}, {"/d", 4}}));
}

TEST(AggregatorTest, AHandleGoesStaleWhenAScrapeReordersTheSeriesAndTheSampleThenTakesTheLongWay) {
  Aggregator agg({}, 1);
  Label b[] = {{"route", "/b"}};
  Label a[] = {{"route", "/a"}};
  Aggregator::SeriesHandle handle_b;
  ASSERT_TRUE(agg.shard(0).Add(Make("hits_total", MetricType::kCounter, 1, b), kT0, &handle_b));
  ASSERT_TRUE(agg.shard(0).AddTo(handle_b, 1, 1, false, kT0));
  ASSERT_TRUE(agg.shard(0).Add(Make("hits_total", MetricType::kCounter, 10, a), kT0));
  CounterValues(agg, kT0, "hits_total");  // puts /a before /b: /b's slot moved
  EXPECT_FALSE(agg.shard(0).AddTo(handle_b, 1, 1, false, kT0));
  ASSERT_TRUE(agg.shard(0).Add(Make("hits_total", MetricType::kCounter, 1, b), kT0, &handle_b));
  ASSERT_TRUE(agg.shard(0).AddTo(handle_b, 1, 1, false, kT0));
  using Values = std::vector<std::pair<std::string, double>>;
  EXPECT_EQ(CounterValues(agg, kT0, "hits_total"), (Values{{"/a", 10}, {"/b", 4}}));
}

TEST(AggregatorTest, ExpiringSeriesFromTheMiddleLeavesTheOthersIntact) {
  Aggregator agg({}, 1);
  auto add = [&](const char* route, double value, TimePoint at) {
    Label l[] = {{"route", route}};
    MappedSample s = Make("hits_total", MetricType::kCounter, value, l);
    s.ttl = seconds(10);
    return agg.shard(0).Add(s, at);
  };
  for (int i = 0; i < 6; ++i) add(("/" + std::string(1, static_cast<char>('a' + i))).c_str(), i + 1, kT0);
  CounterValues(agg, kT0, "hits_total");
  // /a, /c and /e are refreshed; /b, /d and /f (the last slot among them) expire.
  for (const char* route : {"/a", "/c", "/e"}) add(route, 100, kT0 + seconds(8));
  using Values = std::vector<std::pair<std::string, double>>;
  EXPECT_EQ(CounterValues(agg, kT0 + seconds(15), "hits_total"), (Values{{"/a", 101}, {"/c", 103}, {"/e", 105}}));
  // The survivors keep updating, and an expired series comes back from zero.
  add("/c", 1, kT0 + seconds(16));
  add("/d", 7, kT0 + seconds(16));
  EXPECT_EQ(CounterValues(agg, kT0 + seconds(16), "hits_total"),
            (Values{{"/a", 101}, {"/c", 104}, {"/d", 7}, {"/e", 105}}));
}

TEST(AggregatorTest, SeriesHeldByOneShardOrBySeveralMergeInOneOrder) {
  Aggregator agg({}, 3);
  // /a in shards 0 and 2, /b only in 1, /c only in 2, /d in all three.
  auto add = [&](size_t shard, const char* route, double value) {
    Label l[] = {{"route", route}};
    ASSERT_TRUE(agg.shard(shard).Add(Make("hits_total", MetricType::kCounter, value, l), kT0));
  };
  add(2, "/d", 1);
  add(0, "/a", 1);
  add(1, "/d", 2);
  add(2, "/c", 5);
  add(1, "/b", 3);
  add(2, "/a", 2);
  add(0, "/d", 4);
  using Values = std::vector<std::pair<std::string, double>>;
  EXPECT_EQ(CounterValues(agg, kT0, "hits_total"), (Values{{"/a", 3}, {"/b", 3}, {"/c", 5}, {"/d", 7}}));
  // A family held by one shard only takes the single-copy path.
  Label l[] = {{"route", "/x"}};
  ASSERT_TRUE(agg.shard(1).Add(Make("other_total", MetricType::kCounter, 8, l), kT0));
  EXPECT_EQ(CounterValues(agg, kT0, "other_total"), (Values{{"/x", 8}}));
}

TEST(AggregatorTest, NoTtlMeansForever) {
  Aggregator agg({}, 1);
  agg.shard(0).Add(Make("forever", MetricType::kGauge, 1), kT0);
  std::vector<prometheus::MetricFamily> out;
  agg.Collect(kT0 + std::chrono::hours(24 * 365), &out);
  EXPECT_NE(Find(out, "forever"), nullptr);
}

MappedSample MakeSummary(std::string_view name, double value, const SummaryOptions* options,
                         std::span<const Label> labels = {}) {
  MappedSample m = Make(name, MetricType::kSummary, value, labels);
  m.summary = options;
  return m;
}

TEST(AggregatorTest, SummaryQuantilesAcrossShardsWithinTheirError) {
  Aggregator agg({}, 2);
  SummaryOptions options;  // 0.5/0.05, 0.9/0.01, 0.99/0.001
  Label l[] = {{"route", "/a"}};
  const uint64_t n = 5003;  // values 1..n once each, in a fixed shuffled order, alternating shards
  for (uint64_t i = 0; i < n; ++i) {
    double v = static_cast<double>((i * 7919) % n + 1);
    ASSERT_TRUE(agg.shard(i % 2).Add(MakeSummary("lat_seconds", v, &options, l), kT0));
  }
  std::vector<prometheus::MetricFamily> out;
  agg.Collect(kT0, &out);
  const auto* f = Find(out, "lat_seconds");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->type, prometheus::MetricType::Summary);
  ASSERT_EQ(f->metric.size(), 1u);
  const auto& summary = f->metric[0].summary;
  EXPECT_EQ(summary.sample_count, n);
  EXPECT_DOUBLE_EQ(summary.sample_sum, static_cast<double>(n) * static_cast<double>(n + 1) / 2);
  ASSERT_EQ(summary.quantile.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(summary.quantile[i].quantile, options.objectives[i].quantile);
    EXPECT_NEAR(summary.quantile[i].value / static_cast<double>(n), options.objectives[i].quantile,
                options.objectives[i].error);
  }
}

TEST(AggregatorTest, SummaryWindowForgetsOldObservationsButCountAndSumDoNot) {
  Aggregator agg({}, 1);
  SummaryOptions options;
  options.objectives = {{0.9, 0.01}};
  options.max_age = seconds(60);
  options.age_buckets = 3;
  Aggregator::SeriesHandle handle;
  ASSERT_TRUE(agg.shard(0).Add(MakeSummary("s", 100, &options), kT0, &handle));
  // The cached-line path (AddTo) feeds the same window.
  ASSERT_TRUE(agg.shard(0).AddTo(handle, 100, 9, false, kT0));
  ASSERT_TRUE(agg.shard(0).AddTo(handle, 1, 10, false, kT0 + seconds(45)));
  std::vector<prometheus::MetricFamily> out;
  agg.Collect(kT0 + seconds(45), &out);
  EXPECT_EQ(Find(out, "s")->metric[0].summary.quantile[0].value, 100);  // 10 x 100 and 10 x 1
  out.clear();
  agg.Collect(kT0 + seconds(61), &out);
  EXPECT_EQ(Find(out, "s")->metric[0].summary.quantile[0].value, 1);  // the 100s are older than max_age
  EXPECT_EQ(Find(out, "s")->metric[0].summary.sample_count, 20u);
  out.clear();
  agg.Collect(kT0 + seconds(200), &out);
  EXPECT_TRUE(std::isnan(Find(out, "s")->metric[0].summary.quantile[0].value));
  EXPECT_DOUBLE_EQ(Find(out, "s")->metric[0].summary.sample_sum, 1010);
}

TEST(AggregatorTest, SummaryTtlExpiryDropsTheWindow) {
  Aggregator agg({}, 2);
  SummaryOptions options;  // max_age 10 min: longer than the ttl
  MappedSample old_value = MakeSummary("s", 100, &options);
  old_value.ttl = seconds(60);
  agg.shard(0).Add(old_value, kT0);
  agg.shard(1).Add(old_value, kT0);
  std::vector<prometheus::MetricFamily> out;
  agg.Collect(kT0 + seconds(61), &out);
  EXPECT_EQ(Find(out, "s"), nullptr);
  // The label set comes back: a fresh window, not the one still holding the 100s.
  MappedSample new_value = MakeSummary("s", 1, &options);
  new_value.ttl = seconds(60);
  agg.shard(1).Add(new_value, kT0 + seconds(62));
  out.clear();
  agg.Collect(kT0 + seconds(62), &out);
  ASSERT_NE(Find(out, "s"), nullptr);
  EXPECT_EQ(Find(out, "s")->metric[0].summary.sample_count, 1u);
  for (const auto& q : Find(out, "s")->metric[0].summary.quantile) EXPECT_EQ(q.value, 1) << q.quantile;
}

TEST(AggregatorTest, SummaryWithoutQuantilesHasOnlySumAndCount) {
  Aggregator agg({}, 1);
  SummaryOptions options;
  options.objectives.clear();
  agg.shard(0).Add(MakeSummary("s", 2, &options), kT0);
  std::vector<prometheus::MetricFamily> out;
  agg.Collect(kT0, &out);
  EXPECT_TRUE(Find(out, "s")->metric[0].summary.quantile.empty());
  EXPECT_EQ(Find(out, "s")->metric[0].summary.sample_count, 1u);
}

TEST(AggregatorTest, SummarySeriesCapApplies) {
  Aggregator agg({/*series_limit_per_metric=*/1, 100}, 1);
  SummaryOptions options;
  Label a[] = {{"k", "a"}};
  Label b[] = {{"k", "b"}};
  EXPECT_TRUE(agg.shard(0).Add(MakeSummary("s", 1, &options, a), kT0));
  Aggregator::Totals totals;
  EXPECT_FALSE(agg.shard(0).Add(MakeSummary("s", 1, &options, b), kT0));
  std::vector<prometheus::MetricFamily> out;
  totals = agg.Collect(kT0, &out);
  EXPECT_EQ(totals.series, 1u);
  EXPECT_EQ((totals.drops[{"s", DropReason::kSeriesLimit}]), 1u);
}

// Fills a three-shard store with every type, label sets shared by shards and label values
// that need escaping or sort differently as text than as keys.
void FillMixed(Aggregator* agg, const SummaryOptions* options) {
  const char* values[] = {"a", "a!", "b\"q", "c\\d", "e\nf", "", "zz"};
  for (int i = 0; i < 300; ++i) {
    const std::string v = std::string(values[i % 7]) + std::to_string(i % 40);
    Label l[] = {{"route", v}, {"status", i % 3 ? "200" : "500"}};
    Aggregator::Shard& shard = agg->shard(static_cast<size_t>(i % 3));
    shard.Add(Make("hits_total", MetricType::kCounter, i, l), kT0 + seconds(i));
    MappedSample g = Make("inflight", MetricType::kGauge, i % 11, l);
    g.relative = i % 4 == 0;
    shard.Add(g, kT0 + seconds(i));
    shard.Add(Make("latency_seconds", MetricType::kHistogram, (i % 17) / 10.0, l), kT0 + seconds(i));
    shard.Add(MakeSummary("size_bytes", i, options, l), kT0 + seconds(i));
  }
  agg->shard(0).Add(Make("no_labels_total", MetricType::kCounter, 1.5), kT0);
}

TEST(AggregatorTest, StreamWritesWhatTextSerializerWritesForTheSameFamilies) {
  SummaryOptions options;
  Aggregator streamed({}, 3);
  Aggregator collected({}, 3);
  FillMixed(&streamed, &options);
  FillMixed(&collected, &options);
  std::string text;
  ExpositionWriter writer(
      [&text](std::string_view piece) {
        text.append(piece);
        return true;
      },
      512);
  Aggregator::Totals stream_totals = streamed.Stream(kT0 + seconds(400), &writer);
  ASSERT_TRUE(writer.Finish());
  std::vector<prometheus::MetricFamily> families;
  Aggregator::Totals collect_totals = collected.Collect(kT0 + seconds(400), &families);
  std::ostringstream serialized;
  prometheus::TextSerializer().Serialize(serialized, families);
  EXPECT_EQ(text, serialized.str());
  EXPECT_EQ(stream_totals.series, collect_totals.series);
  EXPECT_GT(stream_totals.series, 4u * 280);
  // A second scrape (shard orders cached) writes the same text.
  std::string again;
  ExpositionWriter writer2([&again](std::string_view piece) {
    again.append(piece);
    return true;
  });
  streamed.Stream(kT0 + seconds(400), &writer2);
  writer2.Finish();
  EXPECT_EQ(again, text);
}

TEST(AggregatorTest, GlobalSeriesLimitDropsNewSeriesOfAnyMetricAndCounts) {
  Aggregator::Options options;
  options.series_limit = 3;
  Aggregator agg(options, 1);
  for (const char* v : {"a", "b"}) {
    Label l[] = {{"k", v}};
    EXPECT_TRUE(agg.shard(0).Add(Make("one", MetricType::kCounter, 1, l), kT0));
  }
  Label c[] = {{"k", "c"}};
  Label d[] = {{"k", "d"}};
  EXPECT_TRUE(agg.shard(0).Add(Make("two", MetricType::kCounter, 1, c), kT0));
  EXPECT_FALSE(agg.shard(0).Add(Make("two", MetricType::kCounter, 1, d), kT0));
  EXPECT_FALSE(agg.shard(0).Add(Make("one", MetricType::kCounter, 1, d), kT0));
  EXPECT_FALSE(agg.shard(0).Add(Make("one", MetricType::kCounter, 1, c), kT0));
  Label a[] = {{"k", "a"}};
  EXPECT_TRUE(agg.shard(0).Add(Make("one", MetricType::kCounter, 5, a), kT0));  // known series still update
  std::vector<prometheus::MetricFamily> out;
  Aggregator::Totals totals = agg.Collect(kT0, &out);
  EXPECT_EQ(totals.series, 3u);
  EXPECT_EQ((totals.drops[{"two", DropReason::kGlobalSeriesLimit}]), 1u);
  EXPECT_EQ((totals.drops[{"one", DropReason::kGlobalSeriesLimit}]), 2u);
  EXPECT_EQ(DropReasonName(DropReason::kGlobalSeriesLimit), "global_series_limit");
}

TEST(AggregatorTest, ExpiredSeriesFreeTheGlobalBudget) {
  Aggregator::Options options;
  options.series_limit = 1;
  Aggregator agg(options, 1);
  MappedSample m = Make("t", MetricType::kCounter, 1);
  m.ttl = seconds(60);
  EXPECT_TRUE(agg.shard(0).Add(m, kT0));
  MappedSample other = Make("u", MetricType::kCounter, 1);
  EXPECT_FALSE(agg.shard(0).Add(other, kT0));
  std::vector<prometheus::MetricFamily> out;
  agg.Collect(kT0 + seconds(61), &out);  // expires t
  EXPECT_TRUE(agg.shard(0).Add(other, kT0 + seconds(62)));
}

}  // namespace
}  // namespace beam_exporter::telemetry
