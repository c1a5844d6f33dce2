#include "collectors/telemetry/statsd_line.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <ostream>

#include "tests/unit/telemetry/recording_sink.h"

namespace beam_exporter::telemetry {
namespace {

using Tags = std::map<std::string, std::string>;

struct Good {
  const char* line;
  const char* name;
  SampleKind kind;
  double value;
  Tags tags;
  bool relative = false;
  uint32_t repeat = 1;
};

// ctest names carry the printed parameter: print the line, with characters that are awkward in
// test names replaced, instead of gtest's default byte dump.
std::string TestNameFor(const char* line) {
  std::string out;
  for (const char* p = line; *p != '\0'; ++p) {
    char c = *p;
    if (std::isalnum(static_cast<unsigned char>(c)) || std::strchr(".:+-,=@/", c) != nullptr) out.push_back(c);
    else if (c == '|') out.push_back('!');
    else if (c == '#') out.push_back('~');
    else if (c == '[') out.push_back('(');
    else if (c == ']') out.push_back(')');
    else out.push_back('_');
  }
  return out;
}
void PrintTo(const Good& g, std::ostream* os) { *os << TestNameFor(g.line); }

class StatsdGoodLineTest : public ::testing::TestWithParam<Good> {};

TEST_P(StatsdGoodLineTest, ParsesToOneSample) {
  const Good& g = GetParam();
  StatsdParser parser;
  RecordingSink sink;
  parser.ParseLine(g.line, sink);
  ASSERT_TRUE(sink.errors.empty()) << g.line << " error " << LineErrorName(sink.errors[0]);
  ASSERT_EQ(sink.samples.size(), 1u) << g.line;
  const RecordedSample& s = sink.samples[0];
  EXPECT_EQ(s.name, g.name);
  EXPECT_EQ(s.kind, g.kind);
  EXPECT_DOUBLE_EQ(s.value, g.value);
  EXPECT_EQ(s.tags, g.tags);
  EXPECT_EQ(s.relative, g.relative);
  EXPECT_EQ(s.repeat, g.repeat);
  EXPECT_EQ(s.source, SampleSource::kStatsd);
}

INSTANTIATE_TEST_SUITE_P(
    Grammar, StatsdGoodLineTest,
    ::testing::Values(
        Good{"foo:1|c", "foo", SampleKind::kCounter, 1, {}},
        Good{"foo:2.5|c|@0.5", "foo", SampleKind::kCounter, 5, {}},
        Good{"foo:1|c|@0.1|@0.5", "foo", SampleKind::kCounter, 20, {}},
        Good{"foo:42|g", "foo", SampleKind::kGauge, 42, {}},
        Good{"foo:+4|g", "foo", SampleKind::kGauge, 4, {}, true},
        Good{"foo:-4|g", "foo", SampleKind::kGauge, -4, {}, true},
        Good{"foo:3|g|@0.1", "foo", SampleKind::kGauge, 3, {}},
        Good{"foo:320|ms", "foo", SampleKind::kObserver, 0.32, {}},
        Good{"foo:320|ms|@0.25", "foo", SampleKind::kObserver, 0.32, {}, false, 4},
        Good{"foo:0.3|h|@0.3", "foo", SampleKind::kObserver, 0.3, {}, false, 3},
        Good{"foo:12.5|h", "foo", SampleKind::kObserver, 12.5, {}},
        Good{"foo:7|d", "foo", SampleKind::kObserver, 7, {}},
        Good{"foo:1.0e-4|h", "foo", SampleKind::kObserver, 1e-4, {}},
        // DogStatsD, as telemetry_metrics_statsd's :datadog formatter sends it.
        Good{"phoenix.endpoint.stop.duration:12.345678|h|#method:GET,status:200", "phoenix.endpoint.stop.duration",
             SampleKind::kObserver, 12.345678, {{"method", "GET"}, {"status", "200"}}},
        Good{"a:1|c|#route:/users/:id", "a", SampleKind::kCounter, 1, {{"route", "/users/:id"}}},
        Good{"a:1|c|##k:v,#k2:v2", "a", SampleKind::kCounter, 1, {{"k", "v"}, {"k2", "v2"}}},
        Good{"a:1|c|#k:", "a", SampleKind::kCounter, 1, {{"k", ""}}},
        Good{"a:1|c|#env:dev|c:83c0a99c", "a", SampleKind::kCounter, 1, {{"env", "dev"}, {"container_id", "83c0a99c"}}},
        Good{"a:1|c|c:abc", "a", SampleKind::kCounter, 1, {{"container_id", "abc"}}},
        Good{"a:15|c|#env:dev|T1656581400", "a", SampleKind::kCounter, 15, {{"env", "dev"}}},
        Good{"a:15|g|T1656581400|#env:dev", "a", SampleKind::kGauge, 15, {{"env", "dev"}}},
        Good{"a:1|c|@0.5|#k:v", "a", SampleKind::kCounter, 2, {{"k", "v"}}},
        // Name-embedded tag dialects.
        Good{"foo,k=v,k2=v2:1|c", "foo", SampleKind::kCounter, 1, {{"k", "v"}, {"k2", "v2"}}},
        Good{"foo#k=v,k2=v2:1|c", "foo", SampleKind::kCounter, 1, {{"k", "v"}, {"k2", "v2"}}},
        Good{"foo.[k=v,k2=v2]test:1|c", "foo.test", SampleKind::kCounter, 1, {{"k", "v"}, {"k2", "v2"}}},
        Good{"[k=v]foo:1|c", "foo", SampleKind::kCounter, 1, {{"k", "v"}}},
        // :standard formatter: tags folded into the name, sum as a relative gauge.
        Good{"phoenix.endpoint.stop.duration.GET.200:12|ms", "phoenix.endpoint.stop.duration.GET.200",
             SampleKind::kObserver, 0.012, {}},
        Good{"http.request.payload_size:+121|g", "http.request.payload_size", SampleKind::kGauge, 121, {}, true},
        // A folded route keeps its ':' in the name; the value is after the last ':' (the recorded
        // datagrams of a real Phoenix 1.7 app, tests/e2e/phoenix_replay).
        Good{"phoenix.router_dispatch.stop.duration./users/:id:18|ms", "phoenix.router_dispatch.stop.duration./users/:id",
             SampleKind::kObserver, 0.018, {}},
        Good{"phoenix.router_dispatch.start.system_time./users/:id/rename:1796194764292|ms",
             "phoenix.router_dispatch.start.system_time./users/:id/rename", SampleKind::kObserver, 1796194764.292, {}},
        Good{"a,route=/users/:id:1|c", "a", SampleKind::kCounter, 1, {{"route", "/users/:id"}}},
        Good{"unicode.名前:1|c", "unicode.名前", SampleKind::kCounter, 1, {}}));

struct Bad {
  const char* line;
  LineError error;
};

void PrintTo(const Bad& b, std::ostream* os) { *os << TestNameFor(b.line); }

class StatsdBadLineTest : public ::testing::TestWithParam<Bad> {};

TEST_P(StatsdBadLineTest, IsRejectedWithReason) {
  const Bad& b = GetParam();
  StatsdParser parser;
  RecordingSink sink;
  parser.ParseLine(b.line, sink);
  EXPECT_TRUE(sink.samples.empty()) << b.line;
  ASSERT_EQ(sink.errors.size(), 1u) << b.line;
  EXPECT_EQ(sink.errors[0], b.error) << b.line << " got " << LineErrorName(sink.errors[0]);
  EXPECT_TRUE(LineErrorDropsLine(b.error));
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, StatsdBadLineTest,
    ::testing::Values(Bad{"foo", LineError::kMalformedLine}, Bad{":1|c", LineError::kMalformedLine},
                      Bad{"foo\xff:1|c", LineError::kMalformedLine}, Bad{"foo:1", LineError::kNotEnoughParts},
                      Bad{"foo:1|", LineError::kNotEnoughParts}, Bad{"foo:x|c", LineError::kMalformedValue},
                      Bad{"foo:|c", LineError::kMalformedValue}, Bad{"foo:nan|g", LineError::kMalformedValue},
                      Bad{"foo:inf|g", LineError::kMalformedValue}, Bad{"foo:1:x|h", LineError::kMalformedValue},
                      Bad{"foo:1|s", LineError::kSetNotSupported}, Bad{"foo:1|x", LineError::kIllegalType},
                      Bad{"foo:1|c|", LineError::kMalformedComponent}, Bad{"foo:1|c||#a:b", LineError::kMalformedComponent},
                      Bad{"foo:1|c|c", LineError::kMalformedContainerId},
                      Bad{"foo:1|c|x", LineError::kInvalidComponent}, Bad{"foo:-1|c", LineError::kNegativeCounter},
                      Bad{"foo,a=b:1|c|#c:d", LineError::kMixedTaggingStyles},
                      Bad{"[a=b]:1|c", LineError::kMalformedLine}));

TEST(StatsdParserTest, PackedValuesShareTypeRateAndTags) {
  StatsdParser parser;
  RecordingSink sink;
  parser.ParseLine("song.length:240:234|h|@0.5|#k:v", sink);
  ASSERT_EQ(sink.samples.size(), 2u);
  EXPECT_DOUBLE_EQ(sink.samples[0].value, 240);
  EXPECT_DOUBLE_EQ(sink.samples[1].value, 234);
  for (const auto& s : sink.samples) {
    EXPECT_EQ(s.repeat, 2u);
    EXPECT_EQ(s.tags, (Tags{{"k", "v"}}));
  }
}

TEST(StatsdParserTest, PackedValuesFollowANameWithColons) {
  StatsdParser parser;
  RecordingSink sink;
  parser.ParseLine("x./a/:b:1:2|h", sink);
  ASSERT_EQ(sink.samples.size(), 2u);
  for (const auto& s : sink.samples) EXPECT_EQ(s.name, "x./a/:b");
  EXPECT_DOUBLE_EQ(sink.samples[0].value, 1);
  EXPECT_DOUBLE_EQ(sink.samples[1].value, 2);
}

TEST(StatsdParserTest, DatagramSplitsOnNewlineAndToleratesCrLf) {
  StatsdParser parser;
  RecordingSink sink;
  size_t lines = parser.ParseDatagram("a:1|c\r\nb:2|g\n\nc:3|ms\n", sink);
  EXPECT_EQ(lines, 3u);
  ASSERT_EQ(sink.samples.size(), 3u);
  EXPECT_EQ(sink.samples[0].name, "a");
  EXPECT_EQ(sink.samples[1].name, "b");
  EXPECT_EQ(sink.samples[2].name, "c");
  EXPECT_TRUE(sink.errors.empty());
}

TEST(StatsdParserTest, BadLineDoesNotSpoilTheRestOfTheDatagram) {
  StatsdParser parser;
  RecordingSink sink;
  EXPECT_EQ(parser.ParseDatagram("a:1|c\ngarbage\nb:2|c", sink), 3u);
  EXPECT_EQ(sink.samples.size(), 2u);
  EXPECT_EQ(sink.errors, std::vector<LineError>{LineError::kMalformedLine});
}

TEST(StatsdParserTest, InvalidSampleRateIsCountedAndIgnored) {
  StatsdParser parser;
  RecordingSink sink;
  parser.ParseLine("a:3|c|@zero", sink);
  parser.ParseLine("b:3|c|@2", sink);
  ASSERT_EQ(sink.samples.size(), 2u);
  EXPECT_DOUBLE_EQ(sink.samples[0].value, 3);
  EXPECT_DOUBLE_EQ(sink.samples[1].value, 3);
  EXPECT_EQ(sink.errors, (std::vector<LineError>{LineError::kInvalidSampleRate, LineError::kInvalidSampleRate}));
  EXPECT_FALSE(LineErrorDropsLine(LineError::kInvalidSampleRate));
}

TEST(StatsdParserTest, MalformedOrEmptyTimestampIsCountedAndTheSampleKept) {
  StatsdParser parser;
  RecordingSink sink;
  parser.ParseLine("foo:100|c|#tag:val|Tnot-a-ts", sink);
  parser.ParseLine("bar:100|c|T", sink);
  parser.ParseLine("baz:2|g|T12x|#k:v", sink);
  ASSERT_EQ(sink.samples.size(), 3u);
  EXPECT_EQ(sink.samples[0].name, "foo");
  EXPECT_DOUBLE_EQ(sink.samples[0].value, 100);
  EXPECT_EQ(sink.samples[0].tags, (Tags{{"tag", "val"}}));
  EXPECT_EQ(sink.samples[1].name, "bar");
  EXPECT_DOUBLE_EQ(sink.samples[1].value, 100);
  EXPECT_EQ(sink.samples[2].name, "baz");
  EXPECT_EQ(sink.samples[2].tags, (Tags{{"k", "v"}}));
  EXPECT_EQ(sink.errors, (std::vector<LineError>{LineError::kMalformedTimestamp, LineError::kMalformedTimestamp,
                                                 LineError::kMalformedTimestamp}));
  EXPECT_FALSE(LineErrorDropsLine(LineError::kMalformedTimestamp));
}

TEST(StatsdParserTest, TagWithoutValueIsSkippedAndCounted) {
  StatsdParser parser;
  RecordingSink sink;
  parser.ParseLine("a:1|c|#novalue,k:v,:empty", sink);
  ASSERT_EQ(sink.samples.size(), 1u);
  EXPECT_EQ(sink.samples[0].tags, (Tags{{"k", "v"}}));
  EXPECT_EQ(sink.errors, (std::vector<LineError>{LineError::kInvalidTag, LineError::kInvalidTag}));
}

TEST(StatsdParserTest, LoneBracketKeepsNameAndCountsTagError) {
  StatsdParser parser;
  RecordingSink sink;
  parser.ParseLine("a]b[c:1|c", sink);
  ASSERT_EQ(sink.samples.size(), 1u);
  EXPECT_EQ(sink.samples[0].name, "a]b[c");
  EXPECT_EQ(sink.errors, std::vector<LineError>{LineError::kInvalidTag});
}

TEST(StatsdParserTest, DisabledDialectsLeaveNamesAlone) {
  StatsdDialects off{false, false, false, false};
  StatsdParser parser(off);
  RecordingSink sink;
  parser.ParseLine("foo,k=v:1|c", sink);
  parser.ParseLine("foo#k=v:1|c", sink);
  parser.ParseLine("foo[k=v]:1|c", sink);
  parser.ParseLine("foo:1|c|#k:v", sink);
  ASSERT_EQ(sink.samples.size(), 4u);
  EXPECT_EQ(sink.samples[0].name, "foo,k=v");
  EXPECT_EQ(sink.samples[1].name, "foo#k=v");
  EXPECT_EQ(sink.samples[2].name, "foo[k=v]");
  EXPECT_EQ(sink.samples[3].name, "foo");
  for (const auto& s : sink.samples) EXPECT_TRUE(s.tags.empty());
}

TEST(StatsdParserTest, MsTimersAreMarkedAsSeconds) {
  StatsdParser parser;
  RecordingSink sink;
  parser.ParseLine("a:5|ms", sink);
  parser.ParseLine("b:5|h", sink);
  ASSERT_EQ(sink.samples.size(), 2u);
  EXPECT_TRUE(sink.samples[0].in_seconds);
  EXPECT_FALSE(sink.samples[1].in_seconds);
}

TEST(StatsdParserTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("h\xc3\xa9"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}

}  // namespace
}  // namespace beam_exporter::telemetry
