// Scrape benchmark (issue 16): the real exporter holding N telemetry series, scraped over
// loopback by a minimal in-process HTTP/1.1 client, against a same-run baseline: the same
// client fetching the same bytes from a trivial server that only sends them from memory.
// Reports median scrape times and their ratio, bytes with and without gzip, and the peak RSS
// (VmHWM, reset through /proc/PID/clear_refs) during 10 back-to-back and 2 concurrent scrapes
// against the RSS before the first scrape.
//
//   telemetry_scrape_bench [--kind=counter|histogram] [--series=100000] [--metrics=20] [--scrapes=10]
//   telemetry_scrape_bench --flood    (1M label values into one metric, 10k into each of 50,
//                                      with the shipped limits: RSS and drops by reason)
//   telemetry_scrape_bench --smoke    (ctest: a small run, checks the harness only)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/exporter_process.h"
#include "tests/support/net.h"
#include "tests/support/paths.h"

namespace bt = beam_exporter::testing;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// kB fields of /proc/PID/status (VmRSS, VmHWM).
long StatusKb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

// Resets VmHWM to the current RSS, so the next reading is the peak since now.
void ResetPeak(pid_t pid) { std::ofstream("/proc/" + std::to_string(pid) + "/clear_refs") << "5"; }

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// A minimal keep-alive HTTP/1.1 client: one GET at a time, body by Content-Length or chunked.
class Client {
 public:
  explicit Client(int port) : fd_(Connect(port)) {}
  ~Client() { if (fd_ >= 0) close(fd_); }

  // Returns the body (decoded from chunks, not decompressed); adds the bytes received to *wire.
  std::string Get(const std::string& path, bool gzip, size_t* wire) {
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                      (gzip ? "Accept-Encoding: gzip\r\n" : "") + "\r\n";
    if (send(fd_, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) return "";
    size_t header_end;
    while ((header_end = in_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(wire)) return "";
    }
    std::string headers = in_.substr(0, header_end);
    in_.erase(0, header_end + 4);
    for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string body;
    size_t cl = headers.find("content-length:");
    if (cl != std::string::npos) {
      size_t n = std::stoul(headers.substr(cl + 15));
      while (in_.size() < n) {
        if (!Fill(wire)) return "";
      }
      body = in_.substr(0, n);
      in_.erase(0, n);
      return body;
    }
    for (;;) {  // chunked
      size_t line_end;
      while ((line_end = in_.find("\r\n")) == std::string::npos) {
        if (!Fill(wire)) return "";
      }
      size_t n = std::stoul(in_.substr(0, line_end), nullptr, 16);
      while (in_.size() < line_end + 2 + n + 2) {
        if (!Fill(wire)) return "";
      }
      body.append(in_, line_end + 2, n);
      in_.erase(0, line_end + 2 + n + 2);
      if (n == 0) return body;
    }
  }

 private:
  bool Fill(size_t* wire) {
    char buf[1 << 16];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    *wire += static_cast<size_t>(n);
    in_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  std::string in_;
};

// The baseline: answers every GET on its connections with `body` from memory.
class StaticServer {
 public:
  explicit StaticServer(std::string body) : body_(std::move(body)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(listen_fd_, 8);
    thread_ = std::thread([this] { Serve(); });
  }
  ~StaticServer() {
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  void Serve() {
    for (;;) {
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::string in;
      char buf[4096];
      for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
        size_t end;
        while ((end = in.find("\r\n\r\n")) != std::string::npos) {
          in.erase(0, end + 4);
          std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                             std::to_string(body_.size()) + "\r\n\r\n";
          send(fd, head.data(), head.size(), MSG_MORE);
          for (size_t off = 0; off < body_.size();) {
            ssize_t w = send(fd, body_.data() + off, body_.size() - off, 0);
            if (w <= 0) break;
            off += static_cast<size_t>(w);
          }
        }
      }
      close(fd);
    }
  }

  std::string body_;
  int listen_fd_;
  int port_;
  std::thread thread_;
};

int SendUdpSocket() { return socket(AF_INET, SOCK_DGRAM, 0); }

// Sends DogStatsD lines (about 1400 bytes a datagram), pacing so the kernel buffer keeps up.
void SendLines(int udp_port, const std::vector<std::string>& lines, size_t* datagrams) {
  int fd = SendUdpSocket();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(udp_port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  std::string d;
  auto flush = [&] {
    if (d.empty()) return;
    d.pop_back();
    sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ++*datagrams;
    d.clear();
    if (*datagrams % 500 == 0) std::this_thread::sleep_for(milliseconds(20));
  };
  for (const std::string& l : lines) {
    if (d.size() + l.size() + 1 > 1400) flush();
    d += l;
    d += '\n';
  }
  flush();
  close(fd);
}

// The exporter, telemetry only, no mapping rules (names and tags as sent).
bt::ExporterProcess::Options TelemetryOnly(const std::string& telemetry_yaml) {
  return {.config_yaml = "collectors:\n  telemetry:\n" + telemetry_yaml,
          .args = {"--no-collector.beam"},
          .telemetry_udp = true};
}

double Sample(bt::ExporterProcess& p, const std::string& series) { return bt::SampleValue(p.Metrics(), series); }

int RunScrapeBench(const std::string& kind, size_t series, size_t metrics, int scrapes) {
  const size_t per_metric = (series + metrics - 1) / metrics;
  std::ostringstream yaml;
  yaml << "    series_limit_per_metric: " << per_metric << "\n    series_limit: " << series * 2 << "\n";
  bt::ExporterProcess e(TelemetryOnly(yaml.str()));
  if (!e.ready()) {
    std::cerr << "exporter did not start: " << e.Output() << "\n";
    return 1;
  }
  std::vector<std::string> lines;
  lines.reserve(series);
  const char* type = kind == "histogram" ? "|h" : "|c";
  for (size_t i = 0; i < series; ++i) {
    lines.push_back("bench.metric" + std::to_string(i % metrics) + ":" + std::to_string(i % 97 + 1) + type +
                    "|#path:/api/v1/items/" + std::to_string(i / metrics) + ",method:GET");
  }
  size_t datagrams = 0;
  SendLines(e.udp_port(), lines, &datagrams);
  lines = {};
  const pid_t pid = e.process().pid();
  bt::WaitUntil([&] { return Sample(e, "beam_exporter_telemetry_series") >= static_cast<double>(series); },
                milliseconds(60000));
  const double held = Sample(e, "beam_exporter_telemetry_series");
  std::this_thread::sleep_for(milliseconds(500));
  const long rss_before = StatusKb(pid, "VmRSS");

  Client client(e.port());
  size_t wire = 0;
  ResetPeak(pid);
  std::vector<double> times;
  std::string body;
  for (int i = 0; i < scrapes; ++i) {
    auto t0 = Clock::now();
    body = client.Get("/metrics", false, &wire);
    times.push_back(Ms(Clock::now() - t0));
  }
  const long peak_sequential = StatusKb(pid, "VmHWM");
  const size_t plain_wire = wire;

  ResetPeak(pid);
  std::vector<double> concurrent_times(2 * 3);
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        Client c(e.port());
        size_t w = 0;
        for (int i = 0; i < 3; ++i) {
          auto t0 = Clock::now();
          c.Get("/metrics", false, &w);
          concurrent_times[static_cast<size_t>(t * 3 + i)] = Ms(Clock::now() - t0);
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  const long peak_concurrent = StatusKb(pid, "VmHWM");

  // New connections from here: civetweb closes one idle for more than its keep-alive timeout.
  std::vector<double> gzip_times;
  size_t gzip_wire = 0;
  Client gzip_client(e.port());
  for (int i = 0; i < scrapes; ++i) {
    auto t0 = Clock::now();
    gzip_client.Get("/metrics", true, &gzip_wire);
    gzip_times.push_back(Ms(Clock::now() - t0));
  }

  std::vector<double> base_times;
  {
    StaticServer baseline(body);
    Client c(baseline.port());
    size_t w = 0;
    for (int i = 0; i < scrapes; ++i) {
      auto t0 = Clock::now();
      std::string b = c.Get("/metrics", false, &w);
      base_times.push_back(Ms(Clock::now() - t0));
      if (b.size() != body.size()) std::cerr << "baseline returned " << b.size() << " bytes\n";
    }
  }
  // Interleave once more so both sides see the same machine load.
  std::vector<double> times2, base_times2;
  {
    StaticServer baseline(body);
    Client c(baseline.port());
    Client client(e.port());
    for (int i = 0; i < scrapes; ++i) {
      size_t w = 0;
      auto t0 = Clock::now();
      c.Get("/metrics", false, &w);
      base_times2.push_back(Ms(Clock::now() - t0));
      t0 = Clock::now();
      client.Get("/metrics", false, &w);
      times2.push_back(Ms(Clock::now() - t0));
    }
  }
  const double scrape_ms = Median(times2), base_ms = Median(base_times2);
  std::printf("kind=%s series_held=%.0f metrics=%zu body_bytes=%zu\n", kind.c_str(), held, metrics, body.size());
  std::printf("  scrape median %.2f ms (first run %.2f ms), baseline median %.2f ms (first run %.2f ms): ratio %.2f\n",
              scrape_ms, Median(times), base_ms, Median(base_times), scrape_ms / base_ms);
  std::printf("  gzip: %zu bytes on the wire per scrape (plain %zu), median %.2f ms\n",
              gzip_wire / static_cast<size_t>(scrapes), plain_wire / static_cast<size_t>(scrapes), Median(gzip_times));
  std::printf("  RSS before first scrape %.1f MB; peak during %d back-to-back scrapes %.1f MB (+%.1f MB); "
              "peak during 2x3 concurrent scrapes %.1f MB (+%.1f MB), concurrent median %.2f ms\n",
              rss_before / 1024.0, scrapes, peak_sequential / 1024.0, (peak_sequential - rss_before) / 1024.0,
              peak_concurrent / 1024.0, (peak_concurrent - rss_before) / 1024.0, Median(concurrent_times));
  if (body.empty()) std::cerr << "empty scrape body; exporter log:\n" << e.Output() << "\n";
  return held >= static_cast<double>(series) && !body.empty() ? 0 : 1;
}

int RunFlood() {
  bt::ExporterProcess e(TelemetryOnly(""));  // the shipped limits
  if (!e.ready()) return 1;
  const pid_t pid = e.process().pid();
  std::vector<std::string> lines;
  for (size_t i = 0; i < 1000000; ++i) lines.push_back("flood.one:1|c|#user:u" + std::to_string(i));
  for (size_t m = 0; m < 50; ++m) {
    for (size_t i = 0; i < 10000; ++i) {
      lines.push_back("flood.many" + std::to_string(m) + ":1|c|#user:u" + std::to_string(i));
    }
  }
  size_t datagrams = 0;
  const long rss_start = StatusKb(pid, "VmRSS");
  SendLines(e.udp_port(), lines, &datagrams);
  lines = {};
  bt::WaitUntil([&] { return Sample(e, "beam_exporter_telemetry_packets_total") >= datagrams; },
                milliseconds(60000));
  std::string m = e.Metrics();
  for (int i = 0; i < 4; ++i) m = e.Metrics();
  std::printf("flood: %zu datagrams, packets counted %.0f, kernel drops %.0f\n", datagrams,
              bt::SampleValue(m, "beam_exporter_telemetry_packets_total"),
              bt::SampleValue(m, "beam_exporter_telemetry_packets_dropped_total{reason=\"kernel_overflow\"}"));
  std::printf("  series held %.0f; dropped series_limit %.0f, global_series_limit %.0f\n",
              bt::SampleValue(m, "beam_exporter_telemetry_series"),
              bt::SampleSum(m, "beam_exporter_telemetry_series_dropped_total", "reason=\"series_limit\""),
              bt::SampleSum(m, "beam_exporter_telemetry_series_dropped_total", "reason=\"global_series_limit\""));
  std::printf("  RSS at start %.1f MB, now %.1f MB, peak (VmHWM) %.1f MB; body %zu bytes\n", rss_start / 1024.0,
              StatusKb(pid, "VmRSS") / 1024.0, StatusKb(pid, "VmHWM") / 1024.0, m.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);  // a closed connection shows as an empty body instead
  std::string kind = "counter";
  size_t series = 100000, metrics = 20;
  int scrapes = 10;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--flood") return RunFlood();
    if (a == "--smoke") return RunScrapeBench("histogram", 2000, 4, 3);
    if (a.rfind("--kind=", 0) == 0) kind = a.substr(7);
    else if (a.rfind("--series=", 0) == 0) series = std::stoul(a.substr(9));
    else if (a.rfind("--metrics=", 0) == 0) metrics = std::stoul(a.substr(10));
    else if (a.rfind("--scrapes=", 0) == 0) scrapes = std::stoi(a.substr(10));
    else {
      std::cerr << "usage: telemetry_scrape_bench [--kind=counter|histogram] [--series=N] [--metrics=N] "
                   "[--scrapes=N] | --flood | --smoke\n";
      return 2;
    }
  }
  return RunScrapeBench(kind, series, metrics, scrapes);
}
