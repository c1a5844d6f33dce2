#include "collectors/telemetry/summary_window.h"

#include <algorithm>

namespace beam_exporter::telemetry {

SummaryWindow::SummaryWindow(const Objectives& objectives, std::chrono::milliseconds max_age, int age_buckets,
                             TimePoint now)
    : interval_(std::chrono::nanoseconds(max_age) / std::max(age_buckets, 1)), head_reset_at_(now + interval_) {
  estimators_.reserve(static_cast<size_t>(std::max(age_buckets, 1)));
  for (int i = 0; i < std::max(age_buckets, 1); ++i) estimators_.emplace_back(&objectives);
}

void SummaryWindow::Rotate(TimePoint now) {
  if (now < head_reset_at_) return;
  if (now - head_reset_at_ >= interval_ * static_cast<int64_t>(estimators_.size())) {
    // Quiet for a whole window: everything is stale, and stepping through the missed
    // intervals one by one could take arbitrarily long.
    for (auto& estimator : estimators_) estimator.Reset();
    head_reset_at_ = now + interval_;
    return;
  }
  while (now >= head_reset_at_) {
    estimators_[head_].Reset();
    head_ = (head_ + 1) % estimators_.size();
    head_reset_at_ += interval_;
  }
}

void SummaryWindow::Observe(double value, uint32_t repeat, TimePoint now) {
  Rotate(now);
  uint32_t copies = std::min(repeat, kMaxRepeat);
  for (auto& estimator : estimators_) {
    for (uint32_t i = 0; i < copies; ++i) estimator.Insert(value);
  }
}

double SummaryWindow::Quantile(double q, TimePoint now) {
  Rotate(now);
  return estimators_[head_].Get(q);
}

}  // namespace beam_exporter::telemetry
