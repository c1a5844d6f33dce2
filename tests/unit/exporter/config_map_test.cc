#include "exporter/config_map.h"

#include <gtest/gtest.h>

namespace beam_exporter {
namespace {

ConfigMap Parse(const std::string& yaml, std::shared_ptr<ConfigSource> source = nullptr) {
  if (!source) {
    source = std::make_shared<ConfigSource>();
    source->file = "test.yml";
  }
  return ConfigMap(YAML::Load(yaml), source, "");
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigMapTest, ReadsTypedValuesAndDefaults) {
  ConfigMap m = Parse("name: app\nport: 42\nratio: 0.5\non: true\nwait: 1m30s\nlist: [a, b]\n");
  EXPECT_EQ(m.GetString("name", ""), "app");
  EXPECT_EQ(m.GetInt("port", 0, 0, 100), 42);
  EXPECT_DOUBLE_EQ(m.GetDouble("ratio", 0, 0, 1), 0.5);
  EXPECT_TRUE(m.GetBool("on", false));
  EXPECT_EQ(m.GetDuration("wait", std::chrono::milliseconds(0)), std::chrono::milliseconds(90'000));
  EXPECT_EQ(m.GetStringList("list", {}), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(m.GetString("absent", "dflt"), "dflt");
  EXPECT_NO_THROW(m.CheckNoUnknownKeys());
}

TEST(ConfigMapTest, NullValueMeansDefault) {
  ConfigMap m = Parse("name:\n");
  EXPECT_EQ(m.GetString("name", "dflt"), "dflt");
}

TEST(ConfigMapTest, UnknownKeyIsNamedWithItsLine) {
  ConfigMap m = Parse("collectors:\n  beam:\n    node: a@b\n    nod: typo\n");
  ConfigMap collectors = m.GetMap("collectors");
  ConfigMap beam = collectors.GetMap("beam");
  beam.GetString("node", "");
  EXPECT_EQ(ErrorOf([&] { beam.CheckNoUnknownKeys(); }), "test.yml:4:5: unknown key collectors.beam.nod");
}

TEST(ConfigMapTest, WrongTypeNamesFileKeyAndLine) {
  ConfigMap m = Parse("a: 1\nport: eighty\n");
  EXPECT_EQ(ErrorOf([&] { m.GetInt("port", 0, 0, 65535); }),
            "test.yml:2:7: key port: expected an integer, got 'eighty'");
}

TEST(ConfigMapTest, OutOfRangeIsRejected) {
  ConfigMap m = Parse("port: 70000\n");
  EXPECT_NE(ErrorOf([&] { m.GetInt("port", 0, 0, 65535); }).find("out of range"), std::string::npos);
}

TEST(ConfigMapTest, BadDurationIsRejected) {
  ConfigMap m = Parse("wait: 5 seconds\n");
  EXPECT_NE(ErrorOf([&] { m.GetDuration("wait", std::chrono::milliseconds(0)); }).find("expected a duration"),
            std::string::npos);
}

TEST(ConfigMapTest, ValueFromAFlagNamesTheFlag) {
  auto source = std::make_shared<ConfigSource>();
  source->file = "test.yml";
  source->flag_for_path["web.port"] = "--web.port";
  ConfigMap top = Parse("web:\n  port: x\n", source);
  ConfigMap web = top.GetMap("web");
  EXPECT_EQ(ErrorOf([&] { web.GetInt("port", 0, 0, 10); }), "flag --web.port: key web.port: expected an integer, got 'x'");
}

TEST(ConfigMapTest, MapListItemsHaveIndexedPaths) {
  ConfigMap m = Parse("rules:\n  - match: a\n  - match: b\n    extra: 1\n");
  auto rules = m.GetMapList("rules");
  ASSERT_EQ(rules.size(), 2u);
  rules[1].GetString("match", "");
  EXPECT_EQ(ErrorOf([&] { rules[1].CheckNoUnknownKeys(); }), "test.yml:4:5: unknown key rules[1].extra");
}

TEST(ParseDurationTest, AcceptsPrometheusStyleDurations) {
  std::chrono::milliseconds d{};
  ASSERT_TRUE(ParseDuration("250ms", &d));
  EXPECT_EQ(d.count(), 250);
  ASSERT_TRUE(ParseDuration("2h", &d));
  EXPECT_EQ(d.count(), 7'200'000);
  EXPECT_FALSE(ParseDuration("", &d));
  EXPECT_FALSE(ParseDuration("5", &d));
  EXPECT_FALSE(ParseDuration("5d", &d));
  EXPECT_FALSE(ParseDuration("-5s", &d));
}

}  // namespace
}  // namespace beam_exporter
