#include "collectors/beam/probe_args.h"

#include <gtest/gtest.h>

#include <string>

#include "collectors/beam/etf_term.h"
#include "tests/unit/beam/rpc_args_reader.h"

namespace beam_exporter::beam {
namespace {

using testing::MapValue;

Term Decoded(const RpcArgs& args) { return testing::DecodedArgs(args.buff()); }

TEST(ProbeArgsTest, AtomArgsAreAListOfAtomsAndNoneIsTheEmptyList) {
  RpcArgs none, one;
  EncodeAtomArgs({}, &none);
  EncodeAtomArgs({"runtime"}, &one);
  Term n = Decoded(none), o = Decoded(one);
  EXPECT_EQ(n.kind, Term::Kind::kList);
  EXPECT_TRUE(n.items.empty());
  ASSERT_EQ(o.items.size(), 1u);
  EXPECT_TRUE(o.items[0].IsAtom("runtime"));
}

TEST(ProbeArgsTest, CollectArgsCarryTheSliceAndThePreviousRowsEvenWhenThereAreNone) {
  for (const std::vector<std::string>& pids : {std::vector<std::string>{}, std::vector<std::string>{"<0.1.0>", "<0.9.0>"}}) {
    CollectRequest request;
    request.top_n = 3;
    request.ets_top_n = 7;
    request.slice_phase = 2;
    request.slices = 6;
    request.memory_pids = pids;
    RpcArgs args;
    EncodeCollectArgs(request, &args);
    Term t = Decoded(args);
    ASSERT_EQ(t.items.size(), 1u);
    const Term& opts = t.items[0];
    ASSERT_EQ(opts.kind, Term::Kind::kMap);
    int64_t v = 0;
    EXPECT_TRUE(MapValue(opts, "top_n").AsInt(&v) && v == 3);
    EXPECT_TRUE(MapValue(opts, "ets_top_n").AsInt(&v) && v == 7);
    const Term& slice = MapValue(opts, "memory_slice");
    ASSERT_EQ(slice.items.size(), 2u);
    EXPECT_TRUE(slice.items[0].AsInt(&v) && v == 2);
    EXPECT_TRUE(slice.items[1].AsInt(&v) && v == 6);
    const Term& rows = MapValue(opts, "memory_pids");
    EXPECT_EQ(rows.kind, Term::Kind::kList);
    ASSERT_EQ(rows.items.size(), pids.size());
    for (size_t i = 0; i < pids.size(); ++i) {
      EXPECT_EQ(rows.items[i].kind, Term::Kind::kBinary);
      EXPECT_EQ(rows.items[i].text, pids[i]);
    }
  }
}

TEST(ProbeArgsTest, CollectArgsNameTheScansToRunAsAtomsLeavingOutTheGroupPass) {
  for (const auto& [scans, expected] :
       {std::pair{std::vector<Scan>{}, std::vector<std::string>{}},
        std::pair{std::vector<Scan>{Scan::kEts, Scan::kGroups, Scan::kMailboxes}, std::vector<std::string>{"ets", "mailboxes"}},
        std::pair{std::vector<Scan>{Scan::kMemory}, std::vector<std::string>{"memory"}}}) {
    CollectRequest request;
    request.scans = scans;
    RpcArgs args;
    EncodeCollectArgs(request, &args);
    const Term decoded = Decoded(args);
    const Term& sent = MapValue(decoded.items[0], "scans");
    EXPECT_EQ(sent.kind, Term::Kind::kList);
    ASSERT_EQ(sent.items.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) EXPECT_TRUE(sent.items[i].IsAtom(expected[i])) << expected[i];
  }
}

TEST(ProbeArgsTest, GroupsArgsKeepEveryMatcherListAlsoWhenEmpty) {
  std::vector<ProcessGroup> groups = {{"phoenix_channel", {"Elixir.Phoenix.Channel"}, {{"join", 3}}, {}, {}},
                                      {"cowboy_websocket", {}, {}, {"cowboy_websocket"}, {}},
                                      {"phoenix_socket", {}, {}, {}, {"phoenix_channel"}}};
  RpcArgs args;
  EncodeGroupsArgs(std::chrono::milliseconds(2000), groups, &args);
  Term t = Decoded(args);
  ASSERT_EQ(t.items.size(), 1u);
  int64_t budget = 0;
  EXPECT_TRUE(MapValue(t.items[0], "budget_ms").AsInt(&budget) && budget == 2000);
  const Term& list = MapValue(t.items[0], "groups");
  ASSERT_EQ(list.items.size(), 3u);
  const Term& channel = list.items[0];
  ASSERT_EQ(channel.kind, Term::Kind::kTuple);
  ASSERT_EQ(channel.items.size(), 5u);  // {Name, [Module], [Label], [{Function, Arity}], [HostsOf]}
  EXPECT_EQ(channel.items[0].text, "phoenix_channel");
  EXPECT_TRUE(channel.items[1].items.empty());
  ASSERT_EQ(channel.items[2].items.size(), 1u);
  EXPECT_EQ(channel.items[2].items[0].text, "Elixir.Phoenix.Channel");
  ASSERT_EQ(channel.items[3].items.size(), 1u);
  int64_t arity = 0;
  EXPECT_EQ(channel.items[3].items[0].items[0].text, "join");
  EXPECT_TRUE(channel.items[3].items[0].items[1].AsInt(&arity) && arity == 3);
  EXPECT_TRUE(channel.items[4].items.empty());
  const Term& cowboy = list.items[1];
  ASSERT_EQ(cowboy.items.size(), 5u);
  ASSERT_EQ(cowboy.items[1].items.size(), 1u);
  EXPECT_EQ(cowboy.items[1].items[0].text, "cowboy_websocket");
  EXPECT_TRUE(cowboy.items[2].items.empty());
  EXPECT_TRUE(cowboy.items[3].items.empty());
  const Term& socket = list.items[2];
  ASSERT_EQ(socket.items.size(), 5u);
  ASSERT_EQ(socket.items[4].items.size(), 1u);
  EXPECT_EQ(socket.items[4].items[0].text, "phoenix_channel");
}

}  // namespace
}  // namespace beam_exporter::beam
