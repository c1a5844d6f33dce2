#include "collectors/beam/epmd_lookup.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace beam_exporter::beam {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint8_t kPortPlease2Req = 122;
constexpr uint8_t kPort2Resp = 119;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Waits for `events` on fd; false on timeout or error.
bool WaitFor(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    int r = poll(&p, 1, RemainingMs(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

int EpmdPort() {
  if (const char* env = std::getenv("ERL_EPMD_PORT")) {
    char* end = nullptr;
    long port = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && port > 0 && port < 65536) return static_cast<int>(port);
  }
  return 4369;
}

EpmdResult LookupNodePort(const std::string& host, const std::string& alive, std::chrono::milliseconds timeout) {
  using Outcome = EpmdResult::Outcome;
  const auto deadline = Clock::now() + timeout;
  EpmdResult result;

  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addrs = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &addrs) != 0 || addrs == nullptr) {
    result.detail = "cannot resolve host " + host;
    return result;
  }
  sockaddr_in addr = *reinterpret_cast<sockaddr_in*>(addrs->ai_addr);
  freeaddrinfo(addrs);
  addr.sin_port = htons(static_cast<uint16_t>(EpmdPort()));

  Fd sock(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) {
    result.detail = std::string("socket: ") + std::strerror(errno);
    return result;
  }
  const std::string where = host + ":" + std::to_string(EpmdPort());
  if (connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) {
      result.detail = "epmd at " + where + ": " + std::strerror(errno);
      return result;
    }
    if (!WaitFor(sock.get(), POLLOUT, deadline)) {
      result.outcome = Outcome::kTimeout;
      result.detail = "epmd at " + where + ": connect timed out";
      return result;
    }
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(sock.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      result.detail = "epmd at " + where + ": " + std::strerror(err);
      return result;
    }
  }

  // Request: 2-byte length, then PORT_PLEASE2_REQ and the alive name.
  std::string request;
  const size_t n = alive.size() + 1;
  request.push_back(static_cast<char>(n >> 8));
  request.push_back(static_cast<char>(n & 0xff));
  request.push_back(static_cast<char>(kPortPlease2Req));
  request += alive;
  if (send(sock.get(), request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    result.detail = "epmd at " + where + ": send failed";
    return result;
  }

  // Reply: PORT2_RESP, result (0 = found), then on success the port and more we do not need.
  // EPMD closes the connection after replying.
  uint8_t reply[4];
  size_t got = 0;
  while (got < sizeof reply) {
    if (!WaitFor(sock.get(), POLLIN, deadline)) {
      result.outcome = Outcome::kTimeout;
      result.detail = "epmd at " + where + ": no reply";
      return result;
    }
    ssize_t r = recv(sock.get(), reply + got, sizeof reply - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  if (got >= 2 && reply[0] == kPort2Resp && reply[1] != 0) {
    result.outcome = Outcome::kNotRegistered;
    result.detail = "node " + alive + " is not registered with epmd at " + where;
    return result;
  }
  if (got < 4 || reply[0] != kPort2Resp) {
    result.detail = "epmd at " + where + ": malformed reply";
    return result;
  }
  result.outcome = Outcome::kFound;
  result.port = reply[2] << 8 | reply[3];
  return result;
}

}  // namespace beam_exporter::beam
