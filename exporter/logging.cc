#include "exporter/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <ctime>

namespace beam_exporter::log {
namespace {

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

// Only the format changes after start-up; an atomic keeps concurrent log calls race-free.
std::atomic<Format> g_format{Format::kLogfmt};

// A double-quoted string with JSON's escapes; logfmt's quoted values use the same ones.
void AppendJsonString(std::string* out, std::string_view v) {
  out->push_back('"');
  for (char c : v) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void AppendLogfmtValue(std::string* out, std::string_view v) {
  bool quote = v.empty();
  for (char c : v) {
    if (c == ' ' || c == '=' || c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) quote = true;
  }
  if (quote) {
    AppendJsonString(out, v);
  } else {
    out->append(v);
  }
}

std::string Now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buf + n, sizeof buf - n, ".%03ldZ", ts.tv_nsec / 1'000'000);
  return buf;
}

}  // namespace

bool ParseLevel(std::string_view text, Level* out) {
  if (text == "debug") *out = Level::kDebug;
  else if (text == "info") *out = Level::kInfo;
  else if (text == "warn") *out = Level::kWarn;
  else if (text == "error") *out = Level::kError;
  else return false;
  return true;
}

bool ParseFormat(std::string_view text, Format* out) {
  if (text == "logfmt") *out = Format::kLogfmt;
  else if (text == "json") *out = Format::kJson;
  else return false;
  return true;
}

void Init(Level level, Format format) {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_logger_mt("beam_exporter");
    l->set_pattern("%v");
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  spdlog::set_default_logger(logger);
  logger->set_level(ToSpdlog(level));
  g_format.store(format);
}

std::string FormatLine(Format format, std::string_view timestamp, Level level, std::string_view msg, Fields fields) {
  std::string line;
  line.reserve(128);
  if (format == Format::kJson) {
    line.append("{\"ts\":");
    AppendJsonString(&line, timestamp);
    line.append(",\"level\":");
    AppendJsonString(&line, LevelName(level));
    line.append(",\"msg\":");
    AppendJsonString(&line, msg);
    for (const auto& [k, v] : fields) {
      line.push_back(',');
      AppendJsonString(&line, k);
      line.push_back(':');
      AppendJsonString(&line, v);
    }
    line.push_back('}');
    return line;
  }
  line.append("ts=").append(timestamp).append(" level=").append(LevelName(level)).append(" msg=");
  AppendLogfmtValue(&line, msg);
  for (const auto& [k, v] : fields) {
    line.push_back(' ');
    line.append(k).push_back('=');
    AppendLogfmtValue(&line, v);
  }
  return line;
}

void Log(Level level, std::string_view msg, Fields fields) {
  auto logger = spdlog::default_logger_raw();
  if (!logger->should_log(ToSpdlog(level))) return;
  logger->log(ToSpdlog(level), "{}", FormatLine(g_format.load(), Now(), level, msg, fields));
}

bool RateLimiter::Allow(std::string_view key, uint64_t* suppressed, Clock::time_point now) {
  MutexLock lock(&mu_);
  auto [it, inserted] = entries_.try_emplace(std::string(key));
  Entry& e = it->second;
  if (!inserted && now - e.last < interval_) {
    ++e.suppressed;
    return false;
  }
  *suppressed = e.suppressed;
  e.suppressed = 0;
  e.last = now;
  return true;
}

}  // namespace beam_exporter::log
