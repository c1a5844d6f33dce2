// Ingest benchmark (issue 5): offers generated StatsD traffic at fixed rates over loopback UDP
// (sendmmsg) and measures, for each receiver, the share of lines lost and the receiver's CPU
// time per line:
//   exporter  beam_exporter, telemetry collector with 1 reader and the shipped presets
//   drain     a bare recvmmsg loop that only counts lines (the ceiling), same receive buffer
//   collectd  collectd's statsd plugin (standard format only: it rejects DogStatsD tags)
// Every datagram ends with a counter line `bench.lines:<lines in this datagram>|c`, so a
// receiver's count of lines is that counter's total.
//
//   telemetry_ingest_bench [--rates=100000,1000000,3000000] [--seconds=2] [--mtu=1400]
//                          [--formats=dogstatsd,standard] [--receivers=exporter,drain,collectd]
//                          [--rcvbuf=BYTES]   (exporter and drain; default: the exporter's 16 MiB)
//   telemetry_ingest_bench --smoke     (ctest: one short run, checks the harness only)
//   telemetry_ingest_bench --drain=PORT --rcvbuf=N   (internal: the drain receiver)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/exporter_process.h"
#include "tests/support/net.h"
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace bt = beam_exporter::testing;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// Receive buffer for the exporter and the drain (0: the exporter's default, 16 MiB, for both).
int g_rcvbuf = 0;
constexpr int kDefaultRcvbuf = 16 << 20;

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, sep);) out.push_back(item);
  return out;
}

// Datagrams of about `mtu` bytes: Phoenix-like observations over 50 routes, then the counter.
std::vector<std::string> MakeDatagrams(const std::string& format, size_t mtu, size_t count, size_t* lines_per) {
  std::vector<std::string> out;
  size_t seq = 0;
  for (size_t d = 0; d < count; ++d) {
    std::string body;
    size_t lines = 0;
    while (true) {
      size_t route = (seq++ * 7) % 50;
      const char* method = seq % 3 == 0 ? "POST" : "GET";
      int status = seq % 11 == 0 ? 500 : 200;
      char line[256];
      if (format == "dogstatsd") {
        std::snprintf(line, sizeof line,
                      "phoenix.router_dispatch.stop.duration:%zu.%03zu|h|#method:%s,route:/api/v1/items/%zu,status:%d",
                      seq % 900, seq % 1000, method, route, status);
      } else {
        std::snprintf(line, sizeof line, "phoenix.router_dispatch.stop.duration.%s./api/v1/items/%zu.%d:%zu|ms", method,
                      route, status, seq % 900);
      }
      if (body.size() + std::strlen(line) + 40 > mtu) break;
      body += line;
      body += '\n';
      ++lines;
    }
    ++lines;
    body += "bench.lines:" + std::to_string(lines) + "|c";
    *lines_per = lines;
    out.push_back(std::move(body));
  }
  return out;
}

// Sends `datagrams` round-robin at `lines_per_sec` for `seconds`; returns lines offered.
uint64_t Offer(int port, const std::vector<std::string>& datagrams, size_t lines_per, double lines_per_sec,
               double seconds) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int sndbuf = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
  constexpr int kBatch = 32;
  std::vector<mmsghdr> msgs(kBatch);
  std::vector<iovec> iovs(kBatch);
  double datagrams_per_sec = lines_per_sec / static_cast<double>(lines_per);
  uint64_t total = static_cast<uint64_t>(datagrams_per_sec * seconds);
  uint64_t sent = 0;
  size_t next = 0;
  auto start = Clock::now();
  while (sent < total) {
    // Catch up to where the schedule says we should be, a batch at a time.
    double due = std::chrono::duration<double>(Clock::now() - start).count() * datagrams_per_sec;
    if (static_cast<double>(sent) >= due) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      continue;
    }
    int n = static_cast<int>(std::min<uint64_t>(kBatch, total - sent));
    for (int i = 0; i < n; ++i) {
      const std::string& d = datagrams[next++ % datagrams.size()];
      iovs[i] = {const_cast<char*>(d.data()), d.size()};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int done = sendmmsg(fd, msgs.data(), static_cast<unsigned>(n), 0);
    if (done > 0) sent += static_cast<uint64_t>(done);
  }
  close(fd);
  return sent * lines_per;
}

// utime + stime of a process, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return NAN;
  std::vector<std::string> fields = Split(stat.substr(close_paren + 2), ' ');
  // Fields after "(comm) ": state is [0]; utime is field 14 overall -> [11], stime [12].
  double ticks = std::stod(fields.at(11)) + std::stod(fields.at(12));
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct Result {
  uint64_t offered = 0;
  double received = 0;
  double cpu = 0;
};

class Receiver {
 public:
  virtual ~Receiver() = default;
  virtual int port() const = 0;
  virtual pid_t pid() const = 0;
  // Lines received so far (after the receiver has drained).
  virtual double Received() = 0;
};

class ExporterReceiver : public Receiver {
 public:
  ExporterReceiver()
      : exporter_({.config_yaml = "collectors:\n  telemetry:\n    mapping_files: [" + std::string(bt::kSourceDir) +
                                  "/config/mappings/phoenix.yml]\n" +
                                  (g_rcvbuf > 0 ? "    receive_buffer_bytes: " + std::to_string(g_rcvbuf) + "\n" : ""),
                   .args = {"--no-collector.beam", "--log.level=error"},
                   .telemetry_udp = true}) {
    if (!exporter_.ready()) throw std::runtime_error("exporter did not start: " + exporter_.Output());
  }
  int port() const override { return exporter_.udp_port(); }
  pid_t pid() const override { return exporter_.process().pid(); }
  double Received() override {
    std::string m = exporter_.Metrics();
    double v = bt::SampleValue(m, "bench_lines_total");
    kernel_drops_ = bt::SampleValue(m, "beam_exporter_telemetry_packets_dropped_total{reason=\"kernel_overflow\"}");
    return std::isnan(v) ? 0 : v;
  }
  // Datagrams the kernel dropped on the exporter's socket, as the exporter reports them.
  double kernel_drops() const { return kernel_drops_; }

 private:
  bt::ExporterProcess exporter_;
  double kernel_drops_ = 0;
};

// The drain receiver runs this same binary with --drain and reports its count in a file.
class DrainReceiver : public Receiver {
 public:
  explicit DrainReceiver(const std::filesystem::path& dir, const std::string& self)
      : udp_(bt::FreeUdpPort()), count_file_((dir / "drain.count").string()) {
    std::filesystem::remove(count_file_);
    proc_ = std::make_unique<bt::Subprocess>(std::vector<std::string>{
        self, "--drain=" + std::to_string(udp_), "--count-file=" + count_file_, "--rcvbuf=" + std::to_string(g_rcvbuf)});
    std::this_thread::sleep_for(milliseconds(200));
  }
  int port() const override { return udp_; }
  pid_t pid() const override { return proc_->pid(); }
  double Received() override {
    proc_->Signal(SIGUSR1);
    double v = 0;
    bt::WaitUntil([&] {
      std::ifstream in(count_file_);
      return static_cast<bool>(in >> v);
    }, milliseconds(2000));
    std::filesystem::remove(count_file_);
    return v;
  }

 private:
  int udp_;
  std::string count_file_;
  std::unique_ptr<bt::Subprocess> proc_;
};

// collectd reports a statsd counter as a DERIVE value; its csv writer with StoreRates false
// writes the running total once per Interval (1 s), which we read back from the file.
class CollectdReceiver : public Receiver {
 public:
  explicit CollectdReceiver(const std::filesystem::path& dir) : udp_(bt::FreeUdpPort()), csv_dir_(dir / "csv") {
    std::filesystem::remove_all(csv_dir_);
    std::filesystem::path conf = dir / "collectd.conf";
    std::ofstream(conf) << "Hostname \"bench\"\nFQDNLookup false\nInterval 1\nBaseDir \"" << dir.string()
                        << "\"\nPIDFile \"" << (dir / "collectd.pid").string()
                        << "\"\nPluginDir \"/usr/lib/collectd\"\nTypesDB \"/usr/share/collectd/types.db\"\n"
                           "LoadPlugin statsd\nLoadPlugin csv\n<Plugin statsd>\n  Host \"127.0.0.1\"\n  Port \""
                        << udp_ << "\"\n  DeleteCounters false\n  DeleteTimers false\n</Plugin>\n<Plugin csv>\n  DataDir \""
                        << csv_dir_.string() << "\"\n  StoreRates false\n</Plugin>\n";
    proc_ = std::make_unique<bt::Subprocess>(std::vector<std::string>{"/usr/sbin/collectd", "-f", "-C", conf.string()},
                                             std::map<std::string, std::string>{}, (dir / "collectd.log").string());
    if (!bt::WaitUntil([&] { return proc_->Output().find("entering read-loop") != std::string::npos; },
                       milliseconds(10000))) {
      throw std::runtime_error("collectd did not start: " + proc_->Output());
    }
  }
  int port() const override { return udp_; }
  pid_t pid() const override { return proc_->pid(); }
  double Received() override {
    std::this_thread::sleep_for(milliseconds(2500));  // two reporting intervals
    std::filesystem::path dir = csv_dir_ / "bench" / "statsd";
    if (!std::filesystem::exists(dir)) return 0;
    double last = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().filename().string().rfind("derive-bench.lines", 0) != 0) continue;
      std::ifstream in(entry.path());
      for (std::string line; std::getline(in, line);) {
        size_t comma = line.find(',');
        if (comma != std::string::npos && line[0] >= '0' && line[0] <= '9') last = std::stod(line.substr(comma + 1));
      }
    }
    return last;
  }

 private:
  int udp_;
  std::filesystem::path csv_dir_;
  std::unique_ptr<bt::Subprocess> proc_;
};

volatile sig_atomic_t g_report = 0;

int Drain(int port, const std::string& count_file) {
  // No SA_RESTART: the signal must interrupt a blocked recvmmsg so the count is written at once.
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_report = 1; };
  sigaction(SIGUSR1, &sa, nullptr);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int want = g_rcvbuf > 0 ? g_rcvbuf : kDefaultRcvbuf;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 1;
  constexpr int kBatch = 64;
  constexpr size_t kSize = 65536;
  std::vector<char> data(kBatch * kSize);
  std::vector<mmsghdr> msgs(kBatch);
  std::vector<iovec> iovs(kBatch);
  uint64_t lines = 0;
  while (true) {
    for (int i = 0; i < kBatch; ++i) {
      iovs[i] = {data.data() + i * kSize, kSize};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, msgs.data(), kBatch, MSG_WAITFORONE, nullptr);
    for (int i = 0; i < n; ++i) {
      const char* p = static_cast<const char*>(iovs[i].iov_base);
      lines += 1 + static_cast<uint64_t>(std::count(p, p + msgs[i].msg_len, '\n'));
    }
    if (g_report) {
      g_report = 0;
      std::ofstream(count_file + ".tmp") << lines << "\n";
      std::filesystem::rename(count_file + ".tmp", count_file);
      lines = 0;
    }
  }
}

std::string Arg(int argc, char** argv, const std::string& name, const std::string& def) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--" + name + "=", 0) == 0) return a.substr(name.size() + 3);
    if (a == "--" + name) return "1";
  }
  return def;
}

}  // namespace

int main(int argc, char** argv) {
  g_rcvbuf = std::stoi(Arg(argc, argv, "rcvbuf", "0"));
  std::string drain = Arg(argc, argv, "drain", "");
  if (!drain.empty()) return Drain(std::stoi(drain), Arg(argc, argv, "count-file", ""));
  bool smoke = Arg(argc, argv, "smoke", "") == "1";
  std::vector<std::string> rates = Split(Arg(argc, argv, "rates", smoke ? "100000" : "100000,1000000,3000000"), ',');
  double seconds = std::stod(Arg(argc, argv, "seconds", smoke ? "0.5" : "2"));
  size_t mtu = std::stoul(Arg(argc, argv, "mtu", "1400"));
  std::vector<std::string> formats = Split(Arg(argc, argv, "formats", smoke ? "dogstatsd" : "dogstatsd,standard"), ',');
  std::vector<std::string> receivers =
      Split(Arg(argc, argv, "receivers", smoke ? "exporter,drain" : "exporter,drain,collectd"), ',');

  bt::TempDir temp;
  const std::filesystem::path& dir = temp.path();
  std::printf("| format | receiver | offered lines/s | lines/datagram | lines offered | lines received | loss %% | receiver CPU s | ns CPU/line | lines per CPU-s | vs drain |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  int failures = 0;
  for (const std::string& format : formats) {
    size_t lines_per = 0;
    std::vector<std::string> datagrams = MakeDatagrams(format, mtu, 512, &lines_per);
    for (const std::string& rate : rates) {
      struct Row {
        std::string name;
        uint64_t offered;
        double received;
        double cpu;
      };
      std::vector<Row> rows;
      double drain_per_cpu = NAN;
      for (const std::string& name : receivers) {
        if (name == "collectd" && format != "standard") continue;
        std::unique_ptr<Receiver> r;
        if (name == "exporter") r = std::make_unique<ExporterReceiver>();
        else if (name == "drain") r = std::make_unique<DrainReceiver>(dir, argv[0]);
        else r = std::make_unique<CollectdReceiver>(dir);
        double base = r->Received();
        double cpu0 = CpuSeconds(r->pid());
        uint64_t offered = Offer(r->port(), datagrams, lines_per, std::stod(rate), seconds);
        std::this_thread::sleep_for(milliseconds(300));  // let the receiver drain its buffer
        double received = r->Received() - base;
        double cpu = CpuSeconds(r->pid()) - cpu0;
        if (auto* e = dynamic_cast<ExporterReceiver*>(r.get())) {
          double lost_datagrams = (static_cast<double>(offered) - received) / static_cast<double>(lines_per);
          std::fprintf(stderr, "exporter %s %s: kernel_overflow reports %.0f datagrams dropped; %.0f datagrams missing\n",
                       format.c_str(), rate.c_str(), e->kernel_drops(), lost_datagrams);
        }
        rows.push_back({name, offered, received, cpu});
        if (name == "drain") drain_per_cpu = received / cpu;
        if (!(received > 0)) ++failures;
      }
      for (const Row& row : rows) {
        double per_cpu = row.received / row.cpu;
        std::string ratio = row.name == "drain" || std::isnan(drain_per_cpu) ? "-" : std::to_string(per_cpu / drain_per_cpu).substr(0, 4);
        std::printf("| %s | %s | %s | %zu | %llu | %.0f | %.2f | %.2f | %.0f | %.3g | %s |\n", format.c_str(),
                    row.name.c_str(), rate.c_str(), lines_per, static_cast<unsigned long long>(row.offered), row.received,
                    100.0 * (1.0 - row.received / static_cast<double>(row.offered)), row.cpu, 1e9 * row.cpu / row.received,
                    per_cpu, ratio.c_str());
      }
      std::fflush(stdout);
    }
  }
  if (failures > 0) std::fprintf(stderr, "%d receiver(s) counted no lines\n", failures);
  return failures > 0 ? 1 : 0;
}
