#include "exporter/app_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

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

std::string WriteTemp(const std::string& text) {
  char path[] = "/tmp/app_config_test_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  std::ofstream(path) << text;
  return path;
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
  std::string path = WriteTemp("web:\n  listen_address: 127.0.0.1:1\ncollectors:\n  demo:\n    key: from-file\n");
  auto c = Load({"--config.file=" + path, "--demo.key=from-flag", "--collector.off"});
  EXPECT_EQ(c->web.listen_address, "127.0.0.1:1");
  ASSERT_EQ(c->collectors.size(), 2u);
  EXPECT_EQ(static_cast<KeyReadingCollector*>(c->collectors[0].collector.get())->value, "from-flag");
  unlink(path.c_str());
}

TEST(AppConfigTest, TypoInCollectorSectionNamesKeyAndLine) {
  std::string path = WriteTemp("collectors:\n  demo:\n    kye: x\n");
  try {
    Load({"--config.file=" + path});
    FAIL() << "accepted a typo";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), path + ":3:5: unknown key collectors.demo.kye");
  }
  unlink(path.c_str());
}

TEST(AppConfigTest, DisabledCollectorSectionIsStillValidated) {
  std::string path = WriteTemp("collectors:\n  off:\n    bogus: 1\n");
  EXPECT_THROW(Load({"--config.file=" + path}), ConfigError);
  unlink(path.c_str());
}

TEST(AppConfigTest, UnknownCollectorAndTopLevelKeysAreRejected) {
  std::string path = WriteTemp("collectors:\n  nosuch: {}\n");
  EXPECT_THROW(Load({"--config.file=" + path}), ConfigError);
  unlink(path.c_str());
  path = WriteTemp("webb: {}\n");
  EXPECT_THROW(Load({"--config.file=" + path}), ConfigError);
  unlink(path.c_str());
}

TEST(AppConfigTest, InvalidYamlReportsLine) {
  std::string path = WriteTemp("web:\n  listen_address: [unclosed\n");
  try {
    Load({"--config.file=" + path});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("invalid YAML"), std::string::npos);
  }
  unlink(path.c_str());
}

TEST(AppConfigTest, BadLogLevelIsRejected) { EXPECT_THROW(Load({"--log.level=loud"}), ConfigError); }

}  // namespace
}  // namespace beam_exporter
