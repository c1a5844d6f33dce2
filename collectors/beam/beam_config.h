// The collectors.beam configuration section: parsing and validation (no I/O), and reading
// the cookie (a file or the BEAM_EXPORTER_COOKIE environment variable; never a flag value,
// never logged or put in an error message).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "collectors/beam/convert.h"
#include "exporter/config_map.h"

namespace beam_exporter::beam {

// A process counts in a group when its '$process_label' tag, or the function of its
// '$initial_call' (any module), or its start or current module is listed (docs/metrics.md).
struct ProcessGroup {
  std::string name;
  std::vector<std::string> process_labels;  // the label, or the first element of a tuple label
  std::vector<std::pair<std::string, int>> initial_functions;  // {"join", 3} from "join/3"
  std::vector<std::string> modules;  // module names as Erlang spells them ("Elixir.Phoenix.Channel.Server")
  // Instead of matching processes itself, the group counts the distinct processes that host the
  // members of these groups: the first pid of each member's '$callers' (a Phoenix channel or
  // LiveView process names its socket's transport there), whatever server runs the transport.
  std::vector<std::string> hosts_of;
};

struct BeamConfig {
  std::string node;         // "app@host"; empty: no target, the collector reports beam_up 0
  std::string cookie_file;  // empty: BEAM_EXPORTER_COOKIE, then $HOME/.erlang.cookie
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds rpc_timeout{2000};
  std::chrono::milliseconds interval{10000};
  int64_t max_reply_bytes = 4 << 20;
  int top_n = 10;
  int ets_top_n = 50;
  // The share of one node core that everything the collector does on the node may average: the
  // cheap reads every interval, the scans as often as the rest allows (scan_budget.h).
  double cpu_budget = 0.005;
  std::vector<ProcessGroup> process_groups;
  bool load_probe = true;
  MetricNames metric_names = MetricNames::kCurrent;

  // A snapshot older than this is stale (beam_up 0): two missed intervals plus one RPC timeout.
  std::chrono::milliseconds MaxAge() const { return 2 * interval + rpc_timeout; }
};

// The process groups used when the section sets none.
std::vector<ProcessGroup> DefaultProcessGroups();

// Reads and validates the section; throws ConfigError naming the key. Ends with
// CheckNoUnknownKeys().
BeamConfig ParseBeamConfig(ConfigMap& section);

// Splits "alive@host"; false when either part is empty or there is no '@'.
bool SplitNodeName(const std::string& node, std::string* alive, std::string* host);

// The cookie's text from a file's contents: surrounding whitespace removed. Returns false
// (with a reason that never contains the cookie) when empty or too long for ei (512 bytes).
bool CookieFromText(const std::string& text, std::string* cookie, std::string* reason);

// Reads the cookie: cookie_file if set, else $BEAM_EXPORTER_COOKIE, else $HOME/.erlang.cookie.
// Throws ConfigError (the message names the source, never the cookie).
std::string LoadCookie(const BeamConfig& config);

}  // namespace beam_exporter::beam
