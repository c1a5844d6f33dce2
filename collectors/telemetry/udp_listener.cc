#include "collectors/telemetry/udp_listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace beam_exporter::telemetry {
namespace {

constexpr int kBatch = 64;                   // datagrams per recvmmsg
constexpr size_t kMaxDatagram = 65536;       // larger ones are truncated and counted too_large
constexpr size_t kMaxTcpLine = 65536;
constexpr size_t kMaxTcpConnections = 256;

std::runtime_error SocketError(const std::string& what, const std::string& where) {
  return std::runtime_error("telemetry: " + what + " " + where + ": " + std::strerror(errno));
}

sockaddr_storage Resolve(const ListenAddress& addr, int socktype, socklen_t* len) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port = std::to_string(addr.port);
  int rc = getaddrinfo(addr.host.empty() ? nullptr : addr.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    throw std::runtime_error("telemetry: cannot resolve '" + addr.host + "': " + gai_strerror(rc));
  }
  sockaddr_storage out{};
  // Prefer IPv4 for the wildcard so ":8125" behaves like statsd_exporter on hosts without v6.
  addrinfo* pick = res;
  for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
    if (addr.host.empty() && p->ai_family == AF_INET) pick = p;
  }
  std::memcpy(&out, pick->ai_addr, pick->ai_addrlen);
  *len = pick->ai_addrlen;
  freeaddrinfo(res);
  return out;
}

}  // namespace

Listener::Listener(ListenerOptions options, std::vector<Pipeline*> pipelines)
    : options_(std::move(options)), pipelines_(std::move(pipelines)) {}

Listener::~Listener() { Stop(); }

void Listener::Start() {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw SocketError("eventfd", "");
  size_t next = 0;
  struct Reader {
    int fd;
    Pipeline* pipeline;
    bool udp;
  };
  std::vector<Reader> readers;
  int tcp_fd = -1;
  try {
    if (!options_.udp_address.empty()) {
      ListenAddress addr = ParseListenAddress(options_.udp_address);
      for (int i = 0; i < options_.readers; ++i) {
        socklen_t len = 0;
        sockaddr_storage sa = Resolve(addr, SOCK_DGRAM, &len);
        int fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) throw SocketError("socket", options_.udp_address);
        fds_.push_back(fd);
        int one = 1;
        if (options_.readers > 1) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
        int want = options_.receive_buffer_bytes;
        // SO_RCVBUFFORCE ignores net.core.rmem_max but needs CAP_NET_ADMIN; fall back quietly.
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0) {
          setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
        }
        if (i == 0) {
          int granted = 0;
          socklen_t glen = sizeof granted;
          getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &glen);
          granted_rcvbuf_ = granted;
        }
        if (i > 0 && addr.port == 0) {
          // Port 0 with several readers: every socket must share the first one's port.
          addr.port = udp_port_;
          sa = Resolve(addr, SOCK_DGRAM, &len);
        }
        if (bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0) throw SocketError("cannot bind UDP", options_.udp_address);
        if (i == 0) {
          sockaddr_storage bound{};
          socklen_t blen = sizeof bound;
          getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen);
          udp_port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
        }
        readers.push_back({fd, pipelines_.at(next++), true});
      }
    }
    if (!options_.unixgram_path.empty()) {
      sockaddr_un sa{};
      sa.sun_family = AF_UNIX;
      if (options_.unixgram_path.size() >= sizeof sa.sun_path) {
        throw std::runtime_error("telemetry: unixgram path too long: " + options_.unixgram_path);
      }
      struct stat st{};
      if (stat(options_.unixgram_path.c_str(), &st) == 0) {
        throw std::runtime_error("telemetry: unixgram path already exists: " + options_.unixgram_path);
      }
      std::memcpy(sa.sun_path, options_.unixgram_path.c_str(), options_.unixgram_path.size());
      int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (fd < 0) throw SocketError("socket", options_.unixgram_path);
      fds_.push_back(fd);
      int want = options_.receive_buffer_bytes;
      if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
      }
      if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        throw SocketError("cannot bind unixgram", options_.unixgram_path);
      }
      unixgram_bound_ = true;
      readers.push_back({fd, pipelines_.at(next++), false});
    }
    if (!options_.tcp_address.empty()) {
      socklen_t len = 0;
      sockaddr_storage sa = Resolve(ParseListenAddress(options_.tcp_address), SOCK_STREAM, &len);
      tcp_fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (tcp_fd < 0) throw SocketError("socket", options_.tcp_address);
      fds_.push_back(tcp_fd);
      int one = 1;
      setsockopt(tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (bind(tcp_fd, reinterpret_cast<sockaddr*>(&sa), len) != 0 || listen(tcp_fd, 64) != 0) {
        throw SocketError("cannot listen on TCP", options_.tcp_address);
      }
    }
  } catch (const std::invalid_argument& e) {
    Stop();
    throw std::runtime_error(std::string("telemetry: ") + e.what());
  } catch (...) {
    Stop();
    throw;
  }
  for (const Reader& r : readers) {
    threads_.emplace_back([this, r] { DatagramLoop(r.fd, r.pipeline, r.udp); });
  }
  if (tcp_fd >= 0) {
    Pipeline* p = pipelines_.at(next++);
    threads_.emplace_back([this, tcp_fd, p] { TcpLoop(tcp_fd, p); });
  }
}

void Listener::Stop() {
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    ssize_t ignored = write(wake_fd_, &one, sizeof one);
    (void)ignored;
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  for (int fd : fds_) close(fd);
  fds_.clear();
  // Only a path we created: a path that existed before Start() belongs to someone else.
  if (unixgram_bound_) unlink(options_.unixgram_path.c_str());
  unixgram_bound_ = false;
  if (wake_fd_ >= 0) close(wake_fd_);
  wake_fd_ = -1;
}

void Listener::DatagramLoop(int fd, Pipeline* pipeline, bool udp) {
  // Buffers live for the thread's lifetime: no allocation per datagram.
  std::vector<char> data(static_cast<size_t>(kBatch) * kMaxDatagram);
  std::vector<mmsghdr> msgs(kBatch);
  std::vector<iovec> iovs(kBatch);
  constexpr size_t kControl = CMSG_SPACE(sizeof(uint32_t));
  std::vector<char> control(static_cast<size_t>(kBatch) * kControl);
  pollfd pfds[2] = {{fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (true) {
    for (int i = 0; i < kBatch; ++i) {
      iovs[i] = {data.data() + static_cast<size_t>(i) * kMaxDatagram, kMaxDatagram};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      if (udp) {
        msgs[i].msg_hdr.msg_control = control.data() + static_cast<size_t>(i) * kControl;
        msgs[i].msg_hdr.msg_controllen = kControl;
      }
    }
    int n = recvmmsg(fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        log::Error("telemetry receive failed", {{"error", std::strerror(errno)}});
      }
      if (poll(pfds, 2, -1) < 0 && errno != EINTR) return;
      if (pfds[1].revents != 0) return;
      continue;
    }
    auto now = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      const msghdr& h = msgs[i].msg_hdr;
      if (udp) {
        for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
            uint32_t dropped = 0;
            std::memcpy(&dropped, CMSG_DATA(c), sizeof dropped);
            pipeline->SetKernelDrops(dropped);
          }
        }
      }
      std::string_view datagram(static_cast<const char*>(iovs[i].iov_base), msgs[i].msg_len);
      if ((h.msg_flags & MSG_TRUNC) != 0) {
        pipeline->Drop(PacketDrop::kTooLarge, datagram.substr(0, 64));
        continue;
      }
      pipeline->Process(datagram, now);
    }
  }
}

void Listener::TcpLoop(int listen_fd, Pipeline* pipeline) {
  struct Conn {
    int fd;
    std::string buffer;
  };
  std::vector<Conn> conns;
  std::vector<pollfd> pfds;
  std::vector<char> chunk(65536);
  while (true) {
    pfds.clear();
    pfds.push_back({wake_fd_, POLLIN, 0});
    pfds.push_back({listen_fd, POLLIN, 0});
    for (const Conn& c : conns) pfds.push_back({c.fd, POLLIN, 0});
    if (poll(pfds.data(), pfds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (pfds[0].revents != 0) break;
    if (pfds[1].revents != 0) {
      int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        if (conns.size() >= kMaxTcpConnections) {
          close(fd);
        } else {
          conns.push_back({fd, {}});
        }
      }
    }
    for (size_t i = 2; i < pfds.size(); ++i) {
      if (pfds[i].revents == 0) continue;
      Conn& c = conns[i - 2];
      bool closed = false;
      ssize_t n = read(c.fd, chunk.data(), chunk.size());
      if (n <= 0) {
        closed = n == 0 || (errno != EAGAIN && errno != EINTR);
      } else {
        c.buffer.append(chunk.data(), static_cast<size_t>(n));
        auto now = std::chrono::steady_clock::now();
        size_t start = 0;
        for (size_t nl; (nl = c.buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
          pipeline->ProcessStatsdLine(std::string_view(c.buffer).substr(start, nl - start), now);
        }
        c.buffer.erase(0, start);
        if (c.buffer.size() > kMaxTcpLine) {
          pipeline->Drop(PacketDrop::kTooLarge, c.buffer.substr(0, 64));
          closed = true;
        }
      }
      if (closed) {
        if (!c.buffer.empty() && c.buffer.size() <= kMaxTcpLine) {
          pipeline->ProcessStatsdLine(c.buffer, std::chrono::steady_clock::now());
        }
        close(c.fd);
        c.fd = -1;
      }
    }
    std::erase_if(conns, [](const Conn& c) { return c.fd < 0; });
  }
  for (const Conn& c : conns) close(c.fd);
}

}  // namespace beam_exporter::telemetry
