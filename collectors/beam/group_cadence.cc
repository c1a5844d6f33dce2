#include "collectors/beam/group_cadence.h"

#include <algorithm>
#include <cmath>

namespace beam_exporter::beam {

int CollectionsBetweenGroupPasses(std::chrono::microseconds pass, std::chrono::milliseconds interval, int groups_every,
                                  double cpu_budget) {
  const double allowed_per_collection_us = cpu_budget * static_cast<double>(interval.count()) * 1000.0;
  const double needed = std::ceil(static_cast<double>(pass.count()) / allowed_per_collection_us);
  // Capped so that a pathological measurement cannot stop the pass for good (a day at 10s).
  constexpr double kMaxGap = 8640;
  return static_cast<int>(std::max<double>(std::max(groups_every, 1), std::min(needed, kMaxGap)));
}

}  // namespace beam_exporter::beam
