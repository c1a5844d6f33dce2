#include "exporter/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

#include "exporter/families.h"

namespace beam_exporter {
namespace {

std::optional<std::string> ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool ParseU64(std::string_view s, uint64_t* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

std::optional<ProcStat> ParseProcStat(std::string_view text) {
  size_t close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  // Fields after comm, numbered from 3 (state) as in proc(5).
  std::vector<std::string_view> fields;
  size_t i = close + 1;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\n') ++i;
    if (i > start) fields.push_back(text.substr(start, i - start));
  }
  auto field = [&](int number, uint64_t* out) {
    size_t idx = static_cast<size_t>(number - 3);
    return idx < fields.size() && ParseU64(fields[idx], out);
  };
  ProcStat st;
  if (!field(14, &st.utime_ticks) || !field(15, &st.stime_ticks) || !field(22, &st.start_ticks) ||
      !field(23, &st.vsize_bytes) || !field(24, &st.rss_pages)) {
    return std::nullopt;
  }
  return st;
}

std::optional<uint64_t> ParseBootTime(std::string_view proc_stat) {
  size_t pos = proc_stat.find("\nbtime ");
  if (pos == std::string_view::npos) return std::nullopt;
  pos += 7;
  size_t end = proc_stat.find('\n', pos);
  uint64_t v = 0;
  if (!ParseU64(proc_stat.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos), &v)) {
    return std::nullopt;
  }
  return v;
}

std::optional<uint64_t> ParseMaxOpenFiles(std::string_view limits) {
  size_t pos = limits.find("Max open files");
  if (pos == std::string_view::npos) return std::nullopt;
  pos += 14;
  while (pos < limits.size() && limits[pos] == ' ') ++pos;
  size_t end = limits.find(' ', pos);
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view soft = limits.substr(pos, end - pos);
  if (soft == "unlimited") return std::nullopt;
  uint64_t v = 0;
  if (!ParseU64(soft, &v)) return std::nullopt;
  return v;
}

std::vector<prometheus::MetricFamily> CollectProcessMetrics() {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  auto add = [&](const char* name, const char* help, MetricType type, double v) {
    AppendSingleSample(&out, name, help, type, v);
  };
  if (auto text = ReadFile("/proc/self/stat")) {
    if (auto st = ParseProcStat(*text)) {
      add("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", MetricType::Counter,
          static_cast<double>(st->utime_ticks + st->stime_ticks) / ticks);
      add("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
          static_cast<double>(st->vsize_bytes));
      add("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
          static_cast<double>(st->rss_pages) * page);
      if (auto stat = ReadFile("/proc/stat")) {
        if (auto boot = ParseBootTime(*stat)) {
          add("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", MetricType::Gauge,
              static_cast<double>(*boot) + static_cast<double>(st->start_ticks) / ticks);
        }
      }
    }
  }
  if (DIR* dir = opendir("/proc/self/fd")) {
    int count = 0;
    while (dirent* e = readdir(dir)) {
      if (e->d_name[0] != '.') ++count;
    }
    closedir(dir);
    add("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, count - 1);  // minus the one readdir used
  }
  if (auto limits = ReadFile("/proc/self/limits")) {
    if (auto max = ParseMaxOpenFiles(*limits)) {
      add("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge, static_cast<double>(*max));
    }
  }
  return out;
}

}  // namespace beam_exporter
