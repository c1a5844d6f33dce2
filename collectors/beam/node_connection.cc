#include "collectors/beam/node_connection.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <random>

#include "collectors/beam/beam_config.h"
#include "collectors/beam/epmd_lookup.h"
#include "collectors/beam/handshake_reply.h"

// libei's own TCP socket callbacks (ei_portio.c). Not declared in ei.h, but exported by libei.a;
// our callbacks are these with a read that also records the handshake (below).
extern "C" ei_socket_callbacks ei_default_socket_callbacks;

namespace beam_exporter::beam {
namespace {

using Clock = std::chrono::steady_clock;

// ei_init() must run once per process before any other ei call; a C node that writes to a
// connection the peer closed would otherwise die of SIGPIPE.
void InitEiOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    signal(SIGPIPE, SIG_IGN);
    ei_init();
  });
}

// While a thread runs a handshake, what ei reads from the node is appended here, so that a failed
// handshake can be told apart (handshake_reply.h). Reads outside a handshake are not recorded.
thread_local std::string* handshake_received = nullptr;

int RecordingRead(void* ctx, char* buf, ssize_t* len, unsigned tmo) {
  int result = ei_default_socket_callbacks.read(ctx, buf, len, tmo);
  if (result == 0 && handshake_received != nullptr && *len > 0) handshake_received->append(buf, static_cast<size_t>(*len));
  return result;
}

ei_socket_callbacks* RecordingCallbacks() {
  static ei_socket_callbacks callbacks = [] {
    ei_socket_callbacks c = ei_default_socket_callbacks;
    c.read = RecordingRead;
    return c;
  }();
  return &callbacks;
}

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

std::string RandomSuffix() {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::uniform_int_distribution<size_t> pick(0, sizeof(kChars) - 2);
  std::string s;
  for (int i = 0; i < 6; ++i) s.push_back(kChars[pick(rd)]);
  return s;
}

// A dist message is a 4-byte big-endian length then the payload (length 0 = tick). The
// payload of a message to us carries a control tuple of ~100 bytes before the reply itself.
constexpr int64_t kControlOverhead = 1024;

// A failure to connect: timeouts are DeadlineExceeded, the rest Unavailable.
NodeStatus ConnectFailed(FailureReason reason, std::string detail) {
  return NodeStatus::Failed(reason, reason == FailureReason::kTimeout ? Status::DeadlineExceeded(std::move(detail))
                                                                      : Status::Unavailable(std::move(detail)));
}

}  // namespace

NodeConnection::NodeConnection(ConnectionOptions options) : options_(std::move(options)) {
  InitEiOnce();
  SplitNodeName(options_.node, &alive_, &host_);
  self_base_ = "beam_exporter_" + std::to_string(getpid()) + "_" + RandomSuffix();
}

NodeConnection::~NodeConnection() { Close(); }

NodeStatus NodeConnection::Connect() {
  Close();
  if (unclean_) {
    // The node may still believe the old link is up; a handshake under the same name would be
    // refused ("alive"), so the next connection uses a new name.
    ++generation_;
    unclean_ = false;
  }
  EpmdResult epmd = LookupNodePort(host_, alive_, options_.connect_timeout);
  switch (epmd.outcome) {
    case EpmdResult::Outcome::kFound: break;
    case EpmdResult::Outcome::kUnreachable: return ConnectFailed(FailureReason::kEpmdUnreachable, epmd.detail);
    case EpmdResult::Outcome::kNotRegistered: return ConnectFailed(FailureReason::kNodeNotRegistered, epmd.detail);
    case EpmdResult::Outcome::kTimeout: return ConnectFailed(FailureReason::kTimeout, epmd.detail);
  }
  std::string alive = self_base_ + "_" + std::to_string(generation_);
  self_node_ = alive + "@" + host_;
  if (ei_connect_xinit_ussi(&cnode_, host_.c_str(), alive.c_str(), self_node_.c_str(), nullptr,
                            options_.cookie.c_str(), static_cast<unsigned>(time(nullptr)), RecordingCallbacks(),
                            sizeof(ei_socket_callbacks), nullptr) < 0) {
    return ConnectFailed(FailureReason::kConnectionLost, "ei_connect_xinit_ussi failed");
  }
  std::string host = host_;
  std::string received;
  handshake_received = &received;
  int fd = ei_connect_host_port_tmo(&cnode_, host.data(), epmd.port,
                                    static_cast<unsigned>(options_.connect_timeout.count()));
  int err = erl_errno;
  handshake_received = nullptr;
  if (fd >= 0) {
    fd_ = fd;
    return NodeStatus::Ok();
  }
  return HandshakeFailed(err, ParseHandshakeReply(received), epmd.port);
}

NodeStatus NodeConnection::HandshakeFailed(int err, const HandshakeReply& reply, int port) {
  const std::string where = options_.node + " (port " + std::to_string(port) + ")";
  if (err != EIO && err != ETIMEDOUT) {  // the TCP connect itself failed
    return ConnectFailed(FailureReason::kConnectRefused, "connect to " + where + ": " + std::strerror(err));
  }
  // From here a handshake was under way. The node may still take up an abandoned one later (a
  // frozen node does, once thawed) and then holds our name: the next attempt uses a new one.
  unclean_ = true;
  if (reply.StatusRefused()) {
    return ConnectFailed(FailureReason::kConnectRefused,
                         "the handshake with " + where + " was refused: status " + reply.status +
                             (reply.status == "not_allowed" ? " (the node's net_kernel does not allow us)"
                                                            : " (the node has a connection or handshake under our name)"));
  }
  if (err == ETIMEDOUT) {
    return ConnectFailed(FailureReason::kTimeout,
                         "no answer from " + where + " within connect_timeout (" +
                             (reply.got_challenge ? "after the node's challenge"
                              : reply.got_status  ? "after the node's status"
                                                  : "nothing received") + ")");
  }
  if (reply.CookieMismatch()) {
    return ConnectFailed(FailureReason::kCookieRejected,
                         reply.got_ack ? "the node's digest does not match our cookie: the cookies differ"
                                       : "the node rejected our digest: the cookies differ");
  }
  return ConnectFailed(FailureReason::kConnectionLost,
                       "the connection to " + where + " closed during the handshake (" +
                           (reply.got_status ? "after the node's status" : "before the node answered") + ")");
}

void NodeConnection::Close() {
  if (fd_ >= 0) {
    ei_close_connection(fd_);
    fd_ = -1;
  }
}

NodeConnection::Wait NodeConnection::WaitForMessage(Clock::time_point deadline, int64_t max_bytes) {
  pollfd p{fd_, POLLIN, 0};
  for (;;) {
    int r = poll(&p, 1, RemainingMs(deadline));
    if (r == 0) return Wait::kTimeout;
    if (r < 0) {
      if (errno == EINTR) continue;
      return Wait::kError;
    }
    break;
  }
  unsigned char header[4];
  ssize_t n = recv(fd_, header, sizeof header, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return Wait::kError;  // orderly close by the peer
  if (n == 4) {
    int64_t length = int64_t{header[0]} << 24 | header[1] << 16 | header[2] << 8 | header[3];
    if (length > max_bytes + kControlOverhead) return Wait::kTooLarge;
  }
  return Wait::kMessage;
}

RpcResult NodeConnection::Rpc(const char* module, const char* function, const ei_x_buff& args,
                              std::chrono::milliseconds timeout) {
  const std::string what = std::string(module) + ":" + function;
  // Every failure but {badrpc, _} leaves the connection in doubt (a late reply could be taken
  // for the next one), so it is closed.
  auto fail = [&](FailureReason r, Status s) {
    unclean_ = true;
    Close();
    RpcResult result;
    result.status = NodeStatus::Failed(r, std::move(s));
    return result;
  };
  if (fd_ < 0) return fail(FailureReason::kConnectionLost, Status::Unavailable("not connected"));
  const auto deadline = Clock::now() + timeout;
  if (ei_rpc_to(&cnode_, fd_, const_cast<char*>(module), const_cast<char*>(function), args.buff, args.index) < 0) {
    return fail(FailureReason::kConnectionLost, Status::Unavailable("sending rpc " + what + " failed"));
  }
  ei_x_buff x;
  ei_x_new(&x);
  struct Free {
    ei_x_buff* x;
    ~Free() { ei_x_free(x); }
  } free_x{&x};
  for (;;) {
    switch (WaitForMessage(deadline, options_.max_reply_bytes)) {
      case Wait::kTimeout:
        return fail(FailureReason::kTimeout,
                    Status::DeadlineExceeded("rpc " + what + ": no reply within " + std::to_string(timeout.count()) + "ms"));
      case Wait::kError:
        return fail(FailureReason::kConnectionLost, Status::Unavailable("rpc " + what + ": connection closed"));
      case Wait::kTooLarge:
        return fail(FailureReason::kReplyTooLarge,
                    Status::ResourceExhausted("rpc " + what + ": reply larger than max_reply_bytes"));
      case Wait::kMessage:
        break;
    }
    erlang_msg msg;
    x.index = 0;
    int got = ei_xreceive_msg_tmo(fd_, &msg, &x, static_cast<unsigned>(std::max(1, RemainingMs(deadline))));
    if (got == ERL_TICK) continue;
    if (got == ERL_ERROR || got == ERL_TIMEOUT) {
      if (erl_errno == ETIMEDOUT) {
        return fail(FailureReason::kTimeout, Status::DeadlineExceeded("rpc " + what + ": reply timed out"));
      }
      return fail(FailureReason::kConnectionLost,
                  Status::Unavailable("rpc " + what + ": receive failed: " + std::strerror(erl_errno)));
    }
    if (msg.msgtype != ERL_SEND) continue;  // links/exits are not for us
    Term message;
    Status s = DecodeEtf(std::string_view(x.buff, static_cast<size_t>(x.index)), &message);
    if (!s.ok()) return fail(FailureReason::kConnectionLost, Status::InvalidArgument("rpc " + what + ": " + s.message()));
    if (message.kind != Term::Kind::kTuple || message.items.size() != 2 || !message.items[0].IsAtom("rex")) {
      continue;  // a stray message to our pid
    }
    return ReplyArrived(what, std::move(message.items[1]), static_cast<size_t>(x.index));
  }
}

NodeStatus NodeConnection::Idle(std::chrono::milliseconds duration, const std::atomic<bool>& stop) {
  const auto end = Clock::now() + duration;
  ei_x_buff x;
  ei_x_new(&x);
  bool broken = false;
  while (fd_ >= 0 && !stop.load() && Clock::now() < end && !broken) {
    // Short slices keep Stop() prompt; a slice that ends with nothing read is normal.
    const auto slice_end = std::min(end, Clock::now() + std::chrono::milliseconds(100));
    Wait w = WaitForMessage(slice_end, options_.max_reply_bytes);
    if (w == Wait::kTimeout) continue;
    if (w != Wait::kMessage) {
      broken = true;
      break;
    }
    erlang_msg msg;
    x.index = 0;
    int got = ei_xreceive_msg_tmo(fd_, &msg, &x, 1000);
    broken = got == ERL_ERROR || got == ERL_TIMEOUT;
  }
  ei_x_free(&x);
  if (!broken) return NodeStatus::Ok();
  unclean_ = true;
  Close();
  return NodeStatus::Failed(FailureReason::kConnectionLost, Status::Unavailable("the node closed the connection"));
}

}  // namespace beam_exporter::beam
