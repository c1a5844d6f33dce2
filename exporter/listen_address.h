// The --web.listen-address flag in civetweb's terms.
#pragma once

#include <string>

namespace beam_exporter {

// Converts ":9568", "0.0.0.0:9568", "127.0.0.1:9568", "localhost:9568" to civetweb's
// listening_ports syntax (IPv4 only: Debian's civetweb is built without IPv6).
// Throws ConfigError otherwise.
std::string CivetListeningPort(const std::string& listen_address, bool tls);

}  // namespace beam_exporter
