#include "collectors/telemetry/targeted_quantiles.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace beam_exporter::telemetry {
namespace {

using Objectives = std::vector<TargetedQuantiles::Objective>;

// Inserts `values`, then checks every objective: the answer's rank range in the sorted data
// (values equal to it span several ranks) must reach within error * n of quantile * n.
void ExpectWithinObjectives(const Objectives& objectives, const std::vector<double>& values, const std::string& what) {
  TargetedQuantiles estimator(&objectives);
  for (double v : values) estimator.Insert(v);
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const double n = static_cast<double>(values.size());
  for (const auto& o : objectives) {
    double answer = estimator.Get(o.quantile);
    double lowest_rank = static_cast<double>(std::lower_bound(sorted.begin(), sorted.end(), answer) - sorted.begin());
    double highest_rank = static_cast<double>(std::upper_bound(sorted.begin(), sorted.end(), answer) - sorted.begin());
    EXPECT_LE(lowest_rank, (o.quantile + o.error) * n) << what << ": quantile " << o.quantile << " answered " << answer;
    EXPECT_GE(highest_rank, (o.quantile - o.error) * n) << what << ": quantile " << o.quantile << " answered " << answer;
  }
}

const Objectives kDefaults = {{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}};

TEST(TargetedQuantilesTest, AnswersWithinEachObjectiveForShuffledSortedReversedAndRepeatedInput) {
  const uint64_t n = 100'003;  // prime, so i * 7919 % n is a permutation
  std::vector<double> shuffled, ascending, descending, repeated;
  for (uint64_t i = 0; i < n; ++i) {
    shuffled.push_back(static_cast<double>((i * 7919) % n));
    ascending.push_back(static_cast<double>(i));
    descending.push_back(static_cast<double>(n - i));
    repeated.push_back(static_cast<double>((i * 7919) % 37));
  }
  ExpectWithinObjectives(kDefaults, shuffled, "shuffled");
  ExpectWithinObjectives(kDefaults, ascending, "ascending");
  ExpectWithinObjectives(kDefaults, descending, "descending");
  ExpectWithinObjectives(kDefaults, repeated, "repeated");
}

TEST(TargetedQuantilesTest, LowQuantilesAreAnsweredToo) {
  const Objectives low = {{0.01, 0.001}, {0.25, 0.01}};
  std::vector<double> shuffled, descending;
  for (uint64_t i = 0; i < 50'021; ++i) {
    shuffled.push_back(static_cast<double>((i * 7919) % 50'021));
    descending.push_back(static_cast<double>(50'021 - i));
  }
  ExpectWithinObjectives(low, shuffled, "low quantiles, shuffled");
  ExpectWithinObjectives(low, descending, "low quantiles, descending");
}

TEST(TargetedQuantilesTest, SampleStaysSmallAsObservationsGrow) {
  TargetedQuantiles estimator(&kDefaults);
  size_t at_10k = 0;
  for (uint64_t i = 0; i < 1'000'000; ++i) {
    estimator.Insert(static_cast<double>((i * 7919) % 1'000'003));
    if (i + 1 == 10'000) {
      estimator.Get(0.5);
      at_10k = estimator.sample_size();
    }
  }
  estimator.Get(0.5);
  // 100 times the observations; the sample grows with their log (measured: see the output).
  std::printf("tuples kept: %zu after 10k observations, %zu after 1M\n", at_10k, estimator.sample_size());
  EXPECT_LT(estimator.sample_size(), 3 * at_10k);
  EXPECT_LT(estimator.sample_size(), 10'000u);
}

TEST(TargetedQuantilesTest, EmptyAndResetAreNaNAndOneValueIsItself) {
  TargetedQuantiles estimator(&kDefaults);
  EXPECT_TRUE(std::isnan(estimator.Get(0.5)));
  estimator.Insert(42);
  EXPECT_EQ(estimator.Get(0.5), 42);
  EXPECT_EQ(estimator.Get(0.99), 42);
  estimator.Reset();
  EXPECT_TRUE(std::isnan(estimator.Get(0.5)));
  EXPECT_EQ(estimator.sample_size(), 0u);
}

}  // namespace
}  // namespace beam_exporter::telemetry
