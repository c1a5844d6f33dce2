// One connection to the target node as a hidden C node, over erl_interface (ei).
//
// Threading: not thread-safe. One thread (the collector's poll thread) owns the object and
// does all I/O on the fd: RPCs, and Idle() between collections so that net ticks are
// answered (ei only answers a tick inside a receive call; a node drops a C node that does not
// answer within net_ticktime).
//
// RPCs go to `rex` with ei_rpc_to and the reply is awaited with a deadline and a size cap
// (the length header is peeked before ei reads the message). {rex, Reply} carries no
// reference, so after a timeout a late reply could be taken for the next one: the connection
// is then closed as unclean and re-established by the caller.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <ei.h>

#include "collectors/beam/etf_term.h"
#include "collectors/beam/handshake_reply.h"
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

struct ConnectionOptions {
  std::string node;    // "app@host"
  std::string cookie;  // never logged
  std::chrono::milliseconds connect_timeout{2000};
  int64_t max_reply_bytes = 4 << 20;
};

class NodeConnection {
 public:
  explicit NodeConnection(ConnectionOptions options);
  ~NodeConnection();
  NodeConnection(const NodeConnection&) = delete;
  NodeConnection& operator=(const NodeConnection&) = delete;

  // Looks the node up in EPMD and connects. *detail says what failed (for the log).
  FailureReason Connect(std::string* detail);
  bool connected() const { return fd_ >= 0; }
  // Our node name for this connection, e.g. "beam_exporter_4711_a1b2c3_1@127.0.0.1".
  const std::string& self_node() const { return self_node_; }

  // Calls module:function(Args...) on the node; `args` is the encoded argument list without a
  // version byte (as ei_rpc_to expects). On success *reply is the Reply of {rex, Reply} and
  // *reply_bytes its encoded size. {badrpc, R} is an error (kBadReply) that keeps the
  // connection; timeouts and I/O errors close it.
  Status Rpc(const char* module, const char* function, const ei_x_buff& args, std::chrono::milliseconds timeout,
             Term* reply, size_t* reply_bytes, FailureReason* reason);

  // Reads from the connection for `duration` (answering ticks, discarding stray messages),
  // returning early when *stop becomes true or the connection breaks (then kConnectionLost).
  FailureReason Idle(std::chrono::milliseconds duration, const std::atomic<bool>& stop);

  // Closes the connection (the node sees the C node go down).
  void Close();

 private:
  // Why ei_connect failed (erl_errno `err`), from what the node sent before it did.
  FailureReason HandshakeFailed(int err, const HandshakeReply& reply, int port, std::string* detail);
  enum class Wait { kMessage, kTimeout, kError, kTooLarge };
  Wait WaitForMessage(std::chrono::steady_clock::time_point deadline, int64_t max_bytes);

  ConnectionOptions options_;
  std::string alive_;  // target alive name
  std::string host_;   // target host
  std::string self_base_;  // unique per process start
  int generation_ = 0;     // bumped after an unclean close, so a new name is used next time
  bool unclean_ = false;
  std::string self_node_;
  ei_cnode cnode_{};
  int fd_ = -1;
};

}  // namespace beam_exporter::beam
