#include "collectors/beam/node_link.h"

namespace beam_exporter::beam {

const char* FailureReasonName(FailureReason reason) {
  switch (reason) {
    case FailureReason::kNone: return "none";
    case FailureReason::kEpmdUnreachable: return "epmd_unreachable";
    case FailureReason::kNodeNotRegistered: return "node_not_registered";
    case FailureReason::kConnectRefused: return "connect_refused";
    case FailureReason::kCookieRejected: return "cookie_rejected";
    case FailureReason::kTimeout: return "timeout";
    case FailureReason::kConnectionLost: return "connection_lost";
    case FailureReason::kReplyTooLarge: return "reply_too_large";
    case FailureReason::kBadReply: return "bad_reply";
  }
  return "unknown";
}

RpcResult ReplyArrived(std::string_view what, Term reply, size_t reply_bytes) {
  RpcResult result;
  if (reply.kind == Term::Kind::kTuple && reply.items.size() == 2 && reply.items[0].IsAtom("badrpc")) {
    std::string why;
    if (!reply.items[1].AsText(&why)) why = "(see the node's log)";
    result.status = NodeStatus::Failed(FailureReason::kBadReply,
                                       Status::Unavailable("rpc " + std::string(what) + ": badrpc " + why));
  }
  result.reply = std::move(reply);
  result.reply_bytes = reply_bytes;
  return result;
}

}  // namespace beam_exporter::beam
