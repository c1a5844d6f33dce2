#include "collectors/telemetry/targeted_quantiles.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace beam_exporter::telemetry {

TargetedQuantiles::TargetedQuantiles(const std::vector<Objective>* objectives) : objectives_(objectives) {
  buffer_.reserve(kBatch);
}

void TargetedQuantiles::Insert(double value) {
  buffer_.push_back(value);
  if (buffer_.size() == kBatch) Flush();
}

// Gives the sample's memory back: a window resets each estimator once per rotation, and a
// series that got quieter should not keep the capacity of its busiest window.
void TargetedQuantiles::Reset() {
  count_ = 0;
  sample_ = {};
  buffer_.clear();
}

// For an objective (q, e): 2e*r/q at or above rank q*n, 2e*(n-r)/(1-q) below it; the sample
// may be as coarse around rank r as the strictest objective allows. The paper's bound lets a
// tuple that was coarse when it sat at a low rank drift towards a target as values arrive below
// it, and then answers miss by up to ~1.2x the error (measured with descending input); with the
// errors halved they stay within the error, for a sample about twice as large (still tens of
// tuples per objective).
double TargetedQuantiles::AllowedError(double rank) const {
  const double n = static_cast<double>(count_);
  double allowed = std::numeric_limits<double>::max();
  for (const Objective& o : *objectives_) {
    const double e = o.error / 2;
    double f = rank >= o.quantile * n ? 2 * e * rank / o.quantile : 2 * e * (n - rank) / (1 - o.quantile);
    allowed = std::min(allowed, f);
  }
  return allowed;
}

// Merges the sorted buffer into the sample in one pass, as if the values came one by one in
// order: a new value's delta is the rank uncertainty allowed where it lands with the count so
// far; the smallest and the largest value are exact.
void TargetedQuantiles::Flush() {
  if (buffer_.empty()) return;
  std::sort(buffer_.begin(), buffer_.end());
  std::vector<Tuple> merged;
  merged.reserve(sample_.size() + buffer_.size());
  size_t next = 0;
  double rank = 0;
  for (double value : buffer_) {
    while (next < sample_.size() && sample_[next].value <= value) {
      rank += static_cast<double>(sample_[next].g);
      merged.push_back(sample_[next++]);
    }
    ++count_;
    int64_t delta = 0;
    if (!merged.empty() && next < sample_.size()) {
      delta = std::max<int64_t>(0, static_cast<int64_t>(std::floor(AllowedError(rank))) - 1);
    }
    merged.push_back({value, 1, delta});
    rank += 1;
  }
  merged.insert(merged.end(), sample_.begin() + static_cast<std::ptrdiff_t>(next), sample_.end());
  sample_.swap(merged);
  buffer_.clear();
  Compress();
}

// Folds a tuple into its successor wherever the two together stay within the allowed error,
// walking from the largest value down; the smallest value is kept.
void TargetedQuantiles::Compress() {
  if (sample_.size() < 3) return;
  std::vector<Tuple> kept;
  kept.reserve(sample_.size());
  Tuple successor = sample_.back();
  double rank = static_cast<double>(count_ - successor.g);  // rank of the successor
  for (size_t i = sample_.size() - 2; i >= 1; --i) {
    const Tuple& t = sample_[i];
    rank -= static_cast<double>(t.g);  // now the rank of t
    if (static_cast<double>(t.g + successor.g + successor.delta) <= AllowedError(rank)) {
      successor.g += t.g;
    } else {
      kept.push_back(successor);
      successor = t;
    }
  }
  kept.push_back(successor);
  kept.push_back(sample_.front());
  std::reverse(kept.begin(), kept.end());
  kept.shrink_to_fit();  // a few dozen tuples remain of the sample + batch reserved above
  sample_.swap(kept);
}

// The first tuple whose maximum possible rank passes q*n plus half the allowed error there ends
// the search; its predecessor's value is the answer.
double TargetedQuantiles::Get(double q) {
  Flush();
  if (sample_.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double desired = q * static_cast<double>(count_);
  const double bound = desired + AllowedError(desired) / 2;
  double rank = 0;
  for (size_t i = 1; i < sample_.size(); ++i) {
    rank += static_cast<double>(sample_[i - 1].g);
    if (rank + static_cast<double>(sample_[i].g + sample_[i].delta) > bound) return sample_[i - 1].value;
  }
  return sample_.back().value;
}

}  // namespace beam_exporter::telemetry
