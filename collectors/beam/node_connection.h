// One connection to the target node as a hidden C node, over erl_interface (ei): the real
// NodeLink (node_link.h).
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

#include "collectors/beam/handshake_reply.h"
#include "collectors/beam/node_link.h"

namespace beam_exporter::beam {

struct ConnectionOptions {
  std::string node;    // "app@host"
  std::string cookie;  // never logged
  std::chrono::milliseconds connect_timeout{2000};
  int64_t max_reply_bytes = 4 << 20;
};

class NodeConnection final : public NodeLink {
 public:
  explicit NodeConnection(ConnectionOptions options);
  ~NodeConnection() override;
  NodeConnection(const NodeConnection&) = delete;
  NodeConnection& operator=(const NodeConnection&) = delete;

  // Looks the node up in EPMD and connects; a failure's message says what failed (for the log).
  NodeStatus Connect() override;
  bool connected() const override { return fd_ >= 0; }
  const std::string& self_node() const override { return self_node_; }

  // The reply is awaited with the deadline and the size cap described above.
  RpcResult Rpc(const char* module, const char* function, const ei_x_buff& args,
                std::chrono::milliseconds timeout) override;

  // Reads in short slices, so that a stop is seen within 100 ms.
  NodeStatus Idle(std::chrono::milliseconds duration, const std::atomic<bool>& stop) override;

  void Close() override;

 private:
  // Why ei_connect failed (erl_errno `err`), from what the node sent before it did.
  NodeStatus HandshakeFailed(int err, const HandshakeReply& reply, int port);
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
