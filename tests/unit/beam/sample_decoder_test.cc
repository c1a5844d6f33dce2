#include "collectors/beam/sample_decoder.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/unit/beam/term_builders.h"

namespace beam_exporter::beam {
namespace {

using namespace testing;  // NOLINT: term builders

Term BasicItems(std::vector<Term> extra) {
  std::vector<Term> items = {
      KV("memory", L({KV("total", I(1000)), KV("processes", I(600)), KV("processes_used", I(550)),
                      KV("system", I(400)), KV("atom", I(50)), KV("atom_used", I(40)), KV("binary", I(30)),
                      KV("code", I(100)), KV("ets", I(20))})),
      KV("system_info", L({KV("process_count", I(42)), KV("schedulers", I(2)), KV("logical_processors", A("unknown")),
                           KV("otp_release", S("25")), KV("version", S("13.1.5")), KV("wordsize", I(8))})),
      KV("statistics", L({KV("run_queue", I(3)), KV("run_queue_lengths_all", S(std::string("\1\2\7\0", 4))),
                          KV("reductions", I(123)), KV("context_switches", I(9)), KV("gc_count", I(4)),
                          KV("gc_words_reclaimed", I(1000)), KV("io_input_bytes", I(11)), KV("io_output_bytes", I(12)),
                          KV("runtime_ms", I(1500)), KV("wall_clock_ms", I(60000))})),
      KV("dist_peers", I(3)),
      KV("scheduler_wall_time", L({T({A("normal"), I(50), I(100)}), T({A("dirty_cpu"), I(0), I(100)})})),
  };
  for (Term& t : extra) items.push_back(std::move(t));
  return L(std::move(items));
}

Term ProbeReply() {
  std::vector<Term> extra = {
      KV("mailbox_histogram", T({T({I(90), I(3), I(2), I(1), I(0), I(0), I(0), I(1)}), I(250000)})),
      KV("top_mailbox", L({T({B("busy"), B("<0.90.0>"), I(200000), I(4096), I(77), B("gen_server:loop/7")})})),
      KV("top_memory", L({T({B("code_server"), B("<0.50.0>"), I(196920)})})),
      KV("ets", T({L({T({B("sessions"), B("Elixir.MyApp.Cache"), A("set"), A("public"), I(1234), I(90000)})}),
                   T({I(20), I(300), I(40000)})})),
      KV("probe_timings_us", L({KV("total", I(1500))})),
  };
  return BasicItems(std::move(extra));
}

Term GroupsReply() {
  return L({KV("groups", L({T({B("phoenix_channel"), I(7)})})), KV("scanned", I(4096)), KV("total", I(5000)),
            KV("probe_timings_us", L({KV("groups", I(9000))}))});
}

TEST(SampleDecoderTest, DecodesEveryPartOfTheProbeReply) {
  NodeSample s;
  ASSERT_TRUE(DecodeProbeReply(ProbeReply(), &s).ok());
  EXPECT_EQ(s.memory.at("processes_used"), 550);
  EXPECT_EQ(s.system_info.at("process_count"), 42);
  EXPECT_EQ(s.system_info.count("logical_processors"), 0u);  // `unknown` is left out
  EXPECT_EQ(s.otp_release, "25");
  EXPECT_EQ(s.erts_version, "13.1.5");
  EXPECT_EQ(s.statistics.at("wall_clock_ms"), 60000);
  EXPECT_EQ(s.dirty_cpu_run_queue, 7);
  EXPECT_EQ(s.dirty_io_run_queue, 0);
  EXPECT_EQ(s.connected_nodes, 3);
  ASSERT_EQ(s.scheduler_wall_time.size(), 2u);
  EXPECT_EQ(s.scheduler_wall_time[0].type, "normal");
  EXPECT_EQ(s.scheduler_wall_time[0].active, 50);

  ASSERT_TRUE(s.has_mailboxes);
  EXPECT_EQ(s.mailbox_buckets[0], 90);
  EXPECT_EQ(s.mailbox_buckets[7], 1);
  EXPECT_EQ(s.mailbox_messages, 250000);
  ASSERT_EQ(s.top_mailbox.size(), 1u);
  EXPECT_EQ(s.top_mailbox[0].process, "busy");
  EXPECT_EQ(s.top_mailbox[0].pid, "<0.90.0>");
  EXPECT_EQ(s.top_mailbox[0].message_queue_len, 200000);
  EXPECT_EQ(s.top_mailbox[0].current_function, "gen_server:loop/7");
  ASSERT_TRUE(s.has_memory);
  ASSERT_EQ(s.top_memory.size(), 1u);
  EXPECT_EQ(s.top_memory[0].memory_bytes, 196920);
  EXPECT_EQ(s.top_memory[0].process, "code_server");

  ASSERT_TRUE(s.has_ets);
  ASSERT_EQ(s.ets.size(), 1u);
  EXPECT_EQ(s.ets[0].owner, "Elixir.MyApp.Cache");
  EXPECT_EQ(s.ets[0].type, "set");
  EXPECT_EQ(s.ets_other.tables, 20);

  EXPECT_FALSE(s.has_groups);
  EXPECT_EQ(s.probe_timings_us.at("total"), 1500);
}

// The exporter asks for the scans its budget allows; the reply holds only theirs.
TEST(SampleDecoderTest, ACollectReplyHoldsOnlyTheScansAskedFor) {
  for (const char* left_out : {"top_memory", "ets"}) {
    Term reply = ProbeReply();
    std::erase_if(reply.items, [&](const Term& item) { return item.items[0].IsAtom(left_out); });
    NodeSample s;
    ASSERT_TRUE(DecodeProbeReply(reply, &s).ok()) << left_out;
    EXPECT_TRUE(s.has_mailboxes);
    EXPECT_EQ(s.has_memory, std::string(left_out) != "top_memory");
    EXPECT_EQ(s.has_ets, std::string(left_out) != "ets");
  }
  NodeSample basics_only;
  ASSERT_TRUE(DecodeProbeReply(BasicItems({}), &basics_only).ok());
  EXPECT_FALSE(basics_only.has_mailboxes || basics_only.has_memory || basics_only.has_ets);
  EXPECT_EQ(basics_only.system_info.at("process_count"), 42);
}

TEST(SampleDecoderTest, AMailboxHistogramWithoutItsTopRowsIsAnError) {
  Term reply = ProbeReply();
  std::erase_if(reply.items, [](const Term& item) { return item.items[0].IsAtom("top_mailbox"); });
  NodeSample s;
  Status st = DecodeProbeReply(reply, &s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("top_mailbox"), std::string::npos);
}

TEST(SampleDecoderTest, GroupsReplyAddsGroupsAndCoverage) {
  NodeSample s;
  ASSERT_TRUE(DecodeProbeReply(ProbeReply(), &s).ok());
  ASSERT_TRUE(DecodeGroupsReply(GroupsReply(), &s).ok());
  ASSERT_TRUE(s.has_groups);
  EXPECT_EQ(s.groups.at(0), (std::pair<std::string, int64_t>{"phoenix_channel", 7}));
  EXPECT_EQ(s.groups_scanned, 4096);
  EXPECT_EQ(s.groups_total, 5000);
  EXPECT_EQ(s.probe_timings_us.at("groups"), 9000);  // what the budget charges the pass (scan_budget.h)
  EXPECT_TRUE(s.has_mailboxes);  // the collection's part stays
  EXPECT_EQ(s.top_memory.size(), 1u);

  Term bad = GroupsReply();
  bad.items.pop_back();  // probe_timings_us: optional
  bad.items.pop_back();  // total: required
  NodeSample t;
  Status st = DecodeGroupsReply(bad, &t);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("groups"), std::string::npos);
  EXPECT_FALSE(t.has_groups);
}

TEST(SampleDecoderTest, SchedulerWallTimeUndefinedLeavesItEmpty) {
  Term reply = ProbeReply();
  for (Term& item : reply.items) {
    if (item.items[0].IsAtom("scheduler_wall_time")) item.items[1] = A("undefined");
  }
  NodeSample s;
  ASSERT_TRUE(DecodeProbeReply(reply, &s).ok());
  EXPECT_TRUE(s.scheduler_wall_time.empty());
}

TEST(SampleDecoderTest, WrongShapesAreErrorsNamingTheItem) {
  NodeSample s;
  Status st = DecodeProbeReply(A("ok"), &s);
  EXPECT_FALSE(st.ok());

  Term reply = ProbeReply();
  for (Term& item : reply.items) {
    if (item.items[0].IsAtom("top_mailbox")) item.items[1] = L({T({B("only"), B("three"), I(1)})});
  }
  st = DecodeProbeReply(reply, &s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("top_mailbox"), std::string::npos);

  Term missing = ProbeReply();
  std::erase_if(missing.items, [](const Term& item) { return item.items[0].IsAtom("statistics"); });
  st = DecodeProbeReply(missing, &s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("statistics"), std::string::npos);
}

std::map<std::string, Term> BifReplies() {
  std::map<std::string, Term> r;
  r["memory"] = L({KV("total", I(1000)), KV("processes", I(600)), KV("processes_used", I(550))});
  r["nodes"] = L({A("beam_exporter_1@127.0.0.1"), A("other@127.0.0.1")});
  for (const BifCall& call : BifCalls()) {
    if (call.function == "system_info") r[call.key] = I(2);
  }
  r["system_info:otp_release"] = S("25");
  r["system_info:version"] = S("13.1.5");
  r["system_info:logical_processors"] = A("unknown");
  r["statistics:run_queue"] = I(1);
  r["statistics:run_queue_lengths_all"] = S(std::string("\0\1\2\3", 4));
  r["statistics:reductions"] = T({I(5000), I(10)});
  r["statistics:context_switches"] = T({I(77), I(0)});
  r["statistics:garbage_collection"] = T({I(8), I(900), I(0)});
  r["statistics:io"] = T({T({A("input"), I(100)}), T({A("output"), I(200)})});
  r["statistics:runtime"] = T({I(250), I(1)});
  r["statistics:wall_clock"] = T({I(9000), I(1)});
  return r;
}

TEST(SampleDecoderTest, BifRepliesGiveTheBasicItemsOnly) {
  NodeSample s;
  ASSERT_TRUE(DecodeBifReplies(BifReplies(), &s).ok());
  EXPECT_EQ(s.memory.at("total"), 1000);
  EXPECT_EQ(s.connected_nodes, 2);
  EXPECT_EQ(s.system_info.at("schedulers"), 2);
  EXPECT_EQ(s.otp_release, "25");
  EXPECT_EQ(s.statistics.at("reductions"), 5000);
  EXPECT_EQ(s.statistics.at("gc_words_reclaimed"), 900);
  EXPECT_EQ(s.statistics.at("io_output_bytes"), 200);
  EXPECT_EQ(s.statistics.at("wall_clock_ms"), 9000);
  EXPECT_EQ(s.dirty_cpu_run_queue, 2);
  EXPECT_EQ(s.dirty_io_run_queue, 3);
  EXPECT_FALSE(s.has_mailboxes);
  EXPECT_FALSE(s.has_memory);
  EXPECT_FALSE(s.has_groups);
  EXPECT_FALSE(s.has_ets);
}

TEST(SampleDecoderTest, BifReplyWithWrongShapeOrMissingIsAnError) {
  auto replies = BifReplies();
  replies["statistics:io"] = A("oops");
  NodeSample s;
  Status st = DecodeBifReplies(replies, &s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("statistics(io)"), std::string::npos);

  replies = BifReplies();
  replies.erase("statistics:runtime");
  EXPECT_FALSE(DecodeBifReplies(replies, &s).ok());
}

}  // namespace
}  // namespace beam_exporter::beam
