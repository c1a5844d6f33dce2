// Measures one BEAM collection on a real node at several process counts, side by side with
// the ways other tools read a node:
//   probe       beam_exporter_probe:collect/1 over our C-node connection (a collection: basics,
//               mailboxes, memory ranking, ETS; in steady state, as the first one after
//               connecting, and without the memory ranking: the mailbox part alone), and
//               groups/1 (the slower group pass)
//   baseline    a bare on-node scan of message_queue_len over processes(), the floor for the
//               mailbox part
//   per-pid rpc one erlang:process_info/2 RPC per process from the C node (observer-style)
//   etop        observer_backend:etop_collect/1 (what etop/observer use), timed on the node
// and, with the real exporter binary running against the node: scrape latency, reply size,
// exporter CPU at the default interval, exporter RSS; and the node CPU the exporter uses at its
// defaults over a window that starts with its start-up (cpu_budget, default 0.5 % of a core),
// against etop_collect every 15 s in the same run, with how old each scanned series got.
//
// Node CPU is statistics(runtime) (CPU ms of all VM threads) before/after; wall times are
// medians over --runs. Results go to stdout as a Markdown table (docs/benchmarks.md).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "collectors/beam/beam_config.h"
#include "collectors/beam/etf_term.h"
#include "collectors/beam/node_connection.h"
#include "collectors/beam/probe_args.h"
#include "collectors/beam/probe_image.h"
#include "tests/support/erlang_node.h"
#include "tests/support/exporter_process.h"
#include "tests/support/net.h"
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace beam_exporter::beam {
namespace {

using beam_exporter::testing::ErlangNode;
using beam_exporter::testing::HttpGet;
using beam_exporter::testing::HttpResponse;
using beam_exporter::testing::SampleValue;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Options {
  std::vector<int> processes = {10000, 100000, 500000};
  int ets_tables = 1000;
  int runs = 5;
  int rpc_sample = 20000;  // per-pid RPCs actually made; the total is extrapolated beyond it
  int cpu_window_seconds = 30;
  int scrapes = 200;
  int budget_window_seconds = 300;  // the node-CPU-at-the-defaults window, start-up included
  bool budget_only = false;         // only that window and etop_collect (the issue-20 table)
};

// Median wall and node CPU milliseconds of one way of reading the node.
struct Cost {
  double wall = NAN;
  double cpu = NAN;
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? NAN : v[v.size() / 2];
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return NAN;
  size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

std::string Strip(std::string printed) {
  const std::string prefix = "{ok, ";
  if (printed.rfind(prefix, 0) == 0 && printed.back() == '}') printed = printed.substr(prefix.size(), printed.size() - prefix.size() - 1);
  return printed;
}

class Bench {
 public:
  // No busy-waiting schedulers: their spinning is node CPU nobody asked for, and would blur what
  // the exporter costs the node over a window.
  explicit Bench(Options o) : o_(o), node_({"+P", "1048576", "+sbwt", "none", "+sbwtdcpu", "none", "+sbwtdio", "none"}) {}

  int Run() {
    ConnectionOptions co{node_.name(), node_.cookie(), milliseconds(5000), int64_t{1} << 30};
    conn_ = std::make_unique<NodeConnection>(co);
    NodeStatus connected = conn_->Connect();
    if (!connected.ok()) {
      std::cerr << "connect failed: " << connected.message() << "\n";
      return 1;
    }
    LoadProbe();
    node_.Eval("Self = self(), H = spawn(fun() -> [begin T = ets:new(bench_table, [public]),"
               " [ets:insert(T, {I, I}) || I <- lists:seq(1, 20)] end || _ <- lists:seq(1, " +
                   std::to_string(o_.ets_tables) + ")], Self ! ready, receive stop -> ok end end),"
               " receive ready -> ok end, register(bench_ets_owner, H), ok.",
               milliseconds(120000));
    std::cout << "| processes | method | wall ms (median) | node CPU ms | reply bytes |\n|---|---|---|---|---|\n";
    std::vector<std::string> exporter_rows, budget_rows;
    int existing = std::stoi(Strip(node_.Eval("erlang:system_info(process_count).")));
    bool mailboxes_made = false;
    for (int target : o_.processes) {
      int add = target - existing;
      if (add > 0) {
        // Every 100th with a small mailbox (3 messages), as a busy app has some.
        node_.Eval("[begin P = spawn(timer, sleep, [infinity]), case I rem 100 of 0 -> P ! m, P ! m, P ! m; _ -> ok end"
                   " end || I <- lists:seq(1, " + std::to_string(add) + ")], ok.",
                   milliseconds(300000));
        existing = target;
      }
      if (!mailboxes_made) {
        // 20 processes with 10,000 queued messages each: "some with big mailboxes".
        node_.Eval("[begin P = spawn(timer, sleep, [infinity]), [P ! {msg, I} || I <- lists:seq(1, 10000)] end"
                   " || _ <- lists:seq(1, 20)], ok.",
                   milliseconds(120000));
        mailboxes_made = true;
      }
      const int procs = std::stoi(Strip(node_.Eval("erlang:system_info(process_count).")));
      if (o_.budget_only) {
        budget_rows.push_back(BudgetRow(procs, EtopRow(procs)));
        continue;
      }
      Cost full = ProbeRow(procs, Sweep::kSteady);
      ProbeRow(procs, Sweep::kFirst);
      ProbeRow(procs, Sweep::kMailboxesOnly);
      BaselineScanRow(procs);
      GroupsRow(procs);
      Cost etop = EtopRow(procs);
      Cost per_pid = PerPidRow(procs);
      Print(procs, "ratio: etop_collect / collection", etop.wall / full.wall, etop.cpu / full.cpu, NAN, "%.1fx");
      Print(procs, "ratio: per-process RPC / collection", per_pid.wall / full.wall, per_pid.cpu / full.cpu, NAN, "%.0fx");
      exporter_rows.push_back(ExporterRow(procs));
      if (o_.budget_window_seconds > 0) budget_rows.push_back(BudgetRow(procs, etop));
    }
    if (!exporter_rows.empty()) {
      std::cout << "\n| processes | collection s (exporter) | reply bytes | scrape p50 ms | scrape p99 ms | exporter CPU % of one core (interval 10s) | exporter RSS MB |\n|---|---|---|---|---|---|---|\n";
      for (const auto& row : exporter_rows) std::cout << row;
    }
    if (!budget_rows.empty()) {
      std::cout << "\n| processes | window s | exporter's node CPU % of one core (cpu_budget 0.5 %) | node idle % "
                   "(subtracted) | etop_collect every 15 s, % of one core | ratio exporter / etop | oldest served "
                   "mailboxes s | memory s | ets s | groups s | runs: mailboxes / memory / ets / groups |\n"
                   "|---|---|---|---|---|---|---|---|---|---|---|\n";
      for (const auto& row : budget_rows) std::cout << row;
    }
    return 0;
  }

 private:
  Term Call(const char* module, const char* function, const RpcArgs& args, size_t* bytes = nullptr,
            milliseconds timeout = milliseconds(120000)) {
    RpcResult result = conn_->Rpc(module, function, args.buff(), timeout);
    if (!result.ok()) throw std::runtime_error(std::string(module) + ":" + function + ": " + result.status.message());
    if (bytes) *bytes = result.reply_bytes;
    return std::move(result.reply);
  }
  double RuntimeMs() {
    RpcArgs a;
    EncodeAtomArgs({"runtime"}, &a);
    Term t = Call("erlang", "statistics", a);
    double v = NAN;
    t.items.at(0).AsDouble(&v);
    return v;
  }
  void LoadProbe() {
    RpcArgs a;
    EncodeLoadProbeArgs(ProbeBeam(), &a);
    Call("code", "load_binary", a);
  }

  // How a collection is asked for.
  enum class Sweep {
    kSteady,         // as the exporter does in steady state: heap sizes of one sixth of the
                     // processes, the last rows' pids passed back
    kFirst,          // as on the first collection after connecting: heap sizes of all processes
    kMailboxesOnly,  // the mailbox scan alone (histogram, sum, top N)
  };

  // A full collection (basics + mailboxes + memory ranking + ETS); returns its median costs.
  Cost ProbeRow(int procs, Sweep sweep) {
    const int slices = sweep == Sweep::kFirst ? 1 : 6;
    std::vector<double> walls, cpus, mailbox_ms;
    std::vector<std::string> row_pids;
    size_t bytes = 0;
    // Run -1 is not counted: the first reads after the mailboxes were filled also move their
    // messages from the signal queue into the message queue, once.
    for (int i = -1; i < o_.runs; ++i) {
      CollectRequest request;  // top 10 processes, top 50 ETS tables: the exporter's defaults
      // The phase is the countdown to the slice's first process: past the last one, none is in it.
      if (sweep == Sweep::kMailboxesOnly) request.scans = {Scan::kMailboxes};
      request.slice_phase = (i + slices) % slices;
      request.slices = slices;
      request.memory_pids = row_pids;
      RpcArgs a;
      EncodeCollectArgs(request, &a);
      double r0 = RuntimeMs();
      auto t0 = Clock::now();
      Term reply = Call(kProbeModule, "collect", a, &bytes);
      if (i >= 0) {
        walls.push_back(Ms(Clock::now() - t0));
        cpus.push_back(RuntimeMs() - r0);
      }
      if (const Term* timings = reply.Find("probe_timings_us"); timings && i >= 0) {
        int64_t us = 0;
        if (const Term* m = timings->Find("mailboxes"); m && m->AsInt(&us)) mailbox_ms.push_back(us / 1000.0);
      }
      row_pids.clear();
      if (const Term* rows = reply.Find("top_memory")) {
        for (const Term& row : rows->items) {
          std::string pid;
          if (row.items.size() == 3 && row.items[1].AsText(&pid)) row_pids.push_back(pid);
        }
      }
    }
    const char* what = sweep == Sweep::kSteady ? "collection (basics + mailboxes + memory ranking + ETS)"
                       : sweep == Sweep::kFirst ? "first collection after connecting (heap sizes of all processes)"
                                                : "basics + the mailbox scan alone";
    Print(procs, std::string("probe collect/1: ") + what, Median(walls), Median(cpus), static_cast<double>(bytes));
    Print(procs, "  of which the mailbox scan (on-node timer, processes() included)", Median(mailbox_ms), NAN, NAN);
    return {Median(walls), Median(cpus)};
  }

  // What the mailbox part cannot go below: process_info(P, message_queue_len) for every process
  // and nothing else, compiled (erl_call's expressions are interpreted) and timed on the node.
  void BaselineScanRow(int procs) {
    if (!baseline_loaded_) {
      testing::TempDir dir;
      const std::string source = dir.Write(
          "beam_bench_baseline.erl",
          "-module(beam_bench_baseline).\n-export([mailbox_scan/0]).\n"
          "mailbox_scan() ->\n"
          "    lists:foreach(fun(P) -> erlang:process_info(P, message_queue_len) end, erlang:processes()).\n");
      node_.Eval("{ok, M, Bin} = compile:file(\"" + source + "\", [binary]), {module, M} = code:load_binary(M, \"" +
                 source + "\", Bin), ok.");
      baseline_loaded_ = true;
    }
    std::vector<double> walls, cpus;
    for (int i = 0; i < o_.runs; ++i) {
      std::string out = Strip(node_.Eval(
          "{R0, _} = statistics(runtime), {W, ok} = timer:tc(fun beam_bench_baseline:mailbox_scan/0, []),"
          " {R1, _} = statistics(runtime), {W, R1 - R0}.",
          milliseconds(300000)));
      double w = 0, c = 0;
      if (std::sscanf(out.c_str(), "{%lf,%lf}", &w, &c) == 2) {
        walls.push_back(w / 1000.0);
        cpus.push_back(c);
      }
    }
    Print(procs, "  baseline: bare message_queue_len scan (on node)", Median(walls), Median(cpus), NAN);
  }

  // The group pass over all processes (no budget cut), with a group that matches the bench's
  // sleepers so the pass does its full work.
  Cost GroupsRow(int procs) {
    std::vector<double> walls, cpus;
    size_t bytes = 0;
    for (int i = 0; i < o_.runs; ++i) {
      RpcArgs a;
      EncodeGroupsArgs(milliseconds(600000), {{"sleepers", {}, {}, {"timer"}, {}}}, &a);
      double r0 = RuntimeMs();
      auto t0 = Clock::now();
      Call(kProbeModule, "groups", a, &bytes);
      walls.push_back(Ms(Clock::now() - t0));
      cpus.push_back(RuntimeMs() - r0);
    }
    Print(procs, "probe groups/1: group pass (all processes, not cut at its time budget)", Median(walls),
          Median(cpus), static_cast<double>(bytes));
    return {Median(walls), Median(cpus)};
  }

  Cost EtopRow(int procs) {
    std::vector<double> walls, cpus, sizes;
    for (int i = 0; i < std::max(1, o_.runs / 2); ++i) {
      std::string out = Strip(node_.Eval(
          "Self = self(), {R0, _} = statistics(runtime),"
          " {W, Info} = timer:tc(fun() -> observer_backend:etop_collect(Self), receive I -> I end end),"
          " {R1, _} = statistics(runtime), {W, R1 - R0, byte_size(term_to_binary(Info))}.",
          milliseconds(300000)));
      double w = 0, c = 0, b = 0;
      if (std::sscanf(out.c_str(), "{%lf,%lf,%lf}", &w, &c, &b) == 3) {
        walls.push_back(w / 1000.0);
        cpus.push_back(c);
        sizes.push_back(b);
      }
    }
    Print(procs, "observer_backend:etop_collect (on node)", Median(walls), Median(cpus), Median(sizes));
    return {Median(walls), Median(cpus)};
  }

  Cost PerPidRow(int procs) {
    RpcArgs none;
    EncodeAtomArgs({}, &none);
    size_t list_bytes = 0;
    double r0 = RuntimeMs();
    auto t0 = Clock::now();
    Term pids = Call("erlang", "processes", none, &list_bytes);
    size_t sample = std::min<size_t>(pids.items.size(), static_cast<size_t>(o_.rpc_sample));
    size_t total_bytes = list_bytes;
    for (size_t i = 0; i < sample; ++i) {
      RpcArgs a;
      ei_x_encode_list_header(a.x(), 2);
      ei_x_append_buf(a.x(), pids.items[i].text.data(), static_cast<int>(pids.items[i].text.size()));
      ei_x_encode_list_header(a.x(), 6);
      for (const char* item : {"registered_name", "initial_call", "memory", "reductions", "current_function",
                               "message_queue_len"}) {
        ei_x_encode_atom(a.x(), item);
      }
      ei_x_encode_empty_list(a.x());
      ei_x_encode_empty_list(a.x());
      size_t n = 0;
      Call("erlang", "process_info", a, &n);
      total_bytes += n;
    }
    double wall = Ms(Clock::now() - t0);
    double cpu = RuntimeMs() - r0;
    double scale = sample == 0 ? 1 : static_cast<double>(pids.items.size()) / static_cast<double>(sample);
    std::string label = "one process_info/2 RPC per process";
    if (scale > 1.0) {
      char buf[96];
      std::snprintf(buf, sizeof buf, " (%zu measured, x%.0f extrapolated)", sample, scale);
      label += buf;
    }
    Print(procs, label, wall * scale, cpu * scale, static_cast<double>(total_bytes) * scale);
    return {wall * scale, cpu * scale};
  }

  std::string ExporterRow(int procs) {
    // The real binary at a 1s interval for latency and sizes, then at the default interval for CPU.
    auto start = [&](const std::string& interval) {
      return std::make_unique<testing::ExporterProcess>(testing::ExporterProcess::Options{
          .config_yaml = "collectors:\n  beam:\n    node: " + node_.name() + "\n    cookie_file: " +
                         node_.cookie_file() + "\n    interval: " + interval + "\n    rpc_timeout: 900ms\n",
          .args = {"--no-collector.telemetry"}});
    };
    const std::string up = "beam_up{node=\"" + node_.name() + "\"}";
    auto exporter = start("1s");
    const int port = exporter->port();
    testing::WaitUntil([&] { return SampleValue(HttpGet(port, "/metrics").body, up) == 1; }, milliseconds(30000));
    std::vector<double> latencies;
    std::string last;
    for (int i = 0; i < o_.scrapes; ++i) {
      auto t0 = Clock::now();
      last = HttpGet(port, "/metrics", milliseconds(5000)).body;
      latencies.push_back(Ms(Clock::now() - t0));
      std::this_thread::sleep_for(milliseconds(10));
    }
    double reply = SampleValue(last, "beam_exporter_beam_reply_bytes{node=\"" + node_.name() + "\"}");
    double duration = SampleValue(last, "beam_exporter_beam_collection_duration_seconds{node=\"" + node_.name() + "\"}");
    double rss = SampleValue(last, "process_resident_memory_bytes") / 1e6;
    exporter.reset();

    auto idle = start("10s");
    const int port2 = idle->port();
    testing::WaitUntil([&] { return SampleValue(HttpGet(port2, "/metrics").body, up) == 1; }, milliseconds(30000));
    double cpu0 = SampleValue(HttpGet(port2, "/metrics").body, "process_cpu_seconds_total");
    std::this_thread::sleep_for(std::chrono::seconds(o_.cpu_window_seconds));
    std::string after = HttpGet(port2, "/metrics").body;
    double cpu1 = SampleValue(after, "process_cpu_seconds_total");
    rss = std::max(rss, SampleValue(after, "process_resident_memory_bytes") / 1e6);
    idle.reset();

    char row[256];
    std::snprintf(row, sizeof row, "| %d | %.4f | %.0f | %.2f | %.2f | %.3f | %.1f |\n", procs, duration, reply,
                  Percentile(latencies, 0.5), Percentile(latencies, 0.99),
                  100.0 * (cpu1 - cpu0) / o_.cpu_window_seconds, rss);
    return row;
  }

  // The real exporter at its defaults (interval 10 s, cpu_budget 0.005) for a window that starts
  // when it starts: the node's CPU over the window (statistics(runtime) before the exporter starts
  // and after it stops, less the idle node's rate measured just before), against etop_collect
  // every 15 s (its median node CPU per call / 15 s); and, scraped every second, how old each
  // scan's served values got (now - beam_exporter_beam_last_scan_timestamp_seconds; for a scan
  // that had not run yet, the time since the exporter started) and how often each scan ran.
  std::string BudgetRow(int procs, Cost etop) {
    const int idle_seconds = std::max(1, std::min(60, o_.budget_window_seconds / 5));
    double r0 = RuntimeMs();
    auto t0 = Clock::now();
    KeepConnection(std::chrono::seconds(idle_seconds));
    const double idle_rate = (RuntimeMs() - r0) / Ms(Clock::now() - t0);

    const double before = RuntimeMs();
    const auto started = Clock::now();
    const double started_unix = UnixNow();
    // The window starts with the process: no readiness wait.
    auto exporter = std::make_unique<testing::ExporterProcess>(testing::ExporterProcess::Options{
        .config_yaml = "collectors:\n  beam:\n    node: " + node_.name() + "\n    cookie_file: " + node_.cookie_file() + "\n",
        .args = {"--no-collector.telemetry"},
        .start = testing::ExporterProcess::Start::kNoWait});
    const int port = exporter->port();
    const char* kScans[] = {"mailboxes", "memory", "ets", "groups"};
    std::map<std::string, double> oldest;
    std::map<std::string, std::set<double>> runs;
    const auto end = started + std::chrono::seconds(o_.budget_window_seconds);
    while (Clock::now() < end) {
      KeepConnection(milliseconds(1000));
      HttpResponse r = HttpGet(port, "/metrics", milliseconds(2000));
      if (r.status != 200) continue;
      const double now = UnixNow();
      for (const char* scan : kScans) {
        const double at = SampleValue(r.body, "beam_exporter_beam_last_scan_timestamp_seconds{node=\"" + node_.name() +
                                                  "\",scan=\"" + scan + "\"}");
        if (!std::isnan(at)) runs[scan].insert(at);
        oldest[scan] = std::max(oldest[scan], now - (std::isnan(at) ? started_unix : at));
      }
    }
    exporter.reset();
    const double window_ms = Ms(Clock::now() - started);
    const double used_ms = RuntimeMs() - before - idle_rate * window_ms;
    const double share = 100.0 * used_ms / window_ms;
    const double etop_share = 100.0 * etop.cpu / 15000.0;
    char row[512];
    std::snprintf(row, sizeof row,
                  "| %d | %.0f | %.3f | %.3f | %.2f | %.3f | %.0f%s | %.0f%s | %.0f%s | %.0f%s | %zu / %zu / %zu / %zu |\n",
                  procs, window_ms / 1000, share, 100.0 * idle_rate, etop_share, share / etop_share, oldest["mailboxes"],
                  runs["mailboxes"].empty() ? " (not run)" : "", oldest["memory"], runs["memory"].empty() ? " (not run)" : "",
                  oldest["ets"], runs["ets"].empty() ? " (not run)" : "", oldest["groups"],
                  runs["groups"].empty() ? " (not run)" : "", runs["mailboxes"].size(), runs["memory"].size(),
                  runs["ets"].size(), runs["groups"].size());
    std::cout << "budget window done: " << row << std::flush;
    return row;
  }

  // Waits while answering the node's net ticks, so our own connection outlives a long window.
  void KeepConnection(milliseconds how_long) {
    const std::atomic<bool> never{false};
    if (!conn_->Idle(how_long, never).ok()) throw std::runtime_error("lost the bench's connection");
  }

  static double UnixNow() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  }

  void Print(int procs, const std::string& method, double wall, double cpu, double bytes,
             const char* cost_format = nullptr) {
    auto fmt = [](double v, const char* f) {
      if (std::isnan(v)) return std::string("-");
      char b[64];
      std::snprintf(b, sizeof b, f, v);
      return std::string(b);
    };
    std::cout << "| " << procs << " | " << method << " | " << fmt(wall, cost_format ? cost_format : "%.1f") << " | "
              << fmt(cpu, cost_format ? cost_format : "%.0f") << " | "
              << fmt(bytes, "%.0f") << " |" << std::endl;
  }

  Options o_;
  bool baseline_loaded_ = false;
  ErlangNode node_;
  std::unique_ptr<NodeConnection> conn_;
};

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(std::stoi(item));
  return out;
}

}  // namespace
}  // namespace beam_exporter::beam

int main(int argc, char** argv) {
  beam_exporter::beam::Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const std::string& flag) { return a.rfind(flag + "=", 0) == 0 ? a.substr(flag.size() + 1) : ""; };
    if (auto v = value("--processes"); !v.empty()) o.processes = beam_exporter::beam::ParseList(v);
    else if (auto v2 = value("--ets-tables"); !v2.empty()) o.ets_tables = std::stoi(v2);
    else if (auto v3 = value("--runs"); !v3.empty()) o.runs = std::stoi(v3);
    else if (auto v4 = value("--rpc-sample"); !v4.empty()) o.rpc_sample = std::stoi(v4);
    else if (auto v5 = value("--cpu-window-seconds"); !v5.empty()) o.cpu_window_seconds = std::stoi(v5);
    else if (auto v6 = value("--scrapes"); !v6.empty()) o.scrapes = std::stoi(v6);
    else if (auto v7 = value("--budget-window-seconds"); !v7.empty()) o.budget_window_seconds = std::stoi(v7);
    else if (a == "--budget-only") o.budget_only = true;
    else {
      std::cerr << "unknown argument " << a << "\n";
      return 2;
    }
  }
  try {
    return beam_exporter::beam::Bench(o).Run();
  } catch (const std::exception& e) {
    std::cerr << "bench failed: " << e.what() << "\n";
    return 1;
  }
}
