#include "exporter/flags.h"

#include <gtest/gtest.h>

namespace beam_exporter {
namespace {

std::vector<CollectorDescriptor> TestDescriptors() {
  CollectorDescriptor d;
  d.name = "beam";
  d.help = "BEAM";
  d.flags = {{"beam.node", "node", "node name"}};
  return {d};
}

TEST(FlagsTest, MapsFlagsToYamlPaths) {
  ParsedFlags f = ParseFlags({"--config.file=x.yml", "--web.listen-address", "127.0.0.1:1", "--beam.node=a@b",
                              "--no-collector.beam", "--log.format=json"},
                             TestDescriptors());
  EXPECT_EQ(f.config_file, "x.yml");
  ASSERT_EQ(f.overrides.size(), 4u);
  EXPECT_EQ(f.overrides[0].yaml_path, "web.listen_address");
  EXPECT_EQ(f.overrides[0].value, "127.0.0.1:1");
  EXPECT_EQ(f.overrides[1].yaml_path, "collectors.beam.node");
  EXPECT_EQ(f.overrides[1].flag, "--beam.node");
  EXPECT_EQ(f.overrides[2].yaml_path, "collectors.beam.enabled");
  EXPECT_EQ(f.overrides[2].value, "false");
  EXPECT_EQ(f.overrides[3].yaml_path, "log.format");
}

TEST(FlagsTest, CollectorFlagEnables) {
  ParsedFlags f = ParseFlags({"--collector.beam"}, TestDescriptors());
  ASSERT_EQ(f.overrides.size(), 1u);
  EXPECT_EQ(f.overrides[0].value, "true");
}

TEST(FlagsTest, UnknownFlagIsAnError) {
  EXPECT_THROW(ParseFlags({"--web.listen-adress=:1"}, TestDescriptors()), FlagError);
  EXPECT_THROW(ParseFlags({"positional"}, TestDescriptors()), FlagError);
}

TEST(FlagsTest, MissingValueIsAnError) { EXPECT_THROW(ParseFlags({"--beam.node"}, TestDescriptors()), FlagError); }

TEST(FlagsTest, BooleanFlagRejectsValue) {
  EXPECT_THROW(ParseFlags({"--collector.beam=false"}, TestDescriptors()), FlagError);
}

TEST(FlagsTest, UsageListsCollectorFlags) {
  std::string usage = Usage(TestDescriptors());
  EXPECT_NE(usage.find("--[no-]collector.beam"), std::string::npos);
  EXPECT_NE(usage.find("--beam.node=VALUE"), std::string::npos);
  EXPECT_NE(usage.find("--web.listen-address"), std::string::npos);
}

}  // namespace
}  // namespace beam_exporter
