#include "tests/support/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace beam_exporter::testing {
namespace {

int FreePort(int type) {
  int fd = socket(AF_INET, type, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

int FreeTcpPort() { return FreePort(SOCK_STREAM); }
int FreeUdpPort() { return FreePort(SOCK_DGRAM); }

HttpResponse HttpRequest(int port, const std::string& method, const std::string& path,
                         std::chrono::milliseconds timeout, const std::map<std::string, std::string>& headers,
                         const std::string& body) {
  HttpResponse resp;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  auto remaining_ms = [&] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<int64_t>(0, left.count()));
  };
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    close(fd);
    return resp;
  }
  pollfd pfd{fd, POLLOUT, 0};
  if (poll(&pfd, 1, remaining_ms()) <= 0) {
    close(fd);
    return resp;
  }
  int err = 0;
  socklen_t elen = sizeof err;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
  if (err != 0) {
    close(fd);
    return resp;
  }
  std::ostringstream req;
  req << method << " " << path << " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) req << k << ": " << v << "\r\n";
  if (!body.empty() || method == "POST") req << "Content-Length: " << body.size() << "\r\n";
  req << "\r\n" << body;
  std::string out = req.str();
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN) {
      close(fd);
      return resp;
    }
    pfd = {fd, POLLOUT, 0};
    if (poll(&pfd, 1, remaining_ms()) <= 0) {
      close(fd);
      return resp;
    }
  }
  std::string raw;
  char buf[65536];
  for (;;) {
    pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, remaining_ms()) <= 0) break;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  size_t header_end = raw.find("\r\n\r\n");
  if (header_end == std::string::npos) return resp;
  std::istringstream head(raw.substr(0, header_end));
  std::string line;
  std::getline(head, line);
  if (line.size() > 12) resp.status = std::atoi(line.c_str() + 9);
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    size_t v = line.find_first_not_of(' ', colon + 1);
    resp.headers[name] = v == std::string::npos ? "" : line.substr(v);
  }
  resp.body = raw.substr(header_end + 4);
  return resp;
}

void SendUdp(int port, const std::string& payload) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  close(fd);
}

bool WaitUntil(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (ready()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

double SampleValue(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      const std::string value = line.substr(series.size() + 1);
      if (value == "+Inf") return std::numeric_limits<double>::infinity();
      if (value == "-Inf") return -std::numeric_limits<double>::infinity();
      return std::strtod(value.c_str(), nullptr);
    }
  }
  return std::nan("");
}

double SampleSum(const std::string& exposition, const std::string& name, const std::string& label_part) {
  double sum = 0;
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + "{", 0) != 0) continue;
    size_t close = line.find("} ", name.size());
    if (close == std::string::npos || line.substr(name.size(), close - name.size()).find(label_part) == std::string::npos) {
      continue;
    }
    sum += std::strtod(line.c_str() + close + 2, nullptr);
  }
  return sum;
}

}  // namespace beam_exporter::testing
