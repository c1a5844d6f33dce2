#include "exporter/listen_address.h"

#include <cstdlib>
#include <string_view>

#include "exporter/config_map.h"

namespace beam_exporter {
namespace {

// Dotted-quad IPv4, as inet_pton(AF_INET) accepts it: four decimal parts of 0-255, no leading
// zeros (checked here rather than with the socket library, which this pure code does not link).
bool IsIpv4Address(std::string_view text) {
  int parts = 0;
  while (true) {
    size_t digits = 0;
    int value = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
      value = value * 10 + (text[digits] - '0');
      if (++digits > 3) return false;
    }
    if (digits == 0 || value > 255 || (digits > 1 && text[0] == '0')) return false;
    ++parts;
    text.remove_prefix(digits);
    if (text.empty()) return parts == 4;
    if (text[0] != '.' || parts == 4) return false;
    text.remove_prefix(1);
  }
}

}  // namespace

std::string CivetListeningPort(const std::string& listen_address, bool tls) {
  size_t colon = listen_address.rfind(':');
  if (colon == std::string::npos) throw ConfigError("listen address '" + listen_address + "': expected HOST:PORT or :PORT");
  std::string host = listen_address.substr(0, colon);
  std::string port = listen_address.substr(colon + 1);
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 0 || p > 65535) {
    throw ConfigError("listen address '" + listen_address + "': invalid port '" + port + "'");
  }
  if (host.empty() || host == "0.0.0.0") host = "0.0.0.0";
  else if (host == "localhost") host = "127.0.0.1";
  if (!IsIpv4Address(host)) {
    throw ConfigError("listen address '" + listen_address +
                      "': expected an IPv4 address (this build's civetweb has no IPv6)");
  }
  return host + ":" + std::to_string(p) + (tls ? "s" : "");
}

}  // namespace beam_exporter
