// Capped exponential backoff between reconnect attempts. Pure: the caller owns the clock.
#pragma once

#include <chrono>

namespace beam_exporter::beam {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max) : initial_(initial), max_(max) {}

  // The wait before the next attempt after one more failure: initial, 2x, 4x ... up to max.
  std::chrono::milliseconds NextDelay();
  // After a success the next failure starts again from `initial`.
  void Reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  int failures_ = 0;
};

}  // namespace beam_exporter::beam
