#include "collectors/beam/node_link.h"

#include <gtest/gtest.h>

#include "tests/unit/beam/term_builders.h"

namespace beam_exporter::beam {
namespace {

using namespace testing;  // NOLINT: term builders

TEST(NodeLinkTest, ReplyThatArrivedIsTheResultWithItsSize) {
  RpcResult result = ReplyArrived("erlang:memory", L({KV("total", I(42))}), 57);
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result.status.reason(), FailureReason::kNone);
  EXPECT_EQ(result.reply_bytes, 57u);
  ASSERT_NE(result.reply.Find("total"), nullptr);
}

TEST(NodeLinkTest, BadrpcIsABadReplyNamingTheCallAndTheReason) {
  RpcResult result = ReplyArrived("beam_exporter_probe:vsn", T({A("badrpc"), A("undef")}), 30);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.status.reason(), FailureReason::kBadReply);
  EXPECT_EQ(result.status.message(), "rpc beam_exporter_probe:vsn: badrpc undef");
  EXPECT_EQ(result.reply_bytes, 30u) << "the reply's size counts though it is an error";
}

TEST(NodeLinkTest, BadrpcWithoutATextReasonPointsAtTheNodesLog) {
  RpcResult result = ReplyArrived("m:f", T({A("badrpc"), T({A("EXIT"), I(1)})}), 30);
  EXPECT_EQ(result.status.reason(), FailureReason::kBadReply);
  EXPECT_EQ(result.status.message(), "rpc m:f: badrpc (see the node's log)");
}

TEST(NodeLinkTest, ATupleThatOnlyLooksLikeBadrpcIsAReply) {
  EXPECT_TRUE(ReplyArrived("m:f", T({A("badrpc"), A("a"), A("b")}), 1).ok());
  EXPECT_TRUE(ReplyArrived("m:f", T({A("ok"), A("undef")}), 1).ok());
}

TEST(NodeLinkTest, FailureReasonsAreNamedAsTheMetricLabel) {
  EXPECT_STREQ(FailureReasonName(FailureReason::kEpmdUnreachable), "epmd_unreachable");
  EXPECT_STREQ(FailureReasonName(FailureReason::kCookieRejected), "cookie_rejected");
  EXPECT_STREQ(FailureReasonName(FailureReason::kBadReply), "bad_reply");
}

TEST(NodeLinkTest, NodeStatusIsOkUnlessItCarriesAReason) {
  EXPECT_TRUE(NodeStatus::Ok().ok());
  NodeStatus failed = NodeStatus::Failed(FailureReason::kTimeout, Status::DeadlineExceeded("no reply within 200ms"));
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.reason(), FailureReason::kTimeout);
  EXPECT_EQ(failed.status().code(), Status::Code::kDeadlineExceeded);
  EXPECT_EQ(failed.message(), "no reply within 200ms");
}

}  // namespace
}  // namespace beam_exporter::beam
