#include "collectors/telemetry/mapper.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace beam_exporter::telemetry {
namespace {

MappingRules RulesFromYaml(const std::string& yaml) {
  auto source = std::make_shared<ConfigSource>();
  source->file = "test.yml";
  ConfigMap root(YAML::Load(yaml), source, "");
  MappingRules rules;
  rules.AddRules(root.GetMapList("mappings"));
  root.CheckNoUnknownKeys();
  return rules;
}

Sample MakeSample(std::string_view name, SampleKind kind, double value, std::span<const Tag> tags = {},
                  SampleSource source = SampleSource::kStatsd) {
  Sample s;
  s.name = name;
  s.kind = kind;
  s.value = value;
  s.tags = tags;
  s.source = source;
  return s;
}

std::map<std::string, std::string> LabelMap(const MappedSample& m) {
  std::map<std::string, std::string> out;
  for (const Label& l : m.labels) out[std::string(l.name)] = std::string(l.value);
  return out;
}

TEST(GlobMatchTest, SegmentsAndCaptures) {
  std::vector<std::string> caps;
  EXPECT_TRUE(GlobMatch("a.*.c", "a.b.c", &caps));
  EXPECT_EQ(caps, (std::vector<std::string>{"a.b.c", "b"}));
  EXPECT_FALSE(GlobMatch("a.*.c", "a.b.x.c", &caps));
  EXPECT_FALSE(GlobMatch("a.*", "a", &caps));
  EXPECT_FALSE(GlobMatch("a", "a.b", &caps));
  EXPECT_TRUE(GlobMatch("http_*.*", "http_get.200", &caps));
  EXPECT_EQ(caps, (std::vector<std::string>{"http_get.200", "get", "200"}));
  EXPECT_TRUE(GlobMatch("*_time", "queue_time", &caps));
  EXPECT_EQ(caps[1], "queue");
  EXPECT_TRUE(GlobMatch("*", "", &caps));
  EXPECT_FALSE(GlobMatch("ab*ba", "aba", &caps));
}

TEST(RegexMatchTest, UnanchoredWithNumberedGroups) {
  std::vector<std::string> caps;
  re2::RE2 re("(\\w+)\\.(x)?y");
  ASSERT_TRUE(re.ok());
  EXPECT_TRUE(RegexMatch(re, "-abc.xy-", &caps));
  EXPECT_EQ(caps, (std::vector<std::string>{"abc.xy", "abc", "x"}));
  EXPECT_TRUE(RegexMatch(re, "abc.y", &caps));
  EXPECT_EQ(caps, (std::vector<std::string>{"abc.y", "abc", ""}));
  EXPECT_FALSE(RegexMatch(re, "abc.z", &caps));
}

TEST(EscapeNameTest, LikeStatsdExporter) {
  std::string out;
  EscapeName("phoenix.endpoint.stop.duration", &out);
  EXPECT_EQ(out, "phoenix_endpoint_stop_duration");
  EscapeName("9lives-x", &out);
  EXPECT_EQ(out, "_9lives_x");
}

TEST(MapperTest, DefaultRuleEscapesNameAndKeepsTags) {
  MappingRules rules;
  Mapper mapper(rules);
  Tag tags[] = {{"method", "GET"}, {"status-code", "200"}, {"__secret", "x"}};
  MappedSample m;
  EXPECT_EQ(mapper.Map(MakeSample("phoenix.endpoint.stop.duration", SampleKind::kObserver, 0.5, tags), &m),
            MapOutcome::kDefault);
  EXPECT_EQ(m.name, "phoenix_endpoint_stop_duration");
  EXPECT_EQ(m.type, MetricType::kHistogram);
  EXPECT_EQ(*m.buckets, DefaultBuckets());
  EXPECT_EQ(LabelMap(m), (std::map<std::string, std::string>{{"method", "GET"}, {"status_code", "200"}}));
  EXPECT_EQ(mapper.Map(MakeSample("requests", SampleKind::kCounter, 1), &m), MapOutcome::kDefault);
  EXPECT_EQ(m.name, "requests_total");
  EXPECT_EQ(m.type, MetricType::kCounter);
  EXPECT_EQ(mapper.Map(MakeSample("temp", SampleKind::kGauge, 1), &m), MapOutcome::kDefault);
  EXPECT_EQ(m.type, MetricType::kGauge);
}

TEST(MapperTest, DuplicateTagLastWinsAndLabelsAreSorted) {
  MappingRules rules;
  Mapper mapper(rules);
  Tag tags[] = {{"z", "1"}, {"a", "1"}, {"z", "2"}};
  MappedSample m;
  mapper.Map(MakeSample("x", SampleKind::kGauge, 1, tags), &m);
  ASSERT_EQ(m.labels.size(), 2u);
  EXPECT_EQ(m.labels[0].name, "a");
  EXPECT_EQ(m.labels[1].name, "z");
  EXPECT_EQ(m.labels[1].value, "2");
}

TEST(MapperTest, GlobRuleWithCapturesRecoversStandardFormatterLabels) {
  MappingRules rules = RulesFromYaml(R"(
mappings:
  - match: phoenix.endpoint.stop.duration.*.*
    name: phoenix_endpoint_request_duration_seconds
    type: histogram
    buckets: [0.1, 1]
    labels: {method: "$1", status: "${2}"}
)");
  Mapper mapper(rules);
  MappedSample m;
  ASSERT_EQ(mapper.Map(MakeSample("phoenix.endpoint.stop.duration.GET.200", SampleKind::kObserver, 0.012), &m),
            MapOutcome::kMapped);
  EXPECT_EQ(m.name, "phoenix_endpoint_request_duration_seconds");
  EXPECT_EQ(LabelMap(m), (std::map<std::string, std::string>{{"method", "GET"}, {"status", "200"}}));
  EXPECT_EQ(*m.buckets, (std::vector<double>{0.1, 1}));
  // Second call is served from the cache with the same result.
  ASSERT_EQ(mapper.Map(MakeSample("phoenix.endpoint.stop.duration.POST.500", SampleKind::kObserver, 0.012), &m),
            MapOutcome::kMapped);
  EXPECT_EQ(LabelMap(m), (std::map<std::string, std::string>{{"method", "POST"}, {"status", "500"}}));
}

TEST(MapperTest, TagTemplatesConditionsAndUnits) {
  MappingRules rules = RulesFromYaml(R"(
mappings:
  - match: phoenix.router_dispatch.stop.duration
    match_source: native
    name: http_seconds
    labels: {route: "${route}", missing: "${nope}"}
  - match: phoenix.router_dispatch.stop.duration
    match_source: statsd
    statsd_unit: milliseconds
    name: http_seconds
    labels: {route: "${route}"}
  - match: jobs.*
    match_tags: {state: failure}
    name: jobs_failed
    type: counter
    labels: {}
)");
  Mapper mapper(rules);
  Tag tags[] = {{"route", "/u/:id"}, {"method", "GET"}};
  MappedSample m;
  ASSERT_EQ(mapper.Map(MakeSample("phoenix.router_dispatch.stop.duration", SampleKind::kObserver, 250, tags), &m),
            MapOutcome::kMapped);
  EXPECT_DOUBLE_EQ(m.value, 0.25);  // statsd h in ms -> seconds
  EXPECT_EQ(LabelMap(m), (std::map<std::string, std::string>{{"route", "/u/:id"}}));
  Sample native = MakeSample("phoenix.router_dispatch.stop.duration", SampleKind::kObserver, 0.25, tags,
                             SampleSource::kNative);
  native.in_seconds = true;
  ASSERT_EQ(mapper.Map(native, &m), MapOutcome::kMapped);
  EXPECT_DOUBLE_EQ(m.value, 0.25);
  EXPECT_EQ(LabelMap(m), (std::map<std::string, std::string>{{"missing", ""}, {"route", "/u/:id"}}));
  // A statsd ms timer is already in seconds: statsd_unit does not apply twice.
  Sample timer = MakeSample("phoenix.router_dispatch.stop.duration", SampleKind::kObserver, 0.25, tags);
  timer.in_seconds = true;
  mapper.Map(timer, &m);
  EXPECT_DOUBLE_EQ(m.value, 0.25);

  Tag failed[] = {{"state", "failure"}};
  Tag ok[] = {{"state", "success"}};
  ASSERT_EQ(mapper.Map(MakeSample("jobs.count", SampleKind::kGauge, 1, failed), &m), MapOutcome::kMapped);
  EXPECT_EQ(m.name, "jobs_failed_total");
  EXPECT_TRUE(m.labels.empty());
  EXPECT_EQ(mapper.Map(MakeSample("jobs.count", SampleKind::kGauge, 1, ok), &m), MapOutcome::kDefault);
}

TEST(MapperTest, RegexRuleAndDrop) {
  MappingRules rules = RulesFromYaml(R"(
mappings:
  - match: "^debug\\."
    match_type: regex
    action: drop
  - match: "^app\\.(\\w+)\\.latency$"
    match_type: regex
    name: app_${1}_latency_seconds
    ttl: 5m
)");
  Mapper mapper(rules);
  MappedSample m;
  EXPECT_EQ(mapper.Map(MakeSample("debug.anything", SampleKind::kCounter, 1), &m), MapOutcome::kDropped);
  ASSERT_EQ(mapper.Map(MakeSample("app.checkout.latency", SampleKind::kObserver, 1), &m), MapOutcome::kMapped);
  EXPECT_EQ(m.name, "app_checkout_latency_seconds");
  EXPECT_EQ(m.ttl, std::chrono::minutes(5));
}

TEST(MapperTest, ExpansionIsEscapedAndReservedNamesRefused) {
  MappingRules rules = RulesFromYaml(R"(
mappings:
  - match: "x.*"
    name: "x_$1"
  - match: "y.*"
    name: "$1"
)");
  Mapper mapper(rules);
  MappedSample m;
  EXPECT_EQ(mapper.Map(MakeSample("x.a-b c", SampleKind::kGauge, 1), &m), MapOutcome::kMapped);
  EXPECT_EQ(m.name, "x_a_b_c");
  EXPECT_EQ(mapper.Map(MakeSample("y.", SampleKind::kGauge, 1), &m), MapOutcome::kInvalidName);
  EXPECT_EQ(mapper.Map(MakeSample("beam_exporter.up", SampleKind::kGauge, 1), &m), MapOutcome::kInvalidName);
}

TEST(MapperTest, RegexCapturesAreNumberedGroupsOfAnUnanchoredMatch) {
  MappingRules rules = RulesFromYaml(R"(
mappings:
  - match: "(\\w+)_(ok|err)?\\.total"
    match_type: regex
    name: "m_${1}"
    labels: {whole: "$0", outcome: "${2}"}
)");
  Mapper mapper(rules);
  MappedSample m;
  ASSERT_EQ(mapper.Map(MakeSample("x.jobs_ok.total.y", SampleKind::kGauge, 1), &m), MapOutcome::kMapped);
  EXPECT_EQ(m.name, "m_jobs");
  EXPECT_EQ(LabelMap(m), (std::map<std::string, std::string>{{"outcome", "ok"}, {"whole", "jobs_ok.total"}}));
  // An optional group that took no part in the match expands to nothing.
  ASSERT_EQ(mapper.Map(MakeSample("jobs_.total", SampleKind::kGauge, 1), &m), MapOutcome::kMapped);
  EXPECT_EQ(LabelMap(m), (std::map<std::string, std::string>{{"outcome", ""}, {"whole", "jobs_.total"}}));
}

// RE2 matches in time linear in the name and without recursion, so long names need no limit
// (std::regex recursed per character, and the mapper used to refuse names over 1024 bytes).
TEST(MapperTest, LongNamesAreMatchedByRegexRulesAndMappedByDefault) {
  MappingRules rules = RulesFromYaml(R"(
mappings:
  - match: '^(.+)\.query\.total_time$'
    match_type: regex
    name: "ecto_query_total_time_seconds"
    labels: {repo: "$1"}
)");
  Mapper mapper(rules);
  MappedSample m;
  std::string repo(200000, 'r');
  std::string name = repo + ".query.total_time";
  for (int pass = 0; pass < 2; ++pass) {  // long names are not cached: the second pass matches again
    ASSERT_EQ(mapper.Map(MakeSample(name, SampleKind::kObserver, 1), &m), MapOutcome::kMapped);
    EXPECT_EQ(m.name, "ecto_query_total_time_seconds");
    ASSERT_EQ(m.labels.size(), 1u);
    EXPECT_EQ(m.labels[0].value, repo);
  }
  std::string other(5000, 'a');
  ASSERT_EQ(mapper.Map(MakeSample(other, SampleKind::kGauge, 1), &m), MapOutcome::kDefault);
  EXPECT_EQ(m.name, other);
}

TEST(MapperTest, RegexRe2RefusesIsAConfigErrorWithFileAndLine) {
  auto expect_error = [](const std::string& match, const std::string& fragment) {
    std::string yaml = "mappings:\n  - name: x\n    match_type: regex\n    match: '" + match + "'\n";
    try {
      RulesFromYaml(yaml);
      ADD_FAILURE() << "accepted: " << match;
    } catch (const ConfigError& e) {
      std::string what = e.what();
      EXPECT_NE(what.find("test.yml:4:"), std::string::npos) << what;
      EXPECT_NE(what.find("invalid regular expression '" + match + "'"), std::string::npos) << what;
      EXPECT_NE(what.find(fragment), std::string::npos) << what;
    }
  };
  // std::regex overflowed a signed int on this (UB); RE2 alone would read it as literal text.
  expect_error("a{999999999999999999}", "repetition {999999999999999999} is above RE2's limit of 1000");
  expect_error("a{2,99999999999}", "above RE2's limit of 1000");
  expect_error("a{1001}", "above RE2's limit of 1000");
  expect_error("x{y}a{5,2000}", "repetition {5,2000} is above");
  expect_error("(a{100}){100}", "invalid repetition size");  // RE2's own check: nested counts multiply
  // ECMAScript constructs RE2 does not have (matching them needs backtracking).
  expect_error("(a)\\1", "invalid escape sequence");
  expect_error("a(?=b)", "invalid perl operator");
  expect_error("(", "missing )");
  expect_error("\\pL{1000}", "pattern too large");  // over RE2's 8 MiB budget for one pattern
}

TEST(MapperTest, RegexBracesThatAreNoRepetitionAreAccepted) {
  MappingRules rules = RulesFromYaml(R"(
mappings:
  - match: '^x\{99999\}[{]9999999}{,}{a9999}\x{1001}$'
    match_type: regex
    name: braces
)");
  Mapper mapper(rules);
  MappedSample m;
  EXPECT_EQ(mapper.Map(MakeSample("x{99999}{9999999}{,}{a9999}\u1001", SampleKind::kGauge, 1), &m), MapOutcome::kMapped);
}

TEST(MapperTest, BadRulesAreConfigErrorsWithFileAndLine) {
  auto expect_error = [](const std::string& yaml, const std::string& fragment) {
    try {
      RulesFromYaml(yaml);
      ADD_FAILURE() << "accepted: " << yaml;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("test.yml:"), std::string::npos) << e.what();
    }
  };
  expect_error("mappings:\n  - name: x\n", "match");
  expect_error("mappings:\n  - match: a\n    name: x\n    typo: 1\n", "typo");
  expect_error("mappings:\n  - match: a\n    name: x-y\n", "name");
  expect_error("mappings:\n  - match: a**\n    name: x\n", "glob");
  expect_error("mappings:\n  - match: a..b\n    name: x\n", "glob");
  expect_error("mappings:\n  - match: '('\n    match_type: regex\n    name: x\n", "regular expression");
  expect_error("mappings:\n  - match: a\n    name: x\n    type: timer\n", "type");
  expect_error("mappings:\n  - match: a\n    name: x\n    buckets: [2, 1]\n", "increasing");
  expect_error("mappings:\n  - match: a\n    name: x\n    labels: {9bad: v}\n", "label");
  expect_error("mappings:\n  - match: a\n    name: beam_exporter_x\n", "reserved");
  expect_error("mappings:\n  - match: a\n    name: x\n    statsd_unit: hours\n", "statsd_unit");
  expect_error("mappings:\n  - match: a\n    name: x_total\n    type: gauge\n", "_total");
}

TEST(MapperTest, SummaryOptionsParsedAndDefaultedFieldByField) {
  MappingRules rules = RulesFromYaml(
      "mappings:\n"
      "  - match: a.*\n    name: a_seconds\n    type: summary\n"
      "    summary_options:\n"
      "      quantiles: [{quantile: 0.99, error: 0.001}, {quantile: 0.75, error: 0.02}]\n"
      "      max_age: 2m\n"
      "  - match: b\n    name: b_seconds\n    type: summary\n    summary_options: {age_buckets: 2}\n"
      "  - match: c\n    name: c_seconds\n    type: summary\n    summary_options: {quantiles: []}\n"
      "  - match: d\n    name: d_seconds\n    type: summary\n");
  Mapper mapper(rules);
  MappedSample m;
  ASSERT_EQ(mapper.Map(MakeSample("a.x", SampleKind::kObserver, 1), &m), MapOutcome::kMapped);
  EXPECT_EQ(m.type, MetricType::kSummary);
  ASSERT_NE(m.summary, nullptr);
  ASSERT_EQ(m.summary->objectives.size(), 2u);  // sorted by quantile
  EXPECT_EQ(m.summary->objectives[0].quantile, 0.75);
  EXPECT_EQ(m.summary->objectives[0].error, 0.02);
  EXPECT_EQ(m.summary->objectives[1].quantile, 0.99);
  EXPECT_EQ(m.summary->max_age, std::chrono::minutes(2));
  EXPECT_EQ(m.summary->age_buckets, 5);  // not given: the default
  ASSERT_EQ(mapper.Map(MakeSample("b", SampleKind::kObserver, 1), &m), MapOutcome::kMapped);
  EXPECT_EQ(m.summary->objectives.size(), 3u);  // statsd_exporter's 0.5, 0.9, 0.99
  EXPECT_EQ(m.summary->objectives[2].quantile, 0.99);
  EXPECT_EQ(m.summary->objectives[2].error, 0.001);
  EXPECT_EQ(m.summary->max_age, std::chrono::minutes(10));
  EXPECT_EQ(m.summary->age_buckets, 2);
  ASSERT_EQ(mapper.Map(MakeSample("c", SampleKind::kObserver, 1), &m), MapOutcome::kMapped);
  EXPECT_TRUE(m.summary->objectives.empty());
  // No summary_options: the collector-wide default (MappingRules::default_summary).
  ASSERT_EQ(mapper.Map(MakeSample("d", SampleKind::kObserver, 1), &m), MapOutcome::kMapped);
  EXPECT_EQ(m.summary, &rules.default_summary);
}

TEST(MapperTest, RuleSummaryOptionsInheritTheCollectorDefault) {
  auto source = std::make_shared<ConfigSource>();
  source->file = "test.yml";
  ConfigMap root(YAML::Load("default_summary_options: {quantiles: [{quantile: 0.5, error: 0.01}], max_age: 30s}\n"
                            "mappings:\n  - match: a\n    name: a_seconds\n    type: summary\n"
                            "    summary_options: {age_buckets: 3}\n"),
                 source, "");
  MappingRules rules;
  rules.default_summary = ParseSummaryOptions(root.GetMap("default_summary_options"), SummaryOptions{});
  rules.AddRules(root.GetMapList("mappings"));
  root.CheckNoUnknownKeys();
  const SummaryOptions& options = *rules.rules[0].summary;
  ASSERT_EQ(options.objectives.size(), 1u);
  EXPECT_EQ(options.objectives[0].error, 0.01);
  EXPECT_EQ(options.max_age, std::chrono::seconds(30));
  EXPECT_EQ(options.age_buckets, 3);
}

TEST(MapperTest, BadSummaryOptionsAreConfigErrorsWithFileAndLine) {
  auto expect_error = [](const std::string& options, const std::string& fragment, int line) {
    std::string yaml = "mappings:\n  - match: a\n    name: x\n    type: summary\n    summary_options:\n" + options;
    try {
      RulesFromYaml(yaml);
      ADD_FAILURE() << "accepted: " << yaml;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("test.yml:" + std::to_string(line) + ":"), std::string::npos) << e.what();
    }
  };
  expect_error("      quantiles: [{quantile: 0, error: 0.01}]\n", "between 0 and 1", 6);
  expect_error("      quantiles: [{quantile: 1, error: 0.01}]\n", "between 0 and 1", 6);
  expect_error("      quantiles:\n        - {quantile: 0.5, error: 0.01}\n        - {quantile: 1.5, error: 0.01}\n",
               "out of range", 8);
  expect_error("      quantiles: [{quantile: 0.5, error: 0}]\n", "between 0 and 1", 6);
  expect_error("      quantiles: [{quantile: 0.5, error: 1}]\n", "between 0 and 1", 6);
  expect_error("      quantiles: [{quantile: 0.5}]\n", "needs error", 6);
  expect_error("      quantiles: [{quantile: 0.5, error: 0.1}, {quantile: 0.5, error: 0.01}]\n", "twice", 6);
  expect_error("      quantiles: [{quantile: 0.5, error: 0.1, weight: 2}]\n", "unknown key", 6);
  expect_error("      max_age: 0s\n", "max_age", 6);
  expect_error("      max_age: soon\n", "duration", 6);
  expect_error("      age_buckets: 0\n", "age_buckets", 6);
  expect_error("      buffer_size: 500\n", "unknown key", 6);
  // summary_options on anything but a summary.
  try {
    RulesFromYaml("mappings:\n  - match: a\n    name: x\n    type: histogram\n    summary_options: {max_age: 1m}\n");
    ADD_FAILURE() << "summary_options accepted on a histogram";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("test.yml:5:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("type: summary"), std::string::npos) << e.what();
  }
}

TEST(MapperTest, ShippedPresetsLoad) {
  for (const auto& entry : std::filesystem::directory_iterator(std::string(BEAM_EXPORTER_SOURCE_DIR) + "/config/mappings")) {
    MappingRules rules;
    EXPECT_NO_THROW(rules.AddFile(entry.path().string())) << entry.path();
    EXPECT_FALSE(rules.rules.empty()) << entry.path();
  }
}

// The example config, the image's and the package's all load every shipped mapping file.
TEST(MapperTest, EveryShippedConfigurationListsEveryPreset) {
  const std::string source = BEAM_EXPORTER_SOURCE_DIR;
  for (const char* config : {"/config/beam_exporter.yml", "/deploy/image/beam_exporter.yml",
                             "/deploy/systemd/beam_exporter.yml.in"}) {
    std::ifstream in(source + config);
    ASSERT_TRUE(in) << config;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const auto& entry : std::filesystem::directory_iterator(source + "/config/mappings")) {
      EXPECT_NE(text.find("mappings/" + entry.path().filename().string()), std::string::npos)
          << config << " does not load " << entry.path().filename();
    }
  }
}

TEST(MapperTest, TimerConditionMatchesOnlyStatsdMsLines) {
  MappingRules rules = RulesFromYaml(
      "mappings:\n"
      "  - {match: vm.memory.total, match_metric_type: timer, name: from_timer, type: gauge}\n"
      "  - {match: vm.memory.total, name: from_other, type: gauge}\n");
  Mapper mapper(rules);
  MappedSample m;
  Sample timer = MakeSample("vm.memory.total", SampleKind::kObserver, 49.389);
  timer.in_seconds = true;  // what the parser makes of `|ms`
  ASSERT_EQ(mapper.Map(timer, &m), MapOutcome::kMapped);
  EXPECT_EQ(m.name, "from_timer");
  ASSERT_EQ(mapper.Map(MakeSample("vm.memory.total", SampleKind::kObserver, 49388.6), &m), MapOutcome::kMapped);
  EXPECT_EQ(m.name, "from_other");  // |h
  Sample native = MakeSample("vm.memory.total", SampleKind::kObserver, 1, {}, SampleSource::kNative);
  native.in_seconds = true;  // a native time measurement is no StatsD timer
  ASSERT_EQ(mapper.Map(native, &m), MapOutcome::kMapped);
  EXPECT_EQ(m.name, "from_other");
}

TEST(MapperTest, RulesFeedingOneMetricShareItsHelp) {
  MappingRules rules = RulesFromYaml(
      "mappings:\n"
      "  - {match: a.native, name: shared_seconds, type: histogram}\n"
      "  - {match: a.statsd, name: shared_seconds, help: Said once., type: histogram}\n"
      "  - {match: b, name: other_seconds, type: histogram}\n");
  EXPECT_EQ(rules.rules[0].help, "Said once.");
  EXPECT_EQ(rules.rules[2].help, "");
}

// The stock MyAppWeb.Telemetry metrics use the app's own repo prefix (`my_app.repo`, or
// `shop.read_repo` for a second repo); the shipped Ecto rules serve any of them with no YAML.
TEST(MapperTest, ShippedEctoRulesServeAnyRepoPrefix) {
  MappingRules rules;
  rules.AddFile(std::string(BEAM_EXPORTER_SOURCE_DIR) + "/config/mappings/ecto.yml");
  Mapper mapper(rules);
  MappedSample m;
  for (const char* prefix : {"my_app.repo", "shop.read_repo"}) {
    std::string name = std::string(prefix) + ".query.total_time";
    ASSERT_EQ(mapper.Map(MakeSample(name, SampleKind::kObserver, 9.5), &m), MapOutcome::kMapped) << prefix;
    EXPECT_EQ(m.name, "ecto_repo_query_duration_seconds");
    EXPECT_EQ(LabelMap(m)["repo"], prefix);
    EXPECT_DOUBLE_EQ(m.value, 0.0095);  // |h in milliseconds
  }
}

TEST(MapperTest, MissingMappingFileIsAConfigError) {
  MappingRules rules;
  EXPECT_THROW(rules.AddFile("/nonexistent/mapping.yml"), ConfigError);
}

}  // namespace
}  // namespace beam_exporter::telemetry
