// Loopback networking helpers for integration tests.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>

namespace beam_exporter::testing {

// A TCP (or UDP) port on 127.0.0.1 that was free a moment ago.
int FreeTcpPort();
int FreeUdpPort();

struct HttpResponse {
  int status = 0;  // 0: no response (connection refused, timeout)
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
};

// A plain HTTP/1.0 request to 127.0.0.1:port with a timeout.
HttpResponse HttpRequest(int port, const std::string& method, const std::string& path,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(5000),
                         const std::map<std::string, std::string>& headers = {},
                         const std::string& body = "");
inline HttpResponse HttpGet(int port, const std::string& path,
                            std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  return HttpRequest(port, "GET", path, timeout);
}

// Sends one UDP datagram to 127.0.0.1:port.
void SendUdp(int port, const std::string& payload);

// Polls `ready` every 20 ms until it returns true or `timeout` passes.
bool WaitUntil(const std::function<bool()>& ready, std::chrono::milliseconds timeout);

// The value of the first sample in Prometheus text `exposition` whose name and labels
// match `series` exactly as written (e.g. `beam_up` or `x{a="b"}`), or NaN when absent.
double SampleValue(const std::string& exposition, const std::string& series);

// The sum of the samples of `name` (exactly that name, with labels) whose label block contains
// `label_part` (e.g. `status="5`); 0 when there are none.
double SampleSum(const std::string& exposition, const std::string& name, const std::string& label_part = "");

}  // namespace beam_exporter::testing
