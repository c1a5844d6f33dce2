#include "collectors/beam/backoff.h"

#include <algorithm>

namespace beam_exporter::beam {

std::chrono::milliseconds Backoff::NextDelay() {
  std::chrono::milliseconds delay = initial_;
  for (int i = 0; i < failures_ && delay < max_; ++i) delay *= 2;
  ++failures_;
  return std::min(delay, max_);
}

}  // namespace beam_exporter::beam
