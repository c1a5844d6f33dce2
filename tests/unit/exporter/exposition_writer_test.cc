#include "exporter/exposition_writer.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <cmath>
#include <limits>
#include <random>
#include <sstream>

namespace beam_exporter {
namespace {

std::string Serialized(const std::vector<prometheus::MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

std::string Written(const std::vector<prometheus::MetricFamily>& families, size_t chunk_bytes = 64 * 1024,
                    size_t* pieces = nullptr) {
  std::string text;
  ExpositionWriter writer(
      [&](std::string_view piece) {
        text.append(piece);
        if (pieces != nullptr) ++*pieces;
        return true;
      },
      chunk_bytes);
  writer.Write(families);
  EXPECT_TRUE(writer.Finish());
  return text;
}

prometheus::ClientMetric Labeled(std::vector<std::pair<std::string, std::string>> labels) {
  prometheus::ClientMetric m;
  for (auto& [k, v] : labels) m.label.push_back({k, v});
  return m;
}

TEST(ExpositionWriterTest, WritesTheBytesTextSerializerWritesForEveryValueShape) {
  const double inf = std::numeric_limits<double>::infinity();
  prometheus::MetricFamily gauge{"g", "help with \\ \"quotes\"", prometheus::MetricType::Gauge, {}};
  for (double v : {0.0, -0.0, 1.0, -1.0, 0.1, 1.0 / 3, 1e15, 1e15 - 1, 1e16, 123456789012345678.0, 1e-5, 1e21,
                   2.5e-300, std::nan(""), inf, -inf, 9007199254740993.0, 1234567.5, 100.0, 0.001, -2.5e-7}) {
    auto m = Labeled({{"a", "b\\c\"d\ne"}, {"z", ""}});
    m.gauge.value = v;
    gauge.metric.push_back(m);
  }
  prometheus::MetricFamily counter{"c_total", "", prometheus::MetricType::Counter, {}};
  counter.metric.push_back(Labeled({}));
  counter.metric.back().counter.value = 42;
  prometheus::MetricFamily histogram{"h", "a histogram", prometheus::MetricType::Histogram, {}};
  auto h1 = Labeled({});
  h1.histogram.sample_count = 3;
  h1.histogram.sample_sum = 1.5;
  h1.histogram.bucket = {{1, 0.005}, {3, inf}};
  auto h2 = Labeled({{"k", "v"}});
  h2.histogram.sample_count = 7;
  h2.histogram.sample_sum = 0.25;
  h2.histogram.bucket = {{1, 0.5}, {2, 10}};  // no +Inf bucket: the serializer adds one
  histogram.metric = {h1, h2};
  prometheus::MetricFamily summary{"s", "a summary", prometheus::MetricType::Summary, {}};
  auto s1 = Labeled({{"k", "v"}});
  s1.summary.sample_count = 2;
  s1.summary.sample_sum = 3;
  s1.summary.quantile = {{0.5, std::nan("")}, {0.99, 1.25}};
  summary.metric = {s1};
  prometheus::MetricFamily empty{"empty", "no series", prometheus::MetricType::Counter, {}};
  prometheus::MetricFamily untyped{"u", "", prometheus::MetricType::Untyped, {}};
  untyped.metric.push_back(Labeled({{"x", "y"}}));
  untyped.metric.back().untyped.value = 4;
  untyped.metric.back().timestamp_ms = 1234;
  std::vector<prometheus::MetricFamily> families = {gauge, counter, histogram, summary, empty, untyped};
  EXPECT_EQ(Written(families), Serialized(families));
}

TEST(ExpositionWriterTest, RandomDoublesFormatLikeTextSerializer) {
  std::mt19937_64 rng(16);
  std::uniform_real_distribution<double> exponent(-30, 30);
  std::uniform_int_distribution<int64_t> integer(-(int64_t{1} << 53), int64_t{1} << 53);
  prometheus::MetricFamily f{"r", "", prometheus::MetricType::Gauge, {}};
  for (int i = 0; i < 20000; ++i) {
    prometheus::ClientMetric m;
    m.gauge.value = i % 2 ? std::pow(10.0, exponent(rng)) * (i % 3 ? 1 : -1) : static_cast<double>(integer(rng));
    f.metric.push_back(m);
  }
  EXPECT_EQ(Written({f}), Serialized({f}));
}

TEST(ExpositionWriterTest, HandsTheBodyOverInChunksOfAboutTheChunkSize) {
  prometheus::MetricFamily f{"many", "", prometheus::MetricType::Counter, {}};
  for (int i = 0; i < 5000; ++i) {
    f.metric.push_back(Labeled({{"i", std::to_string(i)}}));
    f.metric.back().counter.value = i;
  }
  size_t pieces = 0;
  std::string text = Written({f}, 4096, &pieces);
  EXPECT_EQ(text, Serialized({f}));
  EXPECT_GE(pieces, text.size() / (4096 + 64));
  EXPECT_LE(pieces, text.size() / 4096 + 1);
}

TEST(ExpositionWriterTest, StopsHandingOverAfterTheSinkRefuses) {
  prometheus::MetricFamily f{"many", "", prometheus::MetricType::Counter, {}};
  for (int i = 0; i < 1000; ++i) f.metric.push_back(Labeled({{"i", std::to_string(i)}}));
  int calls = 0;
  ExpositionWriter writer([&](std::string_view) { return ++calls < 2; }, 1024);
  writer.Write(f);
  EXPECT_FALSE(writer.Finish());
  EXPECT_TRUE(writer.failed());
  EXPECT_EQ(calls, 2);
}

TEST(ExpositionWriterTest, BuildsLabelBlocksAsTheSerializerDoes) {
  std::string block;
  AppendLabel("a", "x\"y", &block);
  AppendLabel("b", "1\n\\", &block);
  EXPECT_EQ(block, "{a=\"x\\\"y\",b=\"1\\n\\\\\"");
}

}  // namespace
}  // namespace beam_exporter
