// The real beam_exporter binary against real `erl` nodes on loopback: exact values for
// mailboxes, ETS tables and process groups, and the fault cases (node killed, frozen,
// restarted, wrong cookie, no EPMD, unknown node).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/erlang_node.h"
#include "tests/support/exporter_process.h"
#include "tests/support/net.h"
#include "tests/support/paths.h"
#include "tests/support/prometheus_server.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace beam_exporter::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Short intervals and timeouts so every fault shows within a second or two.
std::string Config(const std::string& node, const std::string& cookie_file, const std::string& extra = "") {
  return "collectors:\n  beam:\n    node: " + node + "\n    cookie_file: " + cookie_file +
         "\n    interval: 300ms\n    rpc_timeout: 250ms\n    connect_timeout: 500ms\n" + extra;
}

// The exporter with `yaml` as its config file and the telemetry collector off.
ExporterProcess::Options BeamOnly(std::string yaml, std::map<std::string, std::string> env = {}) {
  return {.config_yaml = std::move(yaml), .args = {"--no-collector.telemetry"}, .env = std::move(env)};
}

std::string Up(const ErlangNode& node) { return "beam_up{node=\"" + node.name() + "\"}"; }

// The value of `exprs` on the node as printed (erl_call -e prints {ok, Value}).
std::string EvalValue(ErlangNode& node, const std::string& exprs) {
  std::string printed = node.Eval(exprs);
  const std::string prefix = "{ok, ";
  if (printed.rfind(prefix, 0) == 0 && printed.back() == '}') printed = printed.substr(prefix.size(), printed.size() - prefix.size() - 1);
  return printed;
}

// "<0.95.0>" of a registered process (printed as a string, with quotes).
std::string PidOf(ErlangNode& node, const std::string& name) {
  std::string printed = EvalValue(node, "pid_to_list(whereis(" + name + ")).");
  if (printed.size() >= 2 && printed.front() == '"') printed = printed.substr(1, printed.size() - 2);
  return printed;
}

double ConnectErrors(const std::string& metrics, const ErlangNode& node, const std::string& reason) {
  double v = SampleValue(metrics, "beam_exporter_beam_connect_errors_total{node=\"" + node.name() +
                                      "\",reason=\"" + reason + "\"}");
  return std::isnan(v) ? 0 : v;
}

TEST(BeamCollectorIntegrationTest, MailboxesEtsTablesAndGroupsHaveExactValues) {
  ErlangNode node;
  node.Eval(
      "Big = spawn(fun() -> receive stop -> ok end end), register(it_mbox_big, Big),"
      "[Big ! {m, I} || I <- lists:seq(1, 1234)],"
      "Small = spawn(fun() -> receive stop -> ok end end), register(it_mbox_small, Small),"
      "[Small ! {m, I} || I <- lists:seq(1, 5)],"
      "Self = self(),"
      "Owner = spawn(fun() -> T = ets:new(it_sessions, [named_table, public, set]),"
      "  [ets:insert(T, {I, I}) || I <- lists:seq(1, 321)], Self ! ready, receive stop -> ok end end),"
      "register(it_ets_owner, Owner), receive ready -> ok end,"
      "{module, it_sleeper} = code:load_abs(\"" IT_SLEEPER_BEAM "\"),"
      "[spawn(it_sleeper, sleep, []) || _ <- lists:seq(1, 25)],"
      "[proc_lib:spawn(it_sleeper, sleep, []) || _ <- lists:seq(1, 7)], ok.");
  const std::string ets_bytes = EvalValue(node, "ets:info(it_sessions, memory) * erlang:system_info(wordsize).");

  // A whole core as the budget: every scan at every collection after the first (cheap-only) one.
  ExporterProcess e(BeamOnly(Config(node.name(), node.cookie_file(),
                    "    cpu_budget: 1\n    process_groups:\n      - name: sleepers\n        modules: [it_sleeper]\n")));
  ASSERT_TRUE(e.ready()) << e.Output();
  ASSERT_TRUE(e.WaitFor(Up(node), 1)) << e.Output();
  const std::string n = "node=\"" + node.name() + "\"";
  ASSERT_TRUE(e.WaitForSeries({"beam_exporter_beam_last_scan_timestamp_seconds{" + n + ",scan=\"groups\"}"},
                              milliseconds(5000)))
      << e.Metrics();
  std::string m = e.Metrics();

  const std::string big = n + ",process=\"it_mbox_big\",pid=\"" + PidOf(node, "it_mbox_big") + "\"";
  EXPECT_EQ(SampleValue(m, "erlang_vm_top_process_message_queue_length{" + big + "}"), 1234) << m;
  EXPECT_GT(SampleValue(m, "erlang_vm_top_mailbox_process_memory_bytes{" + big + "}"), 1234 * 8);
  EXPECT_GT(SampleValue(m, "erlang_vm_top_mailbox_process_reductions{" + big + "}"), 0);
  EXPECT_NE(m.find("erlang_vm_top_mailbox_process_info{" + big + ",current_function=\"prim_eval:receive/2\"} 1"),
            std::string::npos);
  const std::string small = n + ",process=\"it_mbox_small\",pid=\"" + PidOf(node, "it_mbox_small") + "\"";
  EXPECT_EQ(SampleValue(m, "erlang_vm_top_process_message_queue_length{" + small + "}"), 5);
  double le1000 = SampleValue(m, "erlang_vm_process_message_queue_length_bucket{" + n + ",le=\"1000\"}");
  double le10000 = SampleValue(m, "erlang_vm_process_message_queue_length_bucket{" + n + ",le=\"10000\"}");
  double le1 = SampleValue(m, "erlang_vm_process_message_queue_length_bucket{" + n + ",le=\"1\"}");
  double le10 = SampleValue(m, "erlang_vm_process_message_queue_length_bucket{" + n + ",le=\"10\"}");
  EXPECT_EQ(le10000 - le1000, 1);  // it_mbox_big
  EXPECT_GE(le10 - le1, 1);        // it_mbox_small
  EXPECT_GE(SampleValue(m, "erlang_vm_process_message_queue_length_sum{" + n + "}"), 1239);

  const std::string table = n + ",table=\"it_sessions\",owner=\"it_ets_owner\",type=\"set\",protection=\"public\"";
  EXPECT_EQ(SampleValue(m, "erlang_vm_ets_table_size{" + table + "}"), 321) << m;
  EXPECT_EQ(SampleValue(m, "erlang_vm_ets_table_memory_bytes{" + table + "}"), std::stod(ets_bytes));
  EXPECT_EQ(SampleValue(m, "erlang_vm_process_group_processes{" + n + ",group=\"sleepers\"}"), 32);
  EXPECT_GT(SampleValue(m, "erlang_vm_top_process_memory_bytes{" + n + ",process=\"code_server\",pid=\"" +
                              PidOf(node, "code_server") + "\"}"),
            0)
      << m;
}


// The ranking reads `memory` only for candidates: the largest young heaps (of all processes in
// the first memory scan, then of one sixth per scan), the top mailboxes and the rows already
// ranked. Among 20,000 other processes it must find the two that hold the most memory at once and
// keep them in every scan after, whichever slice the sweep is on, without the group pass
// (process_groups: []). A process that starts hoarding later is found within one sweep. With a
// whole core as cpu_budget the memory scan runs at every collection after the first.
TEST(BeamCollectorIntegrationTest, MemoryRankingFindsTheLargestProcessesAndKeepsThemAcrossSlices) {
  ErlangNode node;
  node.Eval(
      "[spawn(timer, sleep, [infinity]) || _ <- lists:seq(1, 20000)],"
      "Hog = spawn(fun() -> L = lists:seq(1, 400000), receive stop -> L end end), register(it_hog, Hog),"
      "Loop = fun Loop(S) -> receive {add, X} -> Loop([X | S]); {sync, From} -> From ! synced, Loop(S) end end,"
      "Grower = spawn(fun() -> Loop([]) end), register(it_grower, Grower),"
      "[Grower ! {add, lists:seq(1, 100)} || _ <- lists:seq(1, 2000)],"
      "Grower ! {sync, self()}, receive synced -> ok end, ok.");
  const double hog_memory = std::stod(EvalValue(node, "element(2, process_info(whereis(it_hog), memory))."));

  ExporterProcess e(BeamOnly(Config(node.name(), node.cookie_file(), "    top_n: 3\n    cpu_budget: 1\n    process_groups: []\n")));
  ASSERT_TRUE(e.ready()) << e.Output();
  const std::string n = "node=\"" + node.name() + "\"";
  const std::string hog = "erlang_vm_top_process_memory_bytes{" + n + ",process=\"it_hog\",pid=\"" +
                          PidOf(node, "it_hog") + "\"}";
  const std::string grower = "erlang_vm_top_process_memory_bytes{" + n + ",process=\"it_grower\",pid=\"" +
                             PidOf(node, "it_grower") + "\"}";
  ASSERT_TRUE(e.WaitForSeries({hog, grower}, milliseconds(6000))) << e.Metrics();

  // Ranked rows are re-read in every collection, whichever slice the sweep is on.
  for (int i = 0; i < 8; ++i) {
    std::string m = e.Metrics();
    EXPECT_EQ(SampleValue(m, hog), hog_memory) << m;
    EXPECT_GT(SampleValue(m, grower), 2000 * 100 * 16) << m;
    size_t rows = 0;
    for (size_t at = m.find("\nerlang_vm_top_process_memory_bytes{"); at != std::string::npos;
         at = m.find("\nerlang_vm_top_process_memory_bytes{", at + 1)) {
      ++rows;
    }
    EXPECT_EQ(rows, 3u) << m;
    EXPECT_EQ(m.find("erlang_vm_process_group_processes"), std::string::npos) << m;
    std::this_thread::sleep_for(milliseconds(150));
  }

  // A process that starts hoarding now is only ever seen by its slice of the sweep.
  node.Eval("Hog2 = spawn(fun() -> L = lists:seq(1, 300000), receive stop -> L end end), register(it_hog2, Hog2), ok.");
  const std::string hog2 = "erlang_vm_top_process_memory_bytes{" + n + ",process=\"it_hog2\",pid=\"" +
                           PidOf(node, "it_hog2") + "\"}";
  EXPECT_TRUE(e.WaitForSeries({hog, hog2, grower}, milliseconds(6000))) << e.Metrics();
}

// A process spawned from a fun has erlang:apply/2 as its initial call; the top lists name it by the
// module the fun belongs to, never "erlang".
TEST(BeamCollectorIntegrationTest, AProcessSpawnedFromAFunIsNamedByTheFunsModule) {
  ErlangNode node;
  const std::string pid = EvalValue(node, "{module, it_sleeper} = code:load_abs(\"" IT_SLEEPER_BEAM "\"),"
                                          "P = it_sleeper:spawn_fun_sleeper(), [P ! {msg, I} || I <- lists:seq(1, 77)],"
                                          "pid_to_list(P).");
  ExporterProcess e(BeamOnly(Config(node.name(), node.cookie_file(), "    process_groups: []\n")));
  ASSERT_TRUE(e.ready()) << e.Output();
  const std::string series = "erlang_vm_top_process_message_queue_length{node=\"" + node.name() +
                             "\",process=\"it_sleeper\",pid=\"" + pid.substr(1, pid.size() - 2) + "\"}";
  EXPECT_TRUE(e.WaitFor(series, 77)) << e.Metrics();
  EXPECT_EQ(e.Metrics().find("process=\"erlang\""), std::string::npos);
}

// Stand-ins (named as such: Phoenix is not installed here) for the processes the default groups
// look for, with the dictionary entries Phoenix and LiveView write (read from their sources, see
// DefaultProcessGroups): a joined Phoenix 1.7 channel (label and join/3), an older channel server
// (start module), a LiveView 0.20 (mount/3 only) and a labelled LiveView; plus a plain GenServer.
// Each channel and LiveView names its socket's transport first in '$callers', as Phoenix does:
// two transports (stand-ins for Bandit or Cowboy connection processes) host them.
TEST(BeamCollectorIntegrationTest, DefaultGroupsCountPhoenixChannelsLiveViewsAndTheirSockets) {
  ErlangNode node;
  node.Eval(
      "Hold = fun() -> receive stop -> ok end end,"
      "T1 = spawn(Hold), T2 = spawn(Hold),"
      "proc_lib:spawn(fun() -> put('$initial_call', {'Elixir.MyAppWeb.RoomChannel', join, 3}), put('$callers', [T1]),"
      "  put('$process_label', {'Elixir.Phoenix.Channel', 'Elixir.MyAppWeb.RoomChannel', <<\"room:1\">>}), Hold() end),"
      "proc_lib:spawn(fun() -> put('$initial_call', {'Elixir.Phoenix.Channel.Server', init, 1}), put('$callers', [T1]),"
      "  Hold() end),"
      "proc_lib:spawn(fun() -> put('$initial_call', {'Elixir.MyAppWeb.PageLive', mount, 3}), put('$callers', [T2]),"
      "  Hold() end),"
      "proc_lib:spawn(fun() -> put('$initial_call', {'Elixir.MyAppWeb.PageLive', mount, 3}), put('$callers', [T2]),"
      "  put('$process_label', {'Elixir.Phoenix.LiveView', 'Elixir.MyAppWeb.PageLive', <<\"lv:1\">>}), Hold() end),"
      "proc_lib:spawn(fun() -> put('$initial_call', {'Elixir.MyApp.Worker', init, 1}), put('$callers', [self()]),"
      "  Hold() end), ok.");

  ExporterProcess e(BeamOnly(Config(node.name(), node.cookie_file())));
  ASSERT_TRUE(e.ready()) << e.Output();
  const std::string n = "node=\"" + node.name() + "\"";
  EXPECT_TRUE(e.WaitFor("erlang_vm_process_group_processes{" + n + ",group=\"phoenix_channel\"}", 2)) << e.Metrics();
  std::string m = e.Metrics();
  EXPECT_EQ(SampleValue(m, "erlang_vm_process_group_processes{" + n + ",group=\"phoenix_live_view\"}"), 2) << m;
  EXPECT_EQ(SampleValue(m, "erlang_vm_process_group_processes{" + n + ",group=\"phoenix_socket\"}"), 2) << m;
  EXPECT_EQ(SampleValue(m, "erlang_vm_process_group_processes{" + n + ",group=\"cowboy_websocket\"}"), 0) << m;
  EXPECT_EQ(SampleValue(m, "beam_exporter_beam_groups_coverage_ratio{" + n + "}"), 1) << m;
}

// The value of `series` in `metrics`, 0 when absent.
double ValueOr0(const std::string& metrics, const std::string& series) {
  double v = SampleValue(metrics, series);
  return std::isnan(v) ? 0 : v;
}

// Everything the collector does on the node shares one budget (scan_budget.h). On a node made
// expensive to scan (100k processes, 1000 ETS tables: one round of the four scans costs far more
// node time than the budget gives per collection), the cheap reads still run every collection,
// the scans are spaced out and serve their values with their age in between, and the node's
// own CPU accounting (statistics(runtime) against its wall clock, both read by the exporter)
// stays near the budget instead of near what scanning at every collection would cost. The
// assertions compare rates measured on the node over the same window, with a wide margin on
// each side, not times on this machine.
TEST(BeamCollectorIntegrationTest, ScansOnAnExpensiveNodeAreSpacedToHoldTheCpuBudget) {
  // No busy-waiting schedulers: their spinning would count as node CPU the collector did not use.
  ErlangNode node({"+P", "1048576", "+sbwt", "none", "+sbwtdcpu", "none", "+sbwtdio", "none"});
  node.Eval("[spawn(timer, sleep, [infinity]) || _ <- lists:seq(1, 100000)],"
            "Self = self(), spawn(fun() -> [ets:new(it_table, [public]) || _ <- lists:seq(1, 1000)],"
            " Self ! ready, receive stop -> ok end end), receive ready -> ok end, ok.",
            milliseconds(120000));
  constexpr double kBudget = 0.05;  // 5% of a core: 15 ms of node time per 300 ms collection
  ExporterProcess e(BeamOnly(Config(node.name(), node.cookie_file(),
                    "    cpu_budget: 0.05\n    process_groups:\n      - {name: sleepers, modules: [timer]}\n")));
  ASSERT_TRUE(e.ready()) << e.Output();
  const std::string n = "{node=\"" + node.name() + "\"}";
  auto scan = [&](const char* family, const char* name) {
    return std::string(family) + "{node=\"" + node.name() + "\",scan=\"" + name + "\"}";
  };
  const char* kScans[] = {"mailboxes", "memory", "ets", "groups"};
  std::vector<std::string> every_scan;
  for (const char* name : kScans) every_scan.push_back(scan("beam_exporter_beam_last_scan_timestamp_seconds", name));
  // Every scan runs once its credit covers it: the group pass (cut at rpc_timeout, 250 ms) last.
  ASSERT_TRUE(e.WaitForSeries(every_scan, milliseconds(60000))) << e.Metrics();

  // The window: ~20 s, scraped every 100 ms.
  std::string first = e.Metrics();
  std::map<std::string, std::set<double>> runs;  // distinct timestamps seen per scan
  std::set<double> collections;
  bool served_older_than_the_collection = false;
  std::string last;
  for (auto until = Clock::now() + milliseconds(20000); Clock::now() < until;) {
    last = e.Metrics();
    const double collected = SampleValue(last, "beam_exporter_beam_last_collection_timestamp_seconds" + n);
    collections.insert(collected);
    for (const char* name : kScans) {
      const double at = SampleValue(last, scan("beam_exporter_beam_last_scan_timestamp_seconds", name));
      runs[name].insert(at);
      served_older_than_the_collection |= collected - at > 1.0;
    }
    EXPECT_FALSE(std::isnan(SampleValue(last, "erlang_vm_process_message_queue_length_sum" + n))) << "served between runs";
    std::this_thread::sleep_for(milliseconds(100));
  }
  const double node_cpu = SampleValue(last, "erlang_vm_statistics_runtime_seconds_total" + n) -
                          SampleValue(first, "erlang_vm_statistics_runtime_seconds_total" + n);
  const double node_wall = SampleValue(last, "erlang_vm_statistics_wallclock_time_seconds_total" + n) -
                           SampleValue(first, "erlang_vm_statistics_wallclock_time_seconds_total" + n);
  // What scanning at every collection would cost: each scan's last node time per 300 ms.
  double every_collection = 0;
  for (const char* name : kScans) every_collection += ValueOr0(last, scan("beam_exporter_beam_scan_node_seconds", name)) / 0.3;

  std::cout << "node CPU share " << node_cpu / node_wall << " over " << node_wall << " s (budget " << kBudget
            << "; every scan at every collection would be " << every_collection << "); collections "
            << collections.size() << ", mailbox scans " << runs["mailboxes"].size() << ", memory "
            << runs["memory"].size() << ", ets " << runs["ets"].size() << ", groups " << runs["groups"].size() << "\n";
  ASSERT_GT(node_wall, 15.0) << last;
  EXPECT_GT(every_collection, 4 * kBudget) << "the scans must be expensive for the test to mean anything\n" << last;
  EXPECT_LT(node_cpu / node_wall, 2 * kBudget) << "node CPU share " << node_cpu / node_wall << " against a budget of "
                                              << kBudget << "; scanning every collection: " << every_collection;
  // The cheap reads keep the interval; the costly scans do not, yet they still run.
  EXPECT_GT(collections.size(), 20u);
  EXPECT_LT(runs["mailboxes"].size() * 3, collections.size()) << "mailbox scans were not spaced out";
  EXPECT_GE(runs["mailboxes"].size(), 2u) << "the mailbox scan stopped";
  EXPECT_LT(runs["groups"].size() * 3, collections.size());
  EXPECT_TRUE(served_older_than_the_collection) << "scanned values are served with their own, older time";
}

TEST(BeamCollectorIntegrationTest, MetricsPassPromtoolAndEverySeriesHasTheNodeLabel) {
  ErlangNode node;
  // A whole core, so that every scan runs at every collection after the first and all their
  // families are there to check (at the default budget they come when the budget allows).
  ExporterProcess e(BeamOnly(Config(node.name(), node.cookie_file(), "    cpu_budget: 1\n")));
  ASSERT_TRUE(e.WaitFor(Up(node), 1)) << e.Output();
  // Scheduler utilisation needs two collections (it is a difference); each scan has run once.
  ASSERT_TRUE(WaitUntil(
      [&] {
        const std::string m = e.Metrics();
        if (m.find("erlang_vm_scheduler_utilization{") == std::string::npos) return false;
        for (const char* scan : {"mailboxes", "memory", "ets", "groups"}) {
          if (m.find(std::string("scan=\"") + scan + "\"") == std::string::npos) return false;
        }
        return true;
      },
      milliseconds(10000)))
      << e.Metrics();
  std::string m = e.Metrics();
  CommandResult r = PromtoolCheckMetrics(m);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "");
  std::istringstream lines(m);
  int beam_series = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("erlang_vm_", 0) != 0 && line.rfind("beam_up", 0) != 0 && line.rfind("beam_exporter_beam_", 0) != 0) {
      continue;
    }
    ++beam_series;
    EXPECT_NE(line.find("node=\"" + node.name() + "\""), std::string::npos) << line;
  }
  EXPECT_GT(beam_series, 50);
}

TEST(BeamCollectorIntegrationTest, NodeKilledGivesBeamUpZeroThenRecoversAfterRestartWithNewUptime) {
  ErlangNode node;
  ExporterProcess e(BeamOnly(Config(node.name(), node.cookie_file())));
  ASSERT_TRUE(e.WaitFor(Up(node), 1)) << e.Output();
  const std::string uptime = "erlang_vm_uptime_seconds{node=\"" + node.name() + "\"}";
  ASSERT_TRUE(WaitUntil([&] { return SampleValue(e.Metrics(), uptime) >= 1.5; }, milliseconds(5000)));
  double before = SampleValue(e.Metrics(), uptime);

  node.Kill();
  ASSERT_TRUE(e.WaitFor(Up(node), 0, milliseconds(2000))) << e.Output();
  std::string down = e.Metrics();
  EXPECT_TRUE(std::isnan(SampleValue(down, uptime))) << "stale node values must not be served";
  EXPECT_GE(ConnectErrors(down, node, "connection_lost"), 1) << down;

  node.Restart();
  ASSERT_TRUE(e.WaitFor(Up(node), 1, milliseconds(8000))) << e.Output();
  double after = SampleValue(e.Metrics(), uptime);
  EXPECT_LT(after, before);
}

TEST(BeamCollectorIntegrationTest, FrozenNodeGivesBeamUpZeroWhileScrapesStayFast) {
  ErlangNode node;
  ExporterProcess e(BeamOnly(Config(node.name(), node.cookie_file())));
  ASSERT_TRUE(e.WaitFor(Up(node), 1)) << e.Output();

  node.process().Signal(SIGSTOP);
  auto frozen = Clock::now();
  bool went_down = false;
  milliseconds slowest{0};
  while (Clock::now() - frozen < milliseconds(3000)) {
    auto start = Clock::now();
    HttpResponse r = HttpGet(e.port(), "/metrics", milliseconds(2000));
    slowest = std::max(slowest, std::chrono::duration_cast<milliseconds>(Clock::now() - start));
    ASSERT_EQ(r.status, 200);
    if (SampleValue(r.body, Up(node)) == 0) {
      went_down = true;
      EXPECT_GE(ConnectErrors(r.body, node, "timeout"), 1) << r.body;
      break;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  node.process().Signal(SIGCONT);
  EXPECT_TRUE(went_down);
  // Scrapes serve the last snapshot and never wait on the node: a scrape that waited would hang
  // for as long as the node stays frozen (the HttpGet timeout, 2s). 1s leaves room for a loaded
  // CI machine; typical scrapes here take under 15ms.
  EXPECT_LT(slowest, milliseconds(1000));
  EXPECT_TRUE(e.WaitFor(Up(node), 1, milliseconds(8000))) << e.Output();
}

// Whether a TCP connection to 127.0.0.1:`port` is established from this machine's side (the
// client's end in /proc/net/tcp: remote address 127.0.0.1:port, state 01).
bool ClientConnectedTo(int port) {
  std::ifstream tcp("/proc/net/tcp");
  char remote[32];
  std::snprintf(remote, sizeof remote, "0100007F:%04X", port);
  std::string line;
  std::getline(tcp, line);  // header
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string slot, local_address, remote_address, state;
    fields >> slot >> local_address >> remote_address >> state;
    if (remote_address == remote && state == "01") return true;
  }
  return false;
}

// A node frozen past several reconnects (a long GC pause, a stopped VM, SIGSTOP here): the
// handshakes the exporter abandons meanwhile wait in the node's accept queue, and the node takes
// them up when it thaws. The reasons must say what happened, timeouts, and never point the
// on-call at the cookie, which did not change (before, the reconnect after the thaw collided with
// an abandoned handshake under the same name, got status nok, and was counted cookie_rejected).
TEST(BeamCollectorIntegrationTest, NodeFrozenThenThawedIsCountedAsTimeoutsNeverAsACookieProblem) {
  // Named like most apps, after "beam_exporter_..." in term order: of two handshakes under one
  // name the node refuses the newer with status nok only when its own name is the greater (with
  // the tests' usual app_... names it would drop the older one instead, hiding the collision).
  ErlangNode node({}, "phoenix_" + RandomToken(8) + "@127.0.0.1");
  ExporterProcess e(BeamOnly(Config(node.name(), node.cookie_file())));
  ASSERT_TRUE(e.WaitFor(Up(node), 1)) << e.Output();

  const int dist_port = std::stoi(EvalValue(node, "{port, P, _} = erl_epmd:port_please(\"" +
                                                     node.name().substr(0, node.name().find('@')) + "\", {127,0,0,1}), P."));

  node.process().Signal(SIGSTOP);
  // The collect RPC times out, then each reconnect's handshake does (connect_timeout 500ms).
  bool several_timeouts = WaitUntil([&] { return ConnectErrors(e.Metrics(), node, "timeout") >= 4; }, milliseconds(20000));
  // Thawed while a reconnect waits for its handshake, the node takes up the abandoned ones
  // first, and the reconnect can meet one under its own name (a race inside the node: the old
  // naming failed this way in some runs, not all).
  bool in_flight = WaitUntil([&] { return ClientConnectedTo(dist_port); }, milliseconds(5000));
  node.process().Signal(SIGCONT);
  ASSERT_TRUE(several_timeouts) << e.Metrics();
  ASSERT_TRUE(in_flight) << "no reconnect attempt seen while the node was frozen";
  ASSERT_TRUE(e.WaitFor(Up(node), 1, milliseconds(10000))) << e.Output();
  std::this_thread::sleep_for(milliseconds(1000));  // a few collections after the thaw

  std::string metrics = e.Metrics();
  EXPECT_GE(ConnectErrors(metrics, node, "timeout"), 4) << metrics;
  for (const char* reason : {"cookie_rejected", "connect_refused", "epmd_unreachable", "node_not_registered",
                             "reply_too_large", "bad_reply"}) {
    EXPECT_EQ(ConnectErrors(metrics, node, reason), 0) << reason << "\n" << metrics << e.Output();
  }
  EXPECT_EQ(e.Output().find("reason=cookie_rejected"), std::string::npos) << e.Output();
}

TEST(BeamCollectorIntegrationTest, WrongCookieIsCountedAsCookieRejectedAndNeverLogged) {
  ErlangNode node;
  std::string bad_cookie = "wrong" + RandomToken(12);
  TempDir dir;
  std::string cookie_file = dir.Write("cookie", bad_cookie + "\n");
  ExporterProcess e(BeamOnly(Config(node.name(), cookie_file)));
  ASSERT_TRUE(e.ready()) << e.Output();
  EXPECT_TRUE(WaitUntil([&] { return ConnectErrors(e.Metrics(), node, "cookie_rejected") >= 1; }, milliseconds(5000)))
      << e.Metrics();
  EXPECT_EQ(SampleValue(e.Metrics(), Up(node)), 0);
  std::string log = e.Output();
  EXPECT_NE(log.find("reason=cookie_rejected"), std::string::npos) << log;
  EXPECT_NE(log.find("the cookies differ"), std::string::npos) << log;
  EXPECT_EQ(log.find(bad_cookie), std::string::npos);
  EXPECT_EQ(log.find(node.cookie()), std::string::npos);
}

// Stopping the shared epmd would break every other test using erl, so the exporter is pointed at
// an unused EPMD port instead (ERL_EPMD_PORT, honoured by erl, ei and our lookup alike): to the
// exporter that is exactly a host without EPMD.
TEST(BeamCollectorIntegrationTest, NoEpmdIsCountedAsEpmdUnreachable) {
  ErlangNode node;
  ExporterProcess e(BeamOnly(Config(node.name(), node.cookie_file()), {{"ERL_EPMD_PORT", std::to_string(FreeTcpPort())}}));
  ASSERT_TRUE(e.ready()) << e.Output();
  EXPECT_TRUE(WaitUntil([&] { return ConnectErrors(e.Metrics(), node, "epmd_unreachable") >= 1; }, milliseconds(5000)))
      << e.Metrics();
  EXPECT_EQ(SampleValue(e.Metrics(), Up(node)), 0);
}

TEST(BeamCollectorIntegrationTest, UnknownNodeNameIsCountedAsNodeNotRegistered) {
  ErlangNode node;  // makes sure epmd runs
  const std::string missing = "nosuch_" + RandomToken(6) + "@127.0.0.1";
  ExporterProcess e(BeamOnly(Config(missing, node.cookie_file())));
  ASSERT_TRUE(e.ready()) << e.Output();
  const std::string series = "beam_exporter_beam_connect_errors_total{node=\"" + missing + "\",reason=\"node_not_registered\"}";
  EXPECT_TRUE(WaitUntil([&] { return SampleValue(e.Metrics(), series) >= 1; }, milliseconds(5000))) << e.Metrics();
  EXPECT_EQ(SampleValue(e.Metrics(), "beam_up{node=\"" + missing + "\"}"), 0);
}

TEST(BeamCollectorIntegrationTest, WithoutNodeTheExporterStartsAndReportsBeamUpZero) {
  ExporterProcess e(BeamOnly("collectors:\n  beam: {}\n"));
  ASSERT_TRUE(e.ready()) << e.Output();
  EXPECT_EQ(SampleValue(e.Metrics(), "beam_up{node=\"\"}"), 0) << e.Metrics();
}

TEST(BeamCollectorIntegrationTest, WithoutProbeServesBifMetricsAndLoadsNothing) {
  ErlangNode node;
  ExporterProcess e(BeamOnly(Config(node.name(), node.cookie_file(), "    load_probe: false\n")));
  ASSERT_TRUE(e.WaitFor(Up(node), 1)) << e.Output();
  std::string m = e.Metrics();
  EXPECT_GT(SampleValue(m, "erlang_vm_processes{node=\"" + node.name() + "\"}"), 10);
  EXPECT_GT(SampleValue(m, "erlang_vm_memory_total_bytes{node=\"" + node.name() + "\"}"), 0);
  EXPECT_EQ(m.find("erlang_vm_process_message_queue_length"), std::string::npos);
  EXPECT_EQ(m.find("erlang_vm_ets_table_size"), std::string::npos);
  EXPECT_EQ(EvalValue(node, "code:is_loaded(beam_exporter_probe)."), "false");
}

TEST(BeamCollectorIntegrationTest, SchedulerWallTimeIsHeldWhileConnectedAndReleasedOnShutdown) {
  ErlangNode node;
  EXPECT_EQ(EvalValue(node, "erlang:statistics(scheduler_wall_time)."), "undefined");
  {
    ExporterProcess e(BeamOnly(Config(node.name(), node.cookie_file())));
    ASSERT_TRUE(e.WaitFor(Up(node), 1)) << e.Output();
    EXPECT_NE(EvalValue(node, "erlang:statistics(scheduler_wall_time)."), "undefined");
    EXPECT_EQ(e.process().Stop(), 0);
  }
  EXPECT_TRUE(WaitUntil([&] { return EvalValue(node, "erlang:statistics(scheduler_wall_time).") == "undefined"; },
                        milliseconds(3000)));
}

TEST(BeamCollectorIntegrationTest, SchedulerWallTimeIsReleasedWhenTheExporterDies) {
  ErlangNode node;
  {
    ExporterProcess e(BeamOnly(Config(node.name(), node.cookie_file())));
    ASSERT_TRUE(e.WaitFor(Up(node), 1)) << e.Output();
    EXPECT_NE(EvalValue(node, "erlang:statistics(scheduler_wall_time)."), "undefined");
    e.process().Signal(SIGKILL);  // no clean disconnect: the holder sees nodedown
  }
  EXPECT_TRUE(WaitUntil([&] { return EvalValue(node, "erlang:statistics(scheduler_wall_time).") == "undefined"; },
                        milliseconds(5000)));
}

TEST(BeamCollectorIntegrationTest, ProbeOfAnotherVersionIsReplaced) {
  ErlangNode node;
  // A stand-in beam_exporter_probe whose vsn() is "old", compiled and loaded on the node.
  ASSERT_EQ(EvalValue(node,
                      "Forms = [{attribute,1,module,beam_exporter_probe},{attribute,2,export,[{vsn,0}]},"
                      "{function,3,vsn,0,[{clause,3,[],[],[{bin,3,[{bin_element,3,{string,3,\"old\"},default,default}]}]}]}],"
                      "{ok, M, Bin} = compile:forms(Forms), {module, M} = code:load_binary(M, \"old.erl\", Bin),"
                      "binary_to_list(beam_exporter_probe:vsn())."),
            "\"old\"");
  ExporterProcess e(BeamOnly(Config(node.name(), node.cookie_file())));
  ASSERT_TRUE(e.WaitFor(Up(node), 1)) << e.Output();
  std::string vsn = EvalValue(node, "binary_to_list(beam_exporter_probe:vsn()).");
  EXPECT_EQ(vsn.size(), 2u + 32u) << vsn;  // the 32 hex digits of the new version, quoted
  EXPECT_NE(e.Output().find("loaded the probe module"), std::string::npos);
}

TEST(BeamCollectorIntegrationTest, LegacyNamesSwitch) {
  ErlangNode node;
  ExporterProcess e(BeamOnly(Config(node.name(), node.cookie_file(), "    metric_names: legacy\n")));
  ASSERT_TRUE(e.WaitFor(Up(node), 1)) << e.Output();
  std::string m = e.Metrics();
  const std::string n = "{node=\"" + node.name() + "\"";
  EXPECT_GT(SampleValue(m, "erlang_vm_process_count" + n + "}"), 10);
  EXPECT_GT(SampleValue(m, "erlang_vm_memory_bytes_total" + n + ",kind=\"processes\"}"), 0);
  EXPECT_GT(SampleValue(m, "erlang_vm_statistics_wallclock_time_milliseconds" + n + "}"), 100);
  EXPECT_TRUE(std::isnan(SampleValue(m, "erlang_vm_processes" + n + "}")));
}

}  // namespace
}  // namespace beam_exporter::testing
