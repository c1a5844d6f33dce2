// The sockets: UDP (recvmmsg batches, one SO_REUSEPORT socket per reader thread, large
// SO_RCVBUF, SO_RXQ_OVFL kernel drop counts), an optional Unix datagram socket and an optional
// TCP listener with newline framing. Each receiving thread owns one Pipeline (and so one
// aggregator shard). Start() binds everything or throws; Stop() wakes and joins every thread
// promptly (an eventfd breaks their poll()).
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "collectors/telemetry/listener_options.h"
#include "collectors/telemetry/pipeline.h"

namespace beam_exporter::telemetry {

class Listener {
 public:
  // `pipelines` has ReceiverCount(options) entries; UDP readers take the first ones, then the
  // unixgram reader, then the TCP thread.
  Listener(ListenerOptions options, std::vector<Pipeline*> pipelines);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  void Start();  // throws std::runtime_error when a socket cannot be bound
  void Stop();

  // The receive buffer the kernel granted the first UDP socket (0 without UDP).
  int granted_receive_buffer() const { return granted_rcvbuf_; }
  // The bound UDP port (useful with port 0).
  int udp_port() const { return udp_port_; }

 private:
  void DatagramLoop(int fd, Pipeline* pipeline, bool udp);
  void TcpLoop(int listen_fd, Pipeline* pipeline);

  ListenerOptions options_;
  std::vector<Pipeline*> pipelines_;
  std::vector<int> fds_;  // every socket we opened, closed in Stop()
  int wake_fd_ = -1;
  int granted_rcvbuf_ = 0;
  int udp_port_ = 0;
  bool unixgram_bound_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace beam_exporter::telemetry
