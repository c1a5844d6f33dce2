#include "collectors/beam/poller.h"

#include <gtest/gtest.h>
#include <ei.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collectors/beam/probe_image.h"
#include "exporter/logging.h"
#include "tests/unit/beam/rpc_args_reader.h"
#include "tests/unit/beam/term_builders.h"

namespace beam_exporter::beam {
namespace {

using namespace testing;  // NOLINT: term builders, DecodedArgs, MapValue
using std::chrono::microseconds;
using std::chrono::milliseconds;
using TimePoint = std::chrono::steady_clock::time_point;

constexpr size_t kReplyBytes = 100;  // what the fake node says each reply weighed
const std::string kSelfNode = "beam_exporter_1_abcdef_0@127.0.0.1";

// Time that moves only when the test or the fake node moves it; records the waits before
// reconnecting.
class ManualClock : public PollerClock {
 public:
  TimePoint Now() override { return now_; }
  double UnixSeconds() override { return kUnixStart + std::chrono::duration<double>(now_ - TimePoint()).count(); }
  void WaitForRetry(milliseconds delay) override {
    retry_waits.push_back(delay);
    now_ += delay;
  }
  void Advance(std::chrono::steady_clock::duration d) { now_ += d; }

  std::vector<milliseconds> retry_waits;

 private:
  static constexpr double kUnixStart = 1.7e9;
  TimePoint now_;
};

// A pid as the node sends it (its ETF encoding is what start_holder returns and stop_holder takes).
Term Pid(int number) {
  erlang_pid pid{};
  std::snprintf(pid.node, sizeof pid.node, "app@127.0.0.1");
  pid.num = static_cast<unsigned>(number);
  pid.creation = 1;
  ei_x_buff x;
  ei_x_new_with_version(&x);
  ei_x_encode_pid(&x, &pid);
  Term t;
  EXPECT_TRUE(DecodeEtf(std::string_view(x.buff, static_cast<size_t>(x.index)), &t).ok());
  ei_x_free(&x);
  EXPECT_EQ(t.kind, Term::Kind::kPid);
  return t;
}

// Stands in for the node, which unit tests cannot have. Each RPC gets the next reply scripted
// for its "module:function", else that function's standing answer; the NodeLink contract the
// real connection keeps is applied to them ({badrpc, _} is bad_reply and keeps the connection,
// any other failure closes it). An RPC takes `round_trip` on the manual clock, an idle its
// whole duration.
class FakeNodeLink : public NodeLink {
 public:
  struct Call {
    std::string function;  // "module:function"
    Term args;             // the argument list, decoded
    milliseconds timeout;
  };
  using Answer = std::function<RpcResult(const Term& args)>;

  explicit FakeNodeLink(ManualClock* clock) : clock_(clock) {}

  // The next call of `function` gets the literal `reply` (what {rex, Reply} carries).
  void Reply(const std::string& function, Term reply) {
    script_[function].push_back([function, reply](const Term&) { return ReplyArrived(function, reply, kReplyBytes); });
  }
  // The next call of `function` fails with `reason` (a timeout, a lost connection ...).
  void Fail(const std::string& function, FailureReason reason) {
    script_[function].push_back([reason](const Term&) {
      RpcResult result;
      result.status = NodeStatus::Failed(reason, Status::Unavailable("scripted failure"));
      return result;
    });
  }
  // Calls of `function` beyond the scripted ones get answer(args).
  void Always(const std::string& function, Answer answer) { standing_[function] = std::move(answer); }
  void FailNextConnect(FailureReason reason) { connect_failures_.push_back(reason); }
  void LoseConnectionInNextIdle() { lose_in_idle_ = true; }
  // Sets *stop during the `idles`-th idle from now (for Run()).
  void StopDuringIdle(int idles, std::atomic<bool>* stop) {
    stop_after_idles_ = idles;
    stop_ = stop;
  }

  NodeStatus Connect() override {
    ++connects;
    if (!connect_failures_.empty()) {
      FailureReason reason = connect_failures_.front();
      connect_failures_.pop_front();
      return NodeStatus::Failed(reason, Status::Unavailable(std::string("scripted ") + FailureReasonName(reason)));
    }
    connected_ = true;
    return NodeStatus::Ok();
  }
  bool connected() const override { return connected_; }
  const std::string& self_node() const override { return kSelfNode; }

  RpcResult Rpc(const char* module, const char* function, const ei_x_buff& args, milliseconds timeout) override {
    clock_->Advance(round_trip);
    const std::string name = std::string(module) + ":" + function;
    calls.push_back({name, DecodedArgs(args), timeout});
    const Term& decoded = calls.back().args;
    RpcResult result;
    if (!connected_) {
      ADD_FAILURE() << name << " called without a connection";
      result.status = NodeStatus::Failed(FailureReason::kConnectionLost, Status::Unavailable("not connected"));
    } else if (auto scripted = script_.find(name); scripted != script_.end() && !scripted->second.empty()) {
      result = scripted->second.front()(decoded);
      scripted->second.pop_front();
    } else if (auto standing = standing_.find(name); standing != standing_.end()) {
      result = standing->second(decoded);
    } else {
      ADD_FAILURE() << "unscripted call " << name;
      result.status = NodeStatus::Failed(FailureReason::kBadReply, Status::Unavailable("unscripted"));
    }
    if (!result.ok() && result.status.reason() != FailureReason::kBadReply) connected_ = false;
    return result;
  }

  NodeStatus Idle(milliseconds duration, const std::atomic<bool>&) override {
    idles.push_back(duration);
    if (stop_ != nullptr && --stop_after_idles_ == 0) stop_->store(true);
    if (lose_in_idle_) {
      lose_in_idle_ = false;
      connected_ = false;
      return NodeStatus::Failed(FailureReason::kConnectionLost, Status::Unavailable("the node closed the connection"));
    }
    clock_->Advance(duration);
    return NodeStatus::Ok();
  }

  void Close() override {
    connected_ = false;
    ++closes;
  }

  // The functions called so far, in order.
  std::vector<std::string> CallNames() const {
    std::vector<std::string> names;
    for (const Call& call : calls) names.push_back(call.function);
    return names;
  }
  // The argument maps of the collect/1 calls so far.
  std::vector<Term> CollectRequests() const {
    std::vector<Term> requests;
    for (const Call& call : calls) {
      if (call.function == "beam_exporter_probe:collect") requests.push_back(call.args.items.at(0));
    }
    return requests;
  }

  std::vector<Call> calls;
  std::vector<milliseconds> idles;
  int connects = 0;
  int closes = 0;
  microseconds round_trip{1000};

 private:
  ManualClock* clock_;
  bool connected_ = false;
  std::map<std::string, std::deque<Answer>> script_;
  std::map<std::string, Answer> standing_;
  std::deque<FailureReason> connect_failures_;
  bool lose_in_idle_ = false;
  int stop_after_idles_ = 0;
  std::atomic<bool>* stop_ = nullptr;
};

class RecordingSink : public PollerSink {
 public:
  void PublishSuccess(Collection collection) override { successes.push_back(std::move(collection)); }
  void PublishFailure(FailureReason reason) override { failures.push_back(reason); }

  std::vector<Collection> successes;
  std::vector<FailureReason> failures;
};

// The scan names a collect/1 request asks for.
std::vector<std::string> RequestedScans(const Term& request) {
  std::vector<std::string> names;
  for (const Term& scan : MapValue(request, "scans").items) names.push_back(scan.text);
  return names;
}

bool Requested(const Term& request, const std::string& scan) {
  const std::vector<std::string> scans = RequestedScans(request);
  return std::find(scans.begin(), scans.end(), scan) != scans.end();
}

// What the fake node's probe answers to collect/1: the cheap reads, and the part of each scan
// the request asks for, with the probe's own timings. Every answer's rows differ from the last
// one's (their pids and values count the answers), so carried values can be told from new ones.
struct ProbeScript {
  int64_t processes = 100;
  int64_t ets_tables = 10;
  bool holder_running = true;  // else scheduler_wall_time is undefined (the flag is off)
  std::map<std::string, int64_t> timings_us = {{"basic", 100}, {"mailboxes", 40}, {"memory", 30}, {"ets", 20}};
  int answers = 0;

  static std::string RowPid(int answer, int row) { return "<0." + std::to_string(1000 * answer + row) + ".0>"; }

  RpcResult Answer(const Term& args) {
    ++answers;
    const Term& request = args.items.at(0);
    std::vector<Term> timings = {KV("basic", I(timings_us.at("basic")))};
    std::vector<Term> items = {
        KV("memory", L({KV("total", I(1000000))})),
        KV("system_info", L({KV("process_count", I(processes)), KV("ets_count", I(ets_tables)), KV("schedulers", I(1))})),
        KV("statistics", L({KV("run_queue", I(0))})),
        KV("dist_peers", I(1)),
        KV("scheduler_wall_time",
           holder_running ? L({T({A("normal"), I(10 * answers), I(100 * answers)})}) : A("undefined")),
    };
    if (Requested(request, "mailboxes")) {
      items.push_back(KV("mailbox_histogram", T({T({I(answers), I(0), I(0), I(0), I(0), I(0), I(0), I(0)}), I(answers)})));
      items.push_back(KV("top_mailbox", L({T({B("busy"), B(RowPid(answers, 1)), I(answers), I(2048), I(5), B("m:f/1")})})));
      timings.push_back(KV("mailboxes", I(timings_us.at("mailboxes"))));
    }
    if (Requested(request, "memory")) {
      items.push_back(KV("top_memory", L({T({B("hog"), B(RowPid(answers, 2)), I(1000 * answers)}),
                                          T({B("cache"), B(RowPid(answers, 3)), I(500 * answers)})})));
      timings.push_back(KV("memory", I(timings_us.at("memory"))));
    }
    if (Requested(request, "ets")) {
      items.push_back(KV("ets", T({L({T({B("sessions"), B("owner"), A("set"), A("public"), I(answers), I(4096)})}),
                                   T({I(0), I(0), I(0)})})));
      timings.push_back(KV("ets", I(timings_us.at("ets"))));
    }
    items.push_back(KV("probe_timings_us", L(std::move(timings))));
    return ReplyArrived("beam_exporter_probe:collect", L(std::move(items)), kReplyBytes);
  }
};

BeamConfig TestConfig() {
  BeamConfig config;
  config.node = "app@127.0.0.1";
  config.interval = milliseconds(1000);
  config.rpc_timeout = milliseconds(200);
  config.cpu_budget = 1.0;  // a whole core: every scan runs at every collection after the first
  return config;
}

class PollerTest : public ::testing::Test {
 protected:
  PollerTest() {
    link_.Always("beam_exporter_probe:vsn", [](const Term&) {
      return ReplyArrived("vsn", B(std::string(ProbeVersion())), kReplyBytes);
    });
    link_.Always("beam_exporter_probe:start_holder", [](const Term&) { return ReplyArrived("start_holder", Pid(77), kReplyBytes); });
    link_.Always("beam_exporter_probe:collect", [this](const Term& args) { return probe_.Answer(args); });
  }

  // The poller, made with config_ on first use.
  Poller& poller() {
    if (!poller_) poller_ = std::make_unique<Poller>(config_, &link_, &clock_, &sink_, &stop_);
    return *poller_;
  }
  // Runs `steps` more turns of the poll loop.
  void Steps(int steps) {
    for (int i = 0; i < steps; ++i) poller().Step();
  }

  BeamConfig config_ = TestConfig();
  ManualClock clock_;
  FakeNodeLink link_{&clock_};
  RecordingSink sink_;
  ProbeScript probe_;
  std::atomic<bool> stop_{false};
  std::unique_ptr<Poller> poller_;
};

TEST_F(PollerTest, MissingProbeIsPurgedAndLoadedThenCollected) {
  link_.Reply("beam_exporter_probe:vsn", T({A("badrpc"), A("undef")}));
  link_.Reply("code:soft_purge", A("false"));
  link_.Reply("code:load_binary", T({A("module"), A("beam_exporter_probe")}));
  Steps(1);
  EXPECT_EQ(link_.CallNames(),
            (std::vector<std::string>{"beam_exporter_probe:vsn", "code:soft_purge", "code:load_binary",
                                      "beam_exporter_probe:start_holder", "beam_exporter_probe:collect"}));
  const Term& purged = link_.calls[1].args;
  ASSERT_EQ(purged.items.size(), 1u);
  EXPECT_TRUE(purged.items[0].IsAtom("beam_exporter_probe"));
  const Term& loaded = link_.calls[2].args;  // [Module, Filename, Beam]
  ASSERT_EQ(loaded.items.size(), 3u);
  EXPECT_TRUE(loaded.items[0].IsAtom("beam_exporter_probe"));
  EXPECT_EQ(loaded.items[2].text, ProbeBeam());
  EXPECT_EQ(sink_.successes.size(), 1u);
  EXPECT_TRUE(sink_.failures.empty());
}

TEST_F(PollerTest, ProbeOfAnotherVersionIsReloaded) {
  link_.Reply("beam_exporter_probe:vsn", B("0123456789abcdef0123456789abcdef"));
  link_.Reply("code:soft_purge", A("true"));
  link_.Reply("code:load_binary", T({A("module"), A("beam_exporter_probe")}));
  Steps(1);
  EXPECT_EQ(link_.CallNames(),
            (std::vector<std::string>{"beam_exporter_probe:vsn", "code:soft_purge", "code:load_binary",
                                      "beam_exporter_probe:start_holder", "beam_exporter_probe:collect"}));
  EXPECT_EQ(sink_.successes.size(), 1u);
}

TEST_F(PollerTest, ProbeOfThisVersionIsUsedWithoutLoading) {
  Steps(2);
  EXPECT_EQ(link_.CallNames(),
            (std::vector<std::string>{"beam_exporter_probe:vsn", "beam_exporter_probe:start_holder",
                                      "beam_exporter_probe:collect", "beam_exporter_probe:collect"}));
}

TEST_F(PollerTest, RefusedLoadIsABadReplyThatKeepsTheConnectionAndIsRetriedNextInterval) {
  link_.Reply("beam_exporter_probe:vsn", T({A("badrpc"), A("undef")}));
  link_.Reply("code:soft_purge", A("false"));
  link_.Reply("code:load_binary", T({A("error"), A("not_purged")}));
  link_.Reply("beam_exporter_probe:vsn", T({A("badrpc"), A("undef")}));
  link_.Reply("code:soft_purge", A("true"));
  link_.Reply("code:load_binary", T({A("module"), A("beam_exporter_probe")}));
  Steps(1);
  EXPECT_EQ(sink_.failures, std::vector<FailureReason>{FailureReason::kBadReply});
  EXPECT_TRUE(sink_.successes.empty());
  EXPECT_EQ(link_.CallNames().back(), "code:load_binary") << "nothing is collected with a refused probe";
  EXPECT_TRUE(link_.connected());
  EXPECT_TRUE(clock_.retry_waits.empty());
  ASSERT_EQ(link_.idles.size(), 1u) << "the rest of the interval is idled";

  Steps(1);
  EXPECT_EQ(link_.connects, 1);
  EXPECT_EQ(sink_.successes.size(), 1u) << "the next interval loads the probe again";
}

TEST_F(PollerTest, HolderIsStartedForOurNodeAndAgainWhenTheReplyLacksSchedulerWallTime) {
  Steps(2);
  probe_.holder_running = false;  // the third reply: the flag is off, its holder is gone
  Steps(1);
  probe_.holder_running = true;
  Steps(1);
  const std::vector<std::string> names = link_.CallNames();
  EXPECT_EQ(names, (std::vector<std::string>{"beam_exporter_probe:vsn", "beam_exporter_probe:start_holder",
                                             "beam_exporter_probe:collect", "beam_exporter_probe:collect",
                                             "beam_exporter_probe:collect", "beam_exporter_probe:start_holder",
                                             "beam_exporter_probe:collect"}));
  const Term& started = link_.calls[1].args;
  ASSERT_EQ(started.items.size(), 1u);
  EXPECT_TRUE(started.items[0].IsAtom(kSelfNode));
}

TEST_F(PollerTest, ShutdownStopsTheHolderItStartedAndCloses) {
  const Term holder = Pid(77);
  Steps(1);
  link_.Reply("beam_exporter_probe:stop_holder", A("ok"));
  poller().Disconnect();
  const FakeNodeLink::Call& stop = link_.calls.back();
  EXPECT_EQ(stop.function, "beam_exporter_probe:stop_holder");
  ASSERT_EQ(stop.args.items.size(), 1u);
  EXPECT_EQ(stop.args.items[0].kind, Term::Kind::kPid);
  EXPECT_EQ(stop.args.items[0].text, holder.text);
  EXPECT_FALSE(link_.connected());
  EXPECT_EQ(link_.closes, 1);
}

TEST_F(PollerTest, RunCollectsEveryIntervalUntilStoppedThenStopsTheHolder) {
  link_.StopDuringIdle(3, &stop_);
  link_.Reply("beam_exporter_probe:stop_holder", A("ok"));
  poller().Run();
  EXPECT_EQ(sink_.successes.size(), 3u);
  ASSERT_EQ(link_.idles.size(), 3u);
  // Each idle is the interval less what the collection took (its round trips on the manual clock).
  EXPECT_EQ(link_.idles[0], milliseconds(1000 - 3));  // vsn, start_holder, collect
  EXPECT_EQ(link_.idles[1], milliseconds(1000 - 1));
  EXPECT_EQ(link_.CallNames().back(), "beam_exporter_probe:stop_holder");
  EXPECT_FALSE(link_.connected());
}

TEST_F(PollerTest, ReplyBytesAndDurationAreThoseOfTheWholeCollection) {
  Steps(2);
  ASSERT_EQ(sink_.successes.size(), 2u);
  EXPECT_EQ(sink_.successes[0].reply_bytes, 3 * kReplyBytes);  // vsn, start_holder, collect
  EXPECT_EQ(sink_.successes[1].reply_bytes, 1 * kReplyBytes);
  EXPECT_DOUBLE_EQ(sink_.successes[0].duration_seconds, 0.003);
  EXPECT_DOUBLE_EQ(sink_.successes[1].duration_seconds, 0.001);
}

// The utilisation family of one collection, by scheduler type; absent: empty.
std::map<std::string, double> Utilization(const Collection& collection) {
  std::map<std::string, double> out;
  for (const prometheus::MetricFamily& family : collection.families) {
    if (family.name != "erlang_vm_scheduler_utilization") continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        if (label.name == "type") out[label.value] = metric.gauge.value;
      }
    }
  }
  return out;
}

TEST_F(PollerTest, SchedulerUtilizationIsMeasuredBetweenCollectionsOfOneConnection) {
  link_.LoseConnectionInNextIdle();
  Steps(3);  // connect, lose it while idle; reconnect, and collect once more
  ASSERT_EQ(sink_.successes.size(), 3u);
  EXPECT_TRUE(Utilization(sink_.successes[0]).empty()) << "nothing to compare the first collection with";
  EXPECT_TRUE(Utilization(sink_.successes[1]).empty()) << "a new connection starts over";
  // Active 30 - 20 of total 300 - 200 between the second and third answers (ProbeScript).
  EXPECT_EQ(Utilization(sink_.successes[2]), (std::map<std::string, double>{{"normal", 0.1}}));
}

// The node is expensive for this budget: 1 ms of node time per 1 s interval, and the mailbox and
// memory scans cost 4 ms and 3 ms, so they must wait for their credit; the ETS scan is cheap.
TEST_F(PollerTest, ScansRunOnlyWhenTheirCreditAllowsAsScanBudgetPlans) {
  config_.cpu_budget = 0.001;
  probe_.processes = 10000;
  probe_.timings_us = {{"basic", 100}, {"mailboxes", 4000}, {"memory", 3000}, {"ets", 30}};
  constexpr int kCollections = 40;
  Steps(kCollections);

  const std::vector<Term> requests = link_.CollectRequests();
  ASSERT_EQ(requests.size(), static_cast<size_t>(kCollections));
  EXPECT_TRUE(RequestedScans(requests[0]).empty()) << "the first collection learns the node's size";
  // The same budget, fed what the fake node reported, plans the same scans.
  ScanBudget expected(config_.cpu_budget, config_.interval, {Scan::kMailboxes, Scan::kMemory, Scan::kEts},
                      config_.rpc_timeout);
  std::map<std::string, int> runs;
  for (int i = 1; i < kCollections; ++i) {
    std::vector<std::string> planned;
    for (Scan scan : expected.Plan(microseconds(probe_.timings_us["basic"]), {probe_.processes, probe_.ets_tables})) {
      planned.push_back(ScanName(scan));
      expected.Ran(scan, microseconds(probe_.timings_us[ScanName(scan)]),
                   scan == Scan::kEts ? probe_.ets_tables : probe_.processes);
    }
    EXPECT_EQ(RequestedScans(requests[i]), planned) << "collection " << i;
    for (const std::string& scan : RequestedScans(requests[i])) ++runs[scan];
  }
  EXPECT_EQ(runs["ets"], kCollections - 1) << "the cheap scan keeps the interval";
  EXPECT_GE(runs["memory"], 2);
  EXPECT_LT(runs["memory"] * 3, kCollections) << "the costly scans are spaced out";
  EXPECT_GE(runs["mailboxes"], 2);
  EXPECT_LT(runs["mailboxes"] * 3, kCollections);
}

TEST_F(PollerTest, MemoryScanSweepsAllProcessesFirstThenRotatesThroughSixSlices) {
  Steps(9);
  const std::vector<Term> requests = link_.CollectRequests();
  ASSERT_EQ(requests.size(), 9u);
  EXPECT_FALSE(Requested(requests[0], "memory"));
  std::vector<std::pair<int64_t, int64_t>> slices;  // {phase, slices} of each memory scan
  for (size_t i = 1; i < requests.size(); ++i) {
    ASSERT_TRUE(Requested(requests[i], "memory"));
    const Term& slice = MapValue(requests[i], "memory_slice");
    int64_t phase = -1, count = -1;
    ASSERT_TRUE(slice.items.size() == 2 && slice.items[0].AsInt(&phase) && slice.items[1].AsInt(&count));
    slices.emplace_back(phase, count);
  }
  EXPECT_EQ(slices, (std::vector<std::pair<int64_t, int64_t>>{{0, 1}, {1, 6}, {2, 6}, {3, 6}, {4, 6}, {5, 6}, {0, 6}, {1, 6}}));
}

TEST_F(PollerTest, MemoryScanRereadsThePidsOfTheLastRows) {
  Steps(3);
  const std::vector<Term> requests = link_.CollectRequests();
  ASSERT_EQ(requests.size(), 3u);
  auto pids = [](const Term& request) {
    std::vector<std::string> out;
    for (const Term& pid : MapValue(request, "memory_pids").items) out.push_back(pid.text);
    return out;
  };
  EXPECT_TRUE(pids(requests[0]).empty());
  EXPECT_TRUE(pids(requests[1]).empty()) << "the first answer ran no scan";
  // The second answer's memory rows, then its top mailbox.
  EXPECT_EQ(pids(requests[2]),
            (std::vector<std::string>{ProbeScript::RowPid(2, 2), ProbeScript::RowPid(2, 3), ProbeScript::RowPid(2, 1)}));
}

TEST_F(PollerTest, ScansThatDidNotRunKeepTheirLastValuesAndTimestamps) {
  // 1 ms of node time a second: every scan's prior fits at first; then the memory scan, which
  // reports 3 ms, waits for its credit while the mailbox and ETS scans keep the interval.
  config_.cpu_budget = 0.001;
  probe_.processes = 1000;
  probe_.timings_us = {{"basic", 100}, {"mailboxes", 40}, {"memory", 3000}, {"ets", 30}};
  Steps(6);
  const std::vector<Term> requests = link_.CollectRequests();
  ASSERT_EQ(requests.size(), 6u);
  ASSERT_TRUE(Requested(requests[1], "memory"));
  size_t skipped = 0;
  for (size_t i = 2; i < requests.size() && skipped == 0; ++i) {
    if (!Requested(requests[i], "memory")) skipped = i;
  }
  ASSERT_NE(skipped, 0u) << "the memory scan should have waited for its credit";
  ASSERT_TRUE(Requested(requests[skipped], "mailboxes"));

  const NodeSample& ran = sink_.successes[skipped - 1].sample;
  const NodeSample& carried = sink_.successes[skipped].sample;
  ASSERT_TRUE(carried.has_memory);
  ASSERT_EQ(carried.top_memory.size(), 2u);
  EXPECT_EQ(carried.top_memory[0].pid, ran.top_memory[0].pid);
  EXPECT_EQ(carried.top_memory[0].memory_bytes, ran.top_memory[0].memory_bytes);
  EXPECT_EQ(carried.scan_timestamps.at("memory"), ran.scan_timestamps.at("memory"));
  EXPECT_DOUBLE_EQ(carried.scan_node_seconds.at("memory"), 0.003);
  // The scans that ran carry this collection's values and time.
  EXPECT_GT(carried.scan_timestamps.at("mailboxes"), ran.scan_timestamps.at("mailboxes"));
  EXPECT_EQ(carried.top_mailbox.at(0).pid, ProbeScript::RowPid(static_cast<int>(skipped) + 1, 1));
}

TEST_F(PollerTest, GroupPassRunsAfterCollectWithTwiceTheRpcTimeout) {
  config_.process_groups = {{"workers", {}, {}, {"worker"}, {}}};
  link_.Always("beam_exporter_probe:groups", [](const Term&) {
    return ReplyArrived("groups",
                        L({KV("groups", L({T({B("workers"), I(7)})})), KV("scanned", I(100)), KV("total", I(100)),
                           KV("probe_timings_us", L({KV("groups", I(50))}))}),
                        kReplyBytes);
  });
  Steps(2);
  const std::vector<std::string> names = link_.CallNames();
  ASSERT_EQ(names.back(), "beam_exporter_probe:groups");
  EXPECT_EQ(names[names.size() - 2], "beam_exporter_probe:collect");
  EXPECT_EQ(link_.calls.back().timeout, 2 * config_.rpc_timeout);
  const NodeSample& sample = sink_.successes.back().sample;
  ASSERT_TRUE(sample.has_groups);
  EXPECT_EQ(sample.groups, (std::vector<std::pair<std::string, int64_t>>{{"workers", 7}}));
  EXPECT_DOUBLE_EQ(sample.scan_node_seconds.at("groups"), 0.00005);
}

TEST_F(PollerTest, TimeoutIsPublishedThenBacksOffReconnectsAndStartsOver) {
  Steps(3);
  link_.Fail("beam_exporter_probe:collect", FailureReason::kTimeout);
  Steps(1);
  EXPECT_EQ(sink_.failures, std::vector<FailureReason>{FailureReason::kTimeout});
  EXPECT_FALSE(link_.connected());
  EXPECT_EQ(clock_.retry_waits, std::vector<milliseconds>{milliseconds(250)});
  EXPECT_EQ(link_.idles.size(), 3u) << "no idle on a closed connection";

  const size_t before = link_.calls.size();
  Steps(1);
  EXPECT_EQ(link_.connects, 2);
  EXPECT_EQ(sink_.successes.size(), 4u);
  // A new connection checks the probe and starts a holder again, and its scans start over.
  const std::vector<std::string> names = link_.CallNames();
  EXPECT_EQ(std::vector<std::string>(names.begin() + static_cast<long>(before), names.end()),
            (std::vector<std::string>{"beam_exporter_probe:vsn", "beam_exporter_probe:start_holder",
                                      "beam_exporter_probe:collect"}));
  EXPECT_TRUE(RequestedScans(link_.CollectRequests().back()).empty());
}

TEST_F(PollerTest, BackoffDoublesUpToTwiceTheIntervalWhileConnectingFailsAndStartsOverAfterASuccess) {
  for (int i = 0; i < 5; ++i) link_.FailNextConnect(FailureReason::kEpmdUnreachable);
  Steps(6);
  link_.Fail("beam_exporter_probe:collect", FailureReason::kConnectionLost);
  Steps(1);
  EXPECT_EQ(clock_.retry_waits, (std::vector<milliseconds>{milliseconds(250), milliseconds(500), milliseconds(1000),
                                                           milliseconds(2000), milliseconds(2000), milliseconds(250)}));
  EXPECT_EQ(sink_.failures.size(), 6u);
  EXPECT_EQ(sink_.failures.back(), FailureReason::kConnectionLost);
}

TEST_F(PollerTest, ConnectionLostWhileIdleIsPublishedAndReconnectsAtOnce) {
  link_.LoseConnectionInNextIdle();
  Steps(2);
  EXPECT_EQ(sink_.failures, std::vector<FailureReason>{FailureReason::kConnectionLost});
  EXPECT_TRUE(clock_.retry_waits.empty());
  EXPECT_EQ(link_.connects, 2);
  EXPECT_EQ(sink_.successes.size(), 2u);
}

TEST_F(PollerTest, EveryFailureIsPublishedButLoggedOnlyWhenTheReasonChanges) {
  log::Init(log::Level::kInfo, log::Format::kLogfmt);
  for (int i = 0; i < 3; ++i) link_.FailNextConnect(FailureReason::kEpmdUnreachable);
  for (int i = 0; i < 2; ++i) link_.FailNextConnect(FailureReason::kNodeNotRegistered);
  ::testing::internal::CaptureStderr();
  Steps(6);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(sink_.failures, (std::vector<FailureReason>{FailureReason::kEpmdUnreachable, FailureReason::kEpmdUnreachable,
                                                        FailureReason::kEpmdUnreachable, FailureReason::kNodeNotRegistered,
                                                        FailureReason::kNodeNotRegistered}));
  auto count = [&log](const std::string& text) {
    size_t n = 0;
    for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("reason=epmd_unreachable"), 1u) << log;
  EXPECT_EQ(count("reason=node_not_registered"), 1u) << log;
  EXPECT_EQ(count("collecting from the node again"), 1u) << log;
}

}  // namespace
}  // namespace beam_exporter::beam
