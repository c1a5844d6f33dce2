// The poller's view of the node (the leveldb `Env` idea): connect, call functions, keep the
// connection alive between collections, close. NodeConnection (node_connection.h) is the real
// one, over erl_interface; the poller's unit tests script a fake that answers literal replies.
//
// Every operation reports its outcome as one value, NodeStatus: ok, or why not (the reason label
// of beam_exporter_beam_connect_errors_total) with a Status whose message says what happened.
// The poller hands the same value on up to its failure report, so an error on the way from the
// node to the metrics travels one way only. Pure: no sockets here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include <ei.h>

#include "collectors/beam/etf_term.h"
#include "exporter/status.h"

namespace beam_exporter::beam {

// Why connecting to or talking to the node failed: the `reason` label of
// beam_exporter_beam_connect_errors_total.
enum class FailureReason {
  kNone,
  kEpmdUnreachable,    // no EPMD answering on the target host (or the host does not resolve)
  kNodeNotRegistered,  // EPMD answers but does not know the node name
  kConnectRefused,     // EPMD knows the node but its distribution port refused the connection, or the
                       // node refused our name in the handshake (a connection under it still up)
  kCookieRejected,     // the node challenged us and the digests did not match: the cookies differ
  kTimeout,            // connect, handshake or RPC reply did not arrive in time
  kConnectionLost,     // the connection broke (node died, or dropped us)
  kReplyTooLarge,      // a reply exceeded max_reply_bytes
  kBadReply,           // a reply that does not have the expected shape, or {badrpc, _}
};
const char* FailureReasonName(FailureReason reason);

// Ok, or a failure: its reason (never kNone) and a Status saying what happened (for the log).
class NodeStatus {
 public:
  NodeStatus() = default;
  static NodeStatus Ok() { return NodeStatus(); }
  static NodeStatus Failed(FailureReason reason, Status status) { return NodeStatus(reason, std::move(status)); }

  bool ok() const { return reason_ == FailureReason::kNone; }
  FailureReason reason() const { return reason_; }
  const Status& status() const { return status_; }
  const std::string& message() const { return status_.message(); }

 private:
  NodeStatus(FailureReason reason, Status status) : reason_(reason), status_(std::move(status)) {}
  FailureReason reason_ = FailureReason::kNone;
  Status status_;
};

// What an RPC came back with: on success the Reply of {rex, Reply} and its encoded size.
struct RpcResult {
  NodeStatus status;
  Term reply;
  size_t reply_bytes = 0;

  bool ok() const { return status.ok(); }
};

// The result for a reply that arrived from `module:function` (`what`): {badrpc, Reason} is a
// kBadReply failure (the connection stays up), anything else is the reply.
RpcResult ReplyArrived(std::string_view what, Term reply, size_t reply_bytes);

class NodeLink {
 public:
  virtual ~NodeLink() = default;

  // Looks the node up and connects, closing a previous connection first.
  virtual NodeStatus Connect() = 0;
  virtual bool connected() const = 0;
  // Our node name for this connection, e.g. "beam_exporter_4711_a1b2c3_1@127.0.0.1".
  virtual const std::string& self_node() const = 0;

  // Calls module:function(Args...) on the node; `args` is the encoded argument list without a
  // version byte (as ei_rpc_to expects; probe_args.h builds them). {badrpc, R} is a kBadReply
  // failure that keeps the connection; every other failure (timeout, I/O error, reply too
  // large) closes it, so the caller reconnects.
  virtual RpcResult Rpc(const char* module, const char* function, const ei_x_buff& args,
                        std::chrono::milliseconds timeout) = 0;

  // Keeps the connection (answers ticks, discards stray messages) for `duration`, returning
  // early when `stop` becomes true; kConnectionLost (and closed) when the connection breaks.
  virtual NodeStatus Idle(std::chrono::milliseconds duration, const std::atomic<bool>& stop) = 0;

  // Closes the connection (the node sees the C node go down).
  virtual void Close() = 0;
};

}  // namespace beam_exporter::beam
