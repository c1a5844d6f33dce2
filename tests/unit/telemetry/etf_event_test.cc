#include "collectors/telemetry/etf_event.h"

#include <ei.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "tests/unit/telemetry/aggregate_datagram.h"
#include "tests/unit/telemetry/recording_sink.h"

namespace beam_exporter::telemetry {
namespace {

using Tags = std::map<std::string, std::string>;

// An ei_x_buff that frees itself.
class TermBuilder {
 public:
  TermBuilder() { ei_x_new_with_version(&x_); }
  ~TermBuilder() { ei_x_free(&x_); }
  ei_x_buff* x() { return &x_; }
  std::string Datagram(std::string_view magic = "BXT1") const { return std::string(magic) + std::string(x_.buff, x_.index); }
  // Opens a batch of one event named [e] from node n@h: {'n@h', [{[e], ... The caller writes the
  // measurements, the metadata and the time, then closes the batch with an empty list.
  void BeginOneEventBatch() {
    ei_x_encode_tuple_header(&x_, 2);
    ei_x_encode_atom(&x_, "n@h");
    ei_x_encode_list_header(&x_, 1);
    ei_x_encode_tuple_header(&x_, 4);
    ei_x_encode_list_header(&x_, 1);
    ei_x_encode_atom(&x_, "e");
    ei_x_encode_empty_list(&x_);
  }

 private:
  ei_x_buff x_;
};

// {Node, [{[phoenix, endpoint, stop], #{duration => 0.25}, #{method => <<"GET">>, status => 200}, 7}]}
void EncodeEndpointBatch(ei_x_buff* x) {
  ei_x_encode_tuple_header(x, 2);
  ei_x_encode_atom(x, "app@host");
  ei_x_encode_list_header(x, 1);
  ei_x_encode_tuple_header(x, 4);
  ei_x_encode_list_header(x, 3);
  ei_x_encode_atom(x, "phoenix");
  ei_x_encode_atom(x, "endpoint");
  ei_x_encode_atom(x, "stop");
  ei_x_encode_empty_list(x);
  ei_x_encode_map_header(x, 1);
  ei_x_encode_atom(x, "duration");
  ei_x_encode_double(x, 0.25);
  ei_x_encode_map_header(x, 2);
  ei_x_encode_atom(x, "method");
  ei_x_encode_binary(x, "GET", 3);
  ei_x_encode_atom(x, "status");
  ei_x_encode_long(x, 200);
  ei_x_encode_long(x, 7);
  ei_x_encode_empty_list(x);
}

TEST(EtfDecoderTest, DecodesEventBuiltWithEi) {
  TermBuilder b;
  EncodeEndpointBatch(b.x());
  EtfDecoder decoder;
  RecordingSink sink;
  EtfResult r = decoder.Decode(b.Datagram(), sink);
  EXPECT_EQ(r.error, EtfError::kNone);
  EXPECT_EQ(r.events, 1u);
  ASSERT_EQ(sink.samples.size(), 1u);
  const RecordedSample& s = sink.samples[0];
  EXPECT_EQ(s.name, "phoenix.endpoint.stop.duration");
  EXPECT_EQ(s.source, SampleSource::kNative);
  EXPECT_EQ(s.kind, SampleKind::kObserver);
  EXPECT_TRUE(s.in_seconds);
  EXPECT_DOUBLE_EQ(s.value, 0.25);
  EXPECT_EQ(s.tags, (Tags{{"method", "GET"}, {"status", "200"}}));
}

// Bytes written by a real `erl`: see fixtures/README.md for the command.
TEST(EtfDecoderTest, DecodesBatchWrittenByRealErl) {
  std::ifstream in(std::string(TELEMETRY_FIXTURE_DIR) + "/native_batch.bxt", std::ios::binary);
  ASSERT_TRUE(in) << "fixture missing";
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EtfDecoder decoder;
  RecordingSink sink;
  EtfResult r = decoder.Decode(bytes, sink);
  EXPECT_EQ(r.error, EtfError::kNone);
  EXPECT_EQ(r.events, 3u);
  ASSERT_EQ(sink.samples.size(), 6u);
  std::map<std::string, RecordedSample> by_name;
  for (const auto& s : sink.samples) by_name.emplace(s.name, s);
  const RecordedSample& dispatch = by_name.at("phoenix.router_dispatch.stop.duration");
  EXPECT_DOUBLE_EQ(dispatch.value, 0.0125);
  EXPECT_EQ(dispatch.tags, (Tags{{"method", "GET"},
                                 {"route", "/users/:id"},
                                 {"status", "200"},
                                 {"plug", "Elixir.AppWeb.UserController"},
                                 {"cached", "false"}}));
  const RecordedSample& crash = by_name.at("beam_exporter.logger.crash.count");
  EXPECT_EQ(crash.kind, SampleKind::kCounter);
  EXPECT_DOUBLE_EQ(crash.value, 1);
  EXPECT_EQ(crash.tags, (Tags{{"reason", "timeout"}}));
  EXPECT_DOUBLE_EQ(by_name.at("ecto.repo.query.total_time").value, 0.004);
  EXPECT_DOUBLE_EQ(by_name.at("ecto.repo.query.queue_time").value, 0.001);
  EXPECT_DOUBLE_EQ(by_name.at("ecto.repo.query.decode_time").value, 5e-5);
  EXPECT_DOUBLE_EQ(by_name.at("ecto.repo.query.idle_time").value, 1.5);
  EXPECT_EQ(by_name.at("ecto.repo.query.idle_time").tags.at("repo"), "Elixir.App.Repo");
}

TEST(EtfDecoderTest, EmptyBatchIsFine) {
  TermBuilder b;
  ei_x_encode_tuple_header(b.x(), 2);
  ei_x_encode_atom(b.x(), "n@h");
  ei_x_encode_empty_list(b.x());
  EtfDecoder decoder;
  RecordingSink sink;
  EtfResult r = decoder.Decode(b.Datagram(), sink);
  EXPECT_EQ(r.error, EtfError::kNone);
  EXPECT_EQ(r.events, 0u);
}

TEST(EtfDecoderTest, FutureVersionIsUnsupported) {
  TermBuilder b;
  EncodeEndpointBatch(b.x());
  EtfDecoder decoder;
  RecordingSink sink;
  EXPECT_EQ(decoder.Decode(b.Datagram("BXT3"), sink).error, EtfError::kUnsupportedVersion);
  EXPECT_TRUE(sink.samples.empty());
  EXPECT_TRUE(IsNativeDatagram(b.Datagram("BXT9")));
  EXPECT_FALSE(IsNativeDatagram("BXTfoo:1|c"));
  EXPECT_FALSE(IsNativeDatagram("foo:1|c"));
}

TEST(EtfDecoderTest, EveryTruncationIsMalformedNotACrash) {
  TermBuilder b;
  EncodeEndpointBatch(b.x());
  std::string full = b.Datagram();
  EtfDecoder decoder;
  for (size_t len = 4; len < full.size(); ++len) {
    RecordingSink sink;
    EtfResult r = decoder.Decode(full.substr(0, len), sink);
    EXPECT_EQ(r.error, EtfError::kMalformed) << "length " << len;
    // Only the list tail is missing when just the last byte is cut: the event was whole.
    EXPECT_EQ(r.events, len == full.size() - 1 ? 1u : 0u) << "length " << len;
  }
}

TEST(EtfDecoderTest, WrongShapesAreMalformed) {
  EtfDecoder decoder;
  RecordingSink sink;
  {
    TermBuilder b;  // not a tuple
    ei_x_encode_atom(b.x(), "hello");
    EXPECT_EQ(decoder.Decode(b.Datagram(), sink).error, EtfError::kMalformed);
  }
  {
    TermBuilder b;  // event with a non-number measurement
    b.BeginOneEventBatch();
    ei_x_encode_map_header(b.x(), 1);
    ei_x_encode_atom(b.x(), "duration");
    ei_x_encode_atom(b.x(), "slow");
    ei_x_encode_map_header(b.x(), 0);
    ei_x_encode_long(b.x(), 1);
    ei_x_encode_empty_list(b.x());
    EXPECT_EQ(decoder.Decode(b.Datagram(), sink).error, EtfError::kMalformed);
  }
  {
    TermBuilder b;  // metadata value that is a tuple
    b.BeginOneEventBatch();
    ei_x_encode_map_header(b.x(), 0);
    ei_x_encode_map_header(b.x(), 1);
    ei_x_encode_atom(b.x(), "k");
    ei_x_encode_tuple_header(b.x(), 0);
    ei_x_encode_long(b.x(), 1);
    ei_x_encode_empty_list(b.x());
    EXPECT_EQ(decoder.Decode(b.Datagram(), sink).error, EtfError::kMalformed);
  }
  EXPECT_EQ(decoder.Decode("BXT1", sink).error, EtfError::kMalformed);
  EXPECT_EQ(decoder.Decode(std::string("BXT1\x83", 5), sink).error, EtfError::kMalformed);
  EXPECT_TRUE(sink.samples.empty());
}

TEST(EtfDecoderTest, LimitsAreEnforced) {
  TermBuilder b;
  b.BeginOneEventBatch();
  ei_x_encode_map_header(b.x(), 1);
  ei_x_encode_atom(b.x(), "v");
  ei_x_encode_long(b.x(), 1);
  ei_x_encode_map_header(b.x(), 1);
  ei_x_encode_atom(b.x(), "k");
  std::string big(2000, 'x');
  ei_x_encode_binary(b.x(), big.data(), static_cast<long>(big.size()));
  ei_x_encode_long(b.x(), 1);
  ei_x_encode_empty_list(b.x());
  EtfDecoder decoder;
  RecordingSink sink;
  EXPECT_EQ(decoder.Decode(b.Datagram(), sink).error, EtfError::kLimitExceeded);
  EXPECT_TRUE(sink.samples.empty());
}


// Copies every aggregate sample it receives.
class RecordingAggregateSink : public AggregateSink {
 public:
  struct Recorded {
    std::string name, help;
    AggregateType type;
    std::vector<double> buckets;
    std::vector<std::pair<std::string, std::string>> labels;
    double value;
    bool relative;
    double sum;
    std::vector<uint64_t> bucket_counts;
  };
  void OnAggregate(const AggregateSample& s) override {
    Recorded r{std::string(s.name), std::string(s.help), s.type, {s.buckets.begin(), s.buckets.end()}, {}, s.value,
               s.relative, s.sum, {s.bucket_counts.begin(), s.bucket_counts.end()}};
    for (const Tag& t : s.labels) r.labels.emplace_back(t.key, t.value);
    samples.push_back(std::move(r));
  }
  std::vector<Recorded> samples;
};

AggregateMetricSpec RouteHistogram() {
  return {"http_duration_seconds", "histogram", "Request time.", {0.1, 1}, {"route", "method"},
          {{{"/a", "GET"}, 0, "set", 1.5, {1, 2, 0}}, {{"/b", "POST"}, 0, "set", 0.05, {1, 0, 0}}}};
}

TEST(EtfAggregateDecoderTest, DecodesEveryTypeWithLabelsSortedByName) {
  std::string d = AggregateDatagram({RouteHistogram(),
                                     {"jobs_total", "counter", "Jobs.", {}, {"queue"}, {{{"default"}, 3}}},
                                     {"queue_length", "gauge", "", {}, {}, {{{}, -2, "add"}}},
                                     {"memory_bytes", "gauge", "", {}, {}, {{{}, 42, "set"}}}});
  EtfDecoder decoder;
  RecordingAggregateSink sink;
  EtfResult r = decoder.DecodeAggregates(d, sink);
  EXPECT_EQ(r.error, EtfError::kNone);
  EXPECT_EQ(r.events, 5u);
  ASSERT_EQ(sink.samples.size(), 5u);
  const auto& h = sink.samples[0];
  EXPECT_EQ(h.name, "http_duration_seconds");
  EXPECT_EQ(h.type, AggregateType::kHistogram);
  EXPECT_EQ(h.help, "Request time.");
  EXPECT_EQ(h.buckets, (std::vector<double>{0.1, 1}));
  EXPECT_EQ(h.labels, (std::vector<std::pair<std::string, std::string>>{{"method", "GET"}, {"route", "/a"}}));
  EXPECT_EQ(h.bucket_counts, (std::vector<uint64_t>{1, 2, 0}));
  EXPECT_DOUBLE_EQ(h.sum, 1.5);
  EXPECT_EQ(sink.samples[1].labels, (std::vector<std::pair<std::string, std::string>>{{"method", "POST"}, {"route", "/b"}}));
  EXPECT_EQ(sink.samples[2].type, AggregateType::kCounter);
  EXPECT_DOUBLE_EQ(sink.samples[2].value, 3);
  EXPECT_TRUE(sink.samples[3].relative);
  EXPECT_DOUBLE_EQ(sink.samples[3].value, -2);
  EXPECT_FALSE(sink.samples[4].relative);
  EXPECT_DOUBLE_EQ(sink.samples[4].value, 42);
}

TEST(EtfAggregateDecoderTest, VersionsAreNotMixedUp) {
  EtfDecoder decoder;
  RecordingAggregateSink aggregates;
  RecordingSink events;
  std::string v2 = AggregateDatagram({RouteHistogram()});
  EXPECT_EQ(decoder.Decode(v2, events).error, EtfError::kUnsupportedVersion);
  std::string v1 = AggregateDatagram({RouteHistogram()}, "BXT1");
  EXPECT_EQ(decoder.DecodeAggregates(v1, aggregates).error, EtfError::kUnsupportedVersion);
  EXPECT_TRUE(aggregates.samples.empty());
  EXPECT_TRUE(events.samples.empty());
}

TEST(EtfAggregateDecoderTest, EveryTruncationIsMalformedNotACrash) {
  std::string d = AggregateDatagram({RouteHistogram(), {"jobs_total", "counter", "", {}, {}, {{{}, 1}}}});
  EtfDecoder decoder;
  for (size_t n = 4; n < d.size(); ++n) {
    RecordingAggregateSink sink;
    EtfResult r = decoder.DecodeAggregates(d.substr(0, n), sink);
    EXPECT_NE(r.error, EtfError::kNone) << "length " << n;
    EXPECT_EQ(r.events, sink.samples.size());
  }
}

TEST(EtfAggregateDecoderTest, ShapesThePrometheusModelCannotHoldAreMalformed) {
  const std::vector<AggregateMetricSpec> bad = {
      {"jobs", "counter", "", {}, {}, {{{}, 1}}},                                   // counter without _total
      {"jobs_total", "counter", "", {}, {}, {{{}, -1}}},                            // counter going down
      {"1jobs_total", "counter", "", {}, {}, {{{}, 1}}},                            // name syntax
      {"jobs_total", "counter", "", {}, {"__name"}, {{{"x"}, 1}}},                  // reserved label
      {"jobs_total", "counter", "", {}, {"a", "a"}, {{{"x", "y"}, 1}}},             // duplicate label
      {"jobs_total", "counter", "", {}, {"a"}, {{{}, 1}}},                          // values != names
      {"jobs_total", "summary", "", {}, {}, {{{}, 1}}},                             // unknown type
      {"g", "gauge", "", {}, {}, {{{}, 1, "inc"}}},                                 // unknown gauge op
      {"h", "histogram", "", {1, 0.5}, {}, {{{}, 0, "set", 1, {0, 0, 1}}}},         // bounds not ascending
      {"h", "histogram", "", {1}, {}, {{{}, 0, "set", 1, {0, 0, 1}}}},              // counts != bounds + 1
      {"h", "histogram", "", {1}, {"le"}, {{{"x"}, 0, "set", 1, {0, 1}}}},          // le label
      {"c_total", "counter", "", {1}, {}, {{{}, 1}}},                               // bounds on a counter
  };
  EtfDecoder decoder;
  for (size_t i = 0; i < bad.size(); ++i) {
    RecordingAggregateSink sink;
    EXPECT_EQ(decoder.DecodeAggregates(AggregateDatagram({bad[i]}), sink).error, EtfError::kMalformed) << "case " << i;
    EXPECT_TRUE(sink.samples.empty()) << "case " << i;
  }
}

TEST(EtfAggregateDecoderTest, LimitsAreEnforced) {
  EtfLimits limits;
  limits.max_buckets = 2;
  limits.max_events = 2;
  EtfDecoder decoder(limits);
  RecordingAggregateSink sink;
  EXPECT_EQ(decoder.DecodeAggregates(AggregateDatagram({{"h", "histogram", "", {1, 2, 3}, {}, {{{}, 0, "set", 1, {0, 0, 0, 1}}}}}), sink).error,
            EtfError::kLimitExceeded);
  AggregateMetricSpec many{"c_total", "counter", "", {}, {"k"}, {{{"a"}, 1}, {{"b"}, 1}, {{"c"}, 1}}};
  EXPECT_EQ(decoder.DecodeAggregates(AggregateDatagram({many}), sink).error, EtfError::kLimitExceeded);
  EXPECT_TRUE(sink.samples.empty());
}

TEST(EtfDecoderTest, ErrorNames) {
  EXPECT_EQ(EtfErrorName(EtfError::kUnsupportedVersion), "unsupported_version");
  EXPECT_EQ(EtfErrorName(EtfError::kMalformed), "malformed_etf");
  EXPECT_EQ(EtfErrorName(EtfError::kLimitExceeded), "etf_limit_exceeded");
}

}  // namespace
}  // namespace beam_exporter::telemetry
