// Asks a host's EPMD for the distribution port of a node name (PORT_PLEASE2_REQ), so that
// "EPMD unreachable" and "node not registered" can be told apart before ei connects.
// Honours ERL_EPMD_PORT like erl and ei do. Blocking I/O with a timeout; IPv4 only, as ei.
#pragma once

#include <chrono>
#include <string>

namespace beam_exporter::beam {

struct EpmdResult {
  enum class Outcome { kFound, kUnreachable, kNotRegistered, kTimeout };
  Outcome outcome = Outcome::kUnreachable;
  int port = 0;        // kFound
  std::string detail;  // for the log: what failed
};

// The EPMD port: $ERL_EPMD_PORT when set and valid, else 4369.
int EpmdPort();

EpmdResult LookupNodePort(const std::string& host, const std::string& alive, std::chrono::milliseconds timeout);

}  // namespace beam_exporter::beam
