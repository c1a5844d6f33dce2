// Structured logging: one line per event, logfmt or JSON, on stderr (spdlog underneath).
// Thread-safe. Repeated errors go through a RateLimiter so a flood of bad input cannot
// flood the log.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "exporter/mutex.h"

namespace beam_exporter::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kLogfmt, kJson };

bool ParseLevel(std::string_view text, Level* out);
bool ParseFormat(std::string_view text, Format* out);

// Sets up the process-wide logger. Safe to call again (e.g. after a reload).
void Init(Level level, Format format);

using Field = std::pair<std::string_view, std::string>;
using Fields = std::initializer_list<Field>;

void Log(Level level, std::string_view msg, Fields fields = {});
inline void Debug(std::string_view msg, Fields fields = {}) { Log(Level::kDebug, msg, fields); }
inline void Info(std::string_view msg, Fields fields = {}) { Log(Level::kInfo, msg, fields); }
inline void Warn(std::string_view msg, Fields fields = {}) { Log(Level::kWarn, msg, fields); }
inline void Error(std::string_view msg, Fields fields = {}) { Log(Level::kError, msg, fields); }

// Formats one line without the trailing newline (pure; exposed for tests).
std::string FormatLine(Format format, std::string_view timestamp, Level level, std::string_view msg, Fields fields);

// Allows one line per key per interval; counts what it held back so the next allowed line
// can say how many were suppressed. Thread-safe.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RateLimiter(Clock::duration interval) : interval_(interval) {}

  // True when a line for `key` may be written now; *suppressed receives the number of
  // lines held back for this key since the last allowed one.
  bool Allow(std::string_view key, uint64_t* suppressed, Clock::time_point now = Clock::now()) EXCLUDES(mu_);

 private:
  struct Entry {
    Clock::time_point last;
    uint64_t suppressed = 0;
  };
  const Clock::duration interval_;
  Mutex mu_;
  std::unordered_map<std::string, Entry> entries_ GUARDED_BY(mu_);
};

}  // namespace beam_exporter::log
