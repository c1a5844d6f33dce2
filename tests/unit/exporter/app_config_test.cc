#include "exporter/app_config.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace beam_exporter {
namespace {

// A minimal collector to exercise configuration loading; it only reads one key.
class KeyReadingCollector : public Collector {
 public:
  void Configure(ConfigMap& section) override {
    value = section.GetString("key", "default");
    section.CheckNoUnknownKeys();
  }
  Status Collect(Clock::time_point, std::vector<prometheus::MetricFamily>*) override { return Status::Ok(); }
  std::string value;
};

std::vector<CollectorDescriptor> Descriptors() {
  CollectorDescriptor d;
  d.name = "demo";
  d.flags = {{"demo.key", "key", "a key"}};
  d.create = [] { return std::make_unique<KeyReadingCollector>(); };
  CollectorDescriptor off = d;
  off.name = "off";
  off.enabled_by_default = false;
  return {d, off};
}

std::unique_ptr<AppConfig> Load(const std::vector<std::string>& args) {
  static const auto descriptors = Descriptors();
  return DecodeAppConfig(ReadMergedYaml(ParseFlags(args, descriptors)), descriptors);
}

TEST(AppConfigTest, DefaultsWithoutFile) {
  auto c = Load({});
  EXPECT_EQ(c->web.listen_address, ":9568");
  EXPECT_EQ(c->web.telemetry_path, "/metrics");
  ASSERT_EQ(c->collectors.size(), 1u);
  EXPECT_EQ(c->collectors[0].name, "demo");
}

TEST(AppConfigTest, FlagsOverrideTheFile) {
  testing::TempDir dir;
  std::string path = dir.Write("config.yml", "web:\n  listen_address: 127.0.0.1:1\ncollectors:\n  demo:\n    key: from-file\n");
  auto c = Load({"--config.file=" + path, "--demo.key=from-flag", "--collector.off"});
  EXPECT_EQ(c->web.listen_address, "127.0.0.1:1");
  ASSERT_EQ(c->collectors.size(), 2u);
  EXPECT_EQ(static_cast<KeyReadingCollector*>(c->collectors[0].collector.get())->value, "from-flag");
}

TEST(AppConfigTest, TypoInCollectorSectionNamesKeyAndLine) {
  testing::TempDir dir;
  std::string path = dir.Write("config.yml", "collectors:\n  demo:\n    kye: x\n");
  try {
    Load({"--config.file=" + path});
    FAIL() << "accepted a typo";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), path + ":3:5: unknown key collectors.demo.kye");
  }
}

TEST(AppConfigTest, DisabledCollectorSectionIsStillValidated) {
  testing::TempDir dir;
  std::string path = dir.Write("config.yml", "collectors:\n  off:\n    bogus: 1\n");
  EXPECT_THROW(Load({"--config.file=" + path}), ConfigError);
}

TEST(AppConfigTest, UnknownCollectorAndTopLevelKeysAreRejected) {
  testing::TempDir dir;
  std::string path = dir.Write("config.yml", "collectors:\n  nosuch: {}\n");
  EXPECT_THROW(Load({"--config.file=" + path}), ConfigError);
  path = dir.Write("config2.yml", "webb: {}\n");
  EXPECT_THROW(Load({"--config.file=" + path}), ConfigError);
}

TEST(AppConfigTest, InvalidYamlReportsLine) {
  testing::TempDir dir;
  std::string path = dir.Write("config.yml", "web:\n  listen_address: [unclosed\n");
  try {
    Load({"--config.file=" + path});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("invalid YAML"), std::string::npos);
  }
}

TEST(AppConfigTest, BadLogLevelIsRejected) { EXPECT_THROW(Load({"--log.level=loud"}), ConfigError); }

}  // namespace
}  // namespace beam_exporter
