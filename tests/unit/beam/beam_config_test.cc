#include "collectors/beam/beam_config.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/support/temp_dir.h"

namespace beam_exporter::beam {
namespace {

ConfigMap Section(const std::string& yaml) {
  return ConfigMap(YAML::Load(yaml), std::make_shared<ConfigSource>(ConfigSource{"test.yml", {}}), "collectors.beam");
}

std::string ErrorOf(const std::string& yaml) {
  try {
    ConfigMap m = Section(yaml);
    ParseBeamConfig(m);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(BeamConfigTest, EmptySectionIsValidWithDefaultsAndNoNode) {
  ConfigMap m = Section("{}");
  BeamConfig c = ParseBeamConfig(m);
  EXPECT_TRUE(c.node.empty());
  EXPECT_EQ(c.interval, std::chrono::milliseconds(10000));
  EXPECT_EQ(c.top_n, 10);
  EXPECT_EQ(c.ets_top_n, 50);
  EXPECT_TRUE(c.load_probe);
  EXPECT_EQ(c.metric_names, MetricNames::kCurrent);
  ASSERT_EQ(c.process_groups.size(), DefaultProcessGroups().size());
  EXPECT_EQ(c.process_groups[0].modules.at(0), "Elixir.Phoenix.Channel.Server");
  EXPECT_EQ(c.MaxAge(), std::chrono::milliseconds(22000));
}

TEST(BeamConfigTest, ReadsEveryKey) {
  ConfigMap m = Section(R"(
node: app@127.0.0.1
cookie_file: /run/secrets/cookie
connect_timeout: 500ms
rpc_timeout: 1s
interval: 5s
max_reply_bytes: 100000
top_n: 5
ets_top_n: 20
cpu_budget: 0.01
load_probe: false
metric_names: legacy
process_groups:
  - name: workers
    modules: [Elixir.MyApp.Worker, my_worker]
  - name: rooms
    process_labels: [Elixir.Phoenix.Channel]
    initial_functions: [join/3]
)");
  BeamConfig c = ParseBeamConfig(m);
  EXPECT_EQ(c.node, "app@127.0.0.1");
  EXPECT_EQ(c.cookie_file, "/run/secrets/cookie");
  EXPECT_EQ(c.connect_timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(c.rpc_timeout, std::chrono::milliseconds(1000));
  EXPECT_EQ(c.interval, std::chrono::milliseconds(5000));
  EXPECT_EQ(c.max_reply_bytes, 100000);
  EXPECT_EQ(c.top_n, 5);
  EXPECT_EQ(c.ets_top_n, 20);
  EXPECT_EQ(c.cpu_budget, 0.01);
  EXPECT_FALSE(c.load_probe);
  EXPECT_EQ(c.metric_names, MetricNames::kLegacy);
  ASSERT_EQ(c.process_groups.size(), 2u);
  EXPECT_EQ(c.process_groups[0].name, "workers");
  EXPECT_EQ(c.process_groups[0].modules.size(), 2u);
  EXPECT_EQ(c.process_groups[1].process_labels, std::vector<std::string>{"Elixir.Phoenix.Channel"});
  EXPECT_EQ(c.process_groups[1].initial_functions, (std::vector<std::pair<std::string, int>>{{"join", 3}}));
  EXPECT_TRUE(c.process_groups[1].modules.empty());
}

// The defaults follow how Phoenix, LiveView and Cowboy processes look from outside (see
// DefaultProcessGroups); sockets (Bandit or Cowboy) are counted as the hosts of channels and
// LiveViews, because nothing in a Bandit connection process tells a WebSocket apart.
TEST(BeamConfigTest, DefaultGroupsMatchPhoenixLabelsAndRewrittenInitialCalls) {
  ConfigMap m = Section("node: app@127.0.0.1\n");
  BeamConfig c = ParseBeamConfig(m);
  ASSERT_EQ(c.process_groups.size(), 4u);
  EXPECT_EQ(c.process_groups[0].name, "phoenix_channel");
  EXPECT_EQ(c.process_groups[0].process_labels, std::vector<std::string>{"Elixir.Phoenix.Channel"});
  EXPECT_EQ(c.process_groups[0].initial_functions, (std::vector<std::pair<std::string, int>>{{"join", 3}}));
  EXPECT_EQ(c.process_groups[1].name, "phoenix_live_view");
  EXPECT_EQ(c.process_groups[1].initial_functions, (std::vector<std::pair<std::string, int>>{{"mount", 3}}));
  EXPECT_EQ(c.process_groups[2].name, "phoenix_socket");
  EXPECT_EQ(c.process_groups[2].hosts_of, (std::vector<std::string>{"phoenix_channel", "phoenix_live_view"}));
  EXPECT_EQ(c.process_groups[3].name, "cowboy_websocket");
  EXPECT_EQ(c.process_groups[3].modules, std::vector<std::string>{"cowboy_websocket"});
}

TEST(BeamConfigTest, TheOneCpuBudgetDefaultsToHalfAPercentOfACore) {
  ConfigMap m = Section("node: app@127.0.0.1\n");
  EXPECT_EQ(ParseBeamConfig(m).cpu_budget, 0.005);
}

// The group pass's own cadence and budget gave way to cpu_budget: a config that still sets them
// is refused with the key to set instead, not silently run differently.
TEST(BeamConfigTest, TheReplacedGroupKeysAreRefusedNamingCpuBudget) {
  for (const char* old : {"groups_every: 12", "groups_cpu_budget: 0.0015"}) {
    std::string error = ErrorOf(old);
    EXPECT_NE(error.find(std::string(old).substr(0, std::string(old).find(':'))), std::string::npos) << error;
    EXPECT_NE(error.find("replaced by cpu_budget"), std::string::npos) << error;
  }
}

TEST(BeamConfigTest, RejectsBadValuesNamingKeyAndLine) {
  EXPECT_NE(ErrorOf("node: nohost").find("collectors.beam.node"), std::string::npos);
  EXPECT_NE(ErrorOf("node: a@b@c").find("expected a node name"), std::string::npos);
  EXPECT_NE(ErrorOf("interval: 5s\nrpc_timeout: 5s").find("shorter than interval"), std::string::npos);
  EXPECT_NE(ErrorOf("metric_names: v5").find("expected current or legacy"), std::string::npos);
  EXPECT_NE(ErrorOf("top_n: -1").find("out of range"), std::string::npos);
  EXPECT_NE(ErrorOf("cpu_budget: 0").find("collectors.beam.cpu_budget"), std::string::npos);
  EXPECT_NE(ErrorOf("cpu_budget: 2").find("out of range"), std::string::npos);
  EXPECT_NE(ErrorOf("intervall: 5s").find("intervall"), std::string::npos);
  EXPECT_NE(ErrorOf("process_groups:\n  - name: x\n").find("at least one module"), std::string::npos);
  EXPECT_NE(ErrorOf("process_groups:\n  - {name: s, hosts_of: [ch]}\n  - {name: ch, modules: [m]}\n")
                .find("'ch' is not a process group that matches processes listed before"),
            std::string::npos);
  EXPECT_NE(ErrorOf("process_groups:\n  - {name: ch, modules: [m]}\n  - {name: s, modules: [n], hosts_of: [ch]}\n")
                .find("not both"),
            std::string::npos);
  for (const char* bad : {"join", "/3", "join/", "join/x", "join/256", "join/1000"}) {
    EXPECT_NE(ErrorOf(std::string("process_groups:\n  - {name: x, initial_functions: [") + bad + "]}")
                  .find("expected name/arity"),
              std::string::npos)
        << bad;
  }
  EXPECT_NE(ErrorOf("process_groups:\n  - {name: x, modules: [a]}\n  - {name: x, modules: [b]}").find("duplicate"),
            std::string::npos);
  EXPECT_NE(ErrorOf("\n\ninterval: 10").find("test.yml:3"), std::string::npos);
}

TEST(BeamConfigTest, CookieIsNeverAcceptedInTheConfig) {
  std::string err = ErrorOf("cookie: supersecret");
  EXPECT_NE(err.find("never set in the config"), std::string::npos);
  EXPECT_EQ(err.find("supersecret"), std::string::npos);
}

TEST(BeamConfigTest, SplitNodeName) {
  std::string alive, host;
  ASSERT_TRUE(SplitNodeName("app@127.0.0.1", &alive, &host));
  EXPECT_EQ(alive, "app");
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_FALSE(SplitNodeName("@host", &alive, &host));
  EXPECT_FALSE(SplitNodeName("app@", &alive, &host));
  EXPECT_FALSE(SplitNodeName("app", &alive, &host));
}

TEST(BeamConfigTest, CookieTextIsTrimmedAndBounded) {
  std::string cookie, reason;
  ASSERT_TRUE(CookieFromText("  abc123\n", &cookie, &reason));
  EXPECT_EQ(cookie, "abc123");
  EXPECT_FALSE(CookieFromText(" \n", &cookie, &reason));
  EXPECT_EQ(reason, "is empty");
  EXPECT_FALSE(CookieFromText(std::string(513, 'x'), &cookie, &reason));
}

TEST(BeamConfigTest, LoadCookiePrefersFileThenEnvAndNeverShowsIt) {
  testing::TempDir dir;
  const std::string path = dir.Write("cookie", "filecookie\n");
  BeamConfig c;
  c.node = "app@host";
  c.cookie_file = path;
  setenv("BEAM_EXPORTER_COOKIE", "envcookie", 1);
  EXPECT_EQ(LoadCookie(c), "filecookie");
  c.cookie_file.clear();
  EXPECT_EQ(LoadCookie(c), "envcookie");
  setenv("BEAM_EXPORTER_COOKIE", "   ", 1);
  try {
    LoadCookie(c);
    ADD_FAILURE() << "an empty env cookie must be rejected";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("BEAM_EXPORTER_COOKIE"), std::string::npos);
  }
  unsetenv("BEAM_EXPORTER_COOKIE");
  c.cookie_file = path + ".missing";
  EXPECT_THROW(LoadCookie(c), ConfigError);
}

}  // namespace
}  // namespace beam_exporter::beam
