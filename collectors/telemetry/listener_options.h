// What the telemetry collector listens on (the `listen` settings), apart from the sockets
// themselves (udp_listener.h), so that the parsing is tested without them.
#pragma once

#include <cstddef>
#include <string>

namespace beam_exporter::telemetry {

struct ListenerOptions {
  std::string udp_address;       // "host:port", ":port" or "[v6]:port"; empty: no UDP
  int readers = 1;               // UDP reader threads
  int receive_buffer_bytes = 8 << 20;
  std::string unixgram_path;     // empty: none
  std::string tcp_address;       // empty: none
};

// Parses "host:port" / ":port" / "[::1]:port". Throws std::invalid_argument.
struct ListenAddress {
  std::string host;  // empty: any
  int port = 0;
};
ListenAddress ParseListenAddress(const std::string& text);

// How many threads (and so aggregator shards / pipelines) the options need.
size_t ReceiverCount(const ListenerOptions& options);

}  // namespace beam_exporter::telemetry
