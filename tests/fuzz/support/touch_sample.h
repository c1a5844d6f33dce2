// Reads every byte a decoded sample's views point at, so ASan reports a view into freed or
// foreign memory. Returns a sum the caller keeps, so the reads are not optimised away.
#pragma once

#include <string_view>

#include "collectors/telemetry/sample.h"

namespace beam_exporter::telemetry {

inline unsigned TouchBytes(std::string_view v) {
  unsigned sum = 0;
  for (char c : v) sum += static_cast<unsigned char>(c);
  return sum;
}

inline unsigned TouchSample(const Sample& s) {
  unsigned sum = TouchBytes(s.name);
  for (const auto& t : s.tags) sum += TouchBytes(t.key) + TouchBytes(t.value);
  return sum;
}

}  // namespace beam_exporter::telemetry
