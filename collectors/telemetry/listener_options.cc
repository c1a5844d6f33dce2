#include "collectors/telemetry/listener_options.h"

#include <stdexcept>

namespace beam_exporter::telemetry {

ListenAddress ParseListenAddress(const std::string& text) {
  ListenAddress out;
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("expected host:port, got '" + text + "'");
  out.host = text.substr(0, colon);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  std::string port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535) {
    throw std::invalid_argument("invalid port in '" + text + "'");
  }
  out.port = std::stoi(port);
  return out;
}

size_t ReceiverCount(const ListenerOptions& options) {
  size_t n = options.udp_address.empty() ? 0 : static_cast<size_t>(options.readers);
  if (!options.unixgram_path.empty()) ++n;
  if (!options.tcp_address.empty()) ++n;
  return n;
}

}  // namespace beam_exporter::telemetry
