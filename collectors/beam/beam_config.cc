#include "collectors/beam/beam_config.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace beam_exporter::beam {

// Phoenix 1.7 rewrites a joined channel's '$initial_call' to {UserChannel, join, 3} and labels
// it {Phoenix.Channel, UserChannel, Topic}; LiveView does the same with mount/3 and
// {Phoenix.LiveView, View, Topic}; older releases leave {Phoenix.Channel.Server | LiveView.Channel,
// init, 1}. Both put their socket's transport process first in '$callers' (Phoenix.Channel.Server
// on join, Phoenix.LiveView.Channel on mount), so phoenix_socket counts the WebSocket (or
// long-poll) connections that host a channel or a LiveView, on Bandit as on Cowboy: Bandit runs
// HTTP and WebSocket connections in the same kind of process, and nothing in the connection
// process itself tells them apart. A Cowboy WebSocket also waits in cowboy_websocket:loop/3 in
// its connection process, channels or not (docs/metrics.md).
std::vector<ProcessGroup> DefaultProcessGroups() {
  return {
      {"phoenix_channel", {"Elixir.Phoenix.Channel"}, {{"join", 3}}, {"Elixir.Phoenix.Channel.Server"}, {}},
      {"phoenix_live_view", {"Elixir.Phoenix.LiveView"}, {{"mount", 3}}, {"Elixir.Phoenix.LiveView.Channel"}, {}},
      {"phoenix_socket", {}, {}, {}, {"phoenix_channel", "phoenix_live_view"}},
      {"cowboy_websocket", {}, {}, {"cowboy_websocket"}, {}},
  };
}

namespace {

// "join/3" -> {"join", 3}; false unless a name, a slash and an arity 0..255.
bool ParseFunctionArity(const std::string& text, std::pair<std::string, int>* out) {
  size_t slash = text.rfind('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 >= text.size() || text.size() - slash > 4) return false;
  int arity = 0;
  for (size_t i = slash + 1; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    arity = arity * 10 + (text[i] - '0');
  }
  if (arity > 255) return false;
  *out = {text.substr(0, slash), arity};
  return true;
}

}  // namespace

bool SplitNodeName(const std::string& node, std::string* alive, std::string* host) {
  size_t at = node.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= node.size() || node.find('@', at + 1) != std::string::npos) {
    return false;
  }
  *alive = node.substr(0, at);
  *host = node.substr(at + 1);
  return true;
}

BeamConfig ParseBeamConfig(ConfigMap& section) {
  BeamConfig c;
  c.node = section.GetString("node", "");
  std::string alive, host;
  if (!c.node.empty() && !SplitNodeName(c.node, &alive, &host)) {
    section.Fail("node", "expected a node name such as app@127.0.0.1 or app@host, got '" + c.node + "'");
  }
  c.cookie_file = section.GetString("cookie_file", "");
  if (section.Has("cookie")) section.Fail("cookie", "the cookie is never set in the config; use cookie_file or $BEAM_EXPORTER_COOKIE");
  c.connect_timeout = section.GetDuration("connect_timeout", c.connect_timeout);
  c.rpc_timeout = section.GetDuration("rpc_timeout", c.rpc_timeout);
  c.interval = section.GetDuration("interval", c.interval);
  for (const auto& [key, value, min] : {std::tuple{"connect_timeout", c.connect_timeout, std::chrono::milliseconds(10)},
                                        std::tuple{"rpc_timeout", c.rpc_timeout, std::chrono::milliseconds(10)},
                                        std::tuple{"interval", c.interval, std::chrono::milliseconds(100)}}) {
    if (value < min) section.Fail(key, "must be at least " + std::to_string(min.count()) + "ms");
  }
  if (c.rpc_timeout >= c.interval) section.Fail("rpc_timeout", "must be shorter than interval");
  c.max_reply_bytes = section.GetInt("max_reply_bytes", c.max_reply_bytes, 4096, int64_t{1} << 30);
  c.top_n = static_cast<int>(section.GetInt("top_n", c.top_n, 0, 1000));
  c.ets_top_n = static_cast<int>(section.GetInt("ets_top_n", c.ets_top_n, 0, 10000));
  c.cpu_budget = section.GetDouble("cpu_budget", c.cpu_budget, 1e-6, 1.0);
  // Replaced by the one budget for all scans; refused rather than ignored, so a config that
  // tuned them is told what to set instead.
  for (const char* old : {"groups_every", "groups_cpu_budget"}) {
    if (section.Has(old)) {
      section.Fail(old, "was replaced by cpu_budget (a share of one node core for the whole collection, default "
                        "0.005); the group pass runs as often as that budget allows");
    }
  }
  c.load_probe = section.GetBool("load_probe", c.load_probe);
  std::string names = section.GetString("metric_names", "current");
  if (names == "current") {
    c.metric_names = MetricNames::kCurrent;
  } else if (names == "legacy") {
    c.metric_names = MetricNames::kLegacy;
  } else {
    section.Fail("metric_names", "expected current or legacy, got '" + names + "'");
  }
  if (section.Has("process_groups")) {
    std::set<std::string> seen;
    for (ConfigMap& group : section.GetMapList("process_groups")) {
      ProcessGroup g;
      g.name = group.GetString("name", "");
      g.process_labels = group.GetStringList("process_labels", {});
      for (const std::string& f : group.GetStringList("initial_functions", {})) {
        std::pair<std::string, int> parsed;
        if (!ParseFunctionArity(f, &parsed)) group.Fail("initial_functions", "expected name/arity, got '" + f + "'");
        g.initial_functions.push_back(std::move(parsed));
      }
      g.modules = group.GetStringList("modules", {});
      g.hosts_of = group.GetStringList("hosts_of", {});
      if (g.name.empty()) group.Fail("name", "every process group needs a name");
      bool matches = !g.modules.empty() || !g.process_labels.empty() || !g.initial_functions.empty();
      if (!matches && g.hosts_of.empty()) {
        group.Fail("modules", "list at least one module, process label or initial function, or hosts_of");
      }
      if (matches && !g.hosts_of.empty()) {
        group.Fail("hosts_of", "a group either matches processes or counts the hosts of other groups, not both");
      }
      for (const std::string& member : g.hosts_of) {
        bool known = false;
        for (const ProcessGroup& earlier : c.process_groups) known = known || (earlier.name == member && earlier.hosts_of.empty());
        if (!known) group.Fail("hosts_of", "'" + member + "' is not a process group that matches processes listed before this one");
      }
      if (!seen.insert(g.name).second) group.Fail("name", "duplicate process group '" + g.name + "'");
      group.CheckNoUnknownKeys();
      c.process_groups.push_back(std::move(g));
    }
  } else {
    section.GetMapList("process_groups");  // marks the key as known
    c.process_groups = DefaultProcessGroups();
  }
  section.CheckNoUnknownKeys();
  return c;
}

bool CookieFromText(const std::string& text, std::string* cookie, std::string* reason) {
  const char* ws = " \t\r\n";
  size_t begin = text.find_first_not_of(ws);
  if (begin == std::string::npos) {
    *reason = "is empty";
    return false;
  }
  size_t end = text.find_last_not_of(ws);
  std::string c = text.substr(begin, end - begin + 1);
  if (c.size() > 512) {
    *reason = "is longer than 512 bytes";
    return false;
  }
  *cookie = std::move(c);
  return true;
}

namespace {

std::string CookieFromFile(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) throw ConfigError(what + " " + path + ": cannot be read");
  std::stringstream buf;
  buf << in.rdbuf();
  std::string cookie, reason;
  if (!CookieFromText(buf.str(), &cookie, &reason)) throw ConfigError(what + " " + path + ": " + reason);
  return cookie;
}

}  // namespace

std::string LoadCookie(const BeamConfig& config) {
  if (!config.cookie_file.empty()) return CookieFromFile(config.cookie_file, "collectors.beam.cookie_file");
  if (const char* env = std::getenv("BEAM_EXPORTER_COOKIE")) {
    std::string cookie, reason;
    if (!CookieFromText(env, &cookie, &reason)) throw ConfigError("$BEAM_EXPORTER_COOKIE " + reason);
    return cookie;
  }
  if (const char* home = std::getenv("HOME")) {
    std::string path = std::string(home) + "/.erlang.cookie";
    std::ifstream probe(path);
    if (probe) return CookieFromFile(path, "cookie file");
  }
  throw ConfigError("collectors.beam: node " + config.node +
                    " is set but there is no cookie: set cookie_file (--beam.cookie-file) or $BEAM_EXPORTER_COOKIE");
}

}  // namespace beam_exporter::beam
