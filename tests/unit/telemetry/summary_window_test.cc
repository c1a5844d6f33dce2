#include "collectors/telemetry/summary_window.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace beam_exporter::telemetry {
namespace {

using std::chrono::seconds;
using TimePoint = SummaryWindow::TimePoint;

const TimePoint kT0 = TimePoint{} + std::chrono::hours(1);

SummaryWindow::Objectives DefaultObjectives() { return {{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}}; }

// A fixed permutation of 1..n (n prime), so the estimator does not see sorted input.
uint64_t Permuted(uint64_t i, uint64_t n) { return (i * 7919) % n + 1; }

TEST(SummaryWindowTest, QuantilesWithinTheirErrorOnAKnownDistribution) {
  SummaryWindow::Objectives objectives = DefaultObjectives();
  SummaryWindow window(objectives, std::chrono::minutes(10), 5, kT0);
  const uint64_t n = 10007;  // values 1..n, each once: value v has rank v/n
  for (uint64_t i = 0; i < n; ++i) window.Observe(static_cast<double>(Permuted(i, n)), 1, kT0);
  for (const auto& objective : objectives) {
    double rank = window.Quantile(objective.quantile, kT0) / static_cast<double>(n);
    EXPECT_NEAR(rank, objective.quantile, objective.error) << "quantile " << objective.quantile;
  }
}

TEST(SummaryWindowTest, EmptyWindowIsNaN) {
  SummaryWindow::Objectives objectives = DefaultObjectives();
  SummaryWindow window(objectives, seconds(60), 3, kT0);
  EXPECT_TRUE(std::isnan(window.Quantile(0.5, kT0)));
}

TEST(SummaryWindowTest, RotationWithInjectedTimeForgetsOldObservations) {
  SummaryWindow::Objectives objectives = DefaultObjectives();
  // Three age buckets of 20 s: reset in turn at t0+20, +40, +60, +80, ...
  SummaryWindow window(objectives, seconds(60), 3, kT0);
  for (int i = 0; i < 1000; ++i) window.Observe(100, 1, kT0);
  EXPECT_EQ(window.Quantile(0.5, kT0 + seconds(59)), 100);
  for (int i = 0; i < 1000; ++i) window.Observe(1, 1, kT0 + seconds(45));
  // The oldest bucket (last reset at t0) still holds the 100s.
  EXPECT_EQ(window.Quantile(0.99, kT0 + seconds(45)), 100);
  // Past t0+60 the buckets that saw the 100s are all reset: only the 1s remain.
  EXPECT_EQ(window.Quantile(0.99, kT0 + seconds(61)), 1);
  EXPECT_EQ(window.Quantile(0.5, kT0 + seconds(61)), 1);
  // And once the 1s are older than max_age too, the window is empty again.
  EXPECT_TRUE(std::isnan(window.Quantile(0.5, kT0 + seconds(101))));
}

TEST(SummaryWindowTest, LongQuietGapResetsEverythingAndKeepsWorking) {
  SummaryWindow::Objectives objectives = DefaultObjectives();
  SummaryWindow window(objectives, seconds(10), 5, kT0);
  window.Observe(5, 1, kT0);
  // Years later: one reset of every bucket, not one step per missed interval.
  TimePoint later = kT0 + std::chrono::hours(24 * 365 * 10);
  EXPECT_TRUE(std::isnan(window.Quantile(0.5, later)));
  window.Observe(7, 1, later);
  EXPECT_EQ(window.Quantile(0.5, later + seconds(1)), 7);
}

TEST(SummaryWindowTest, RepeatWeighsAnObservationUpToTheCap) {
  SummaryWindow::Objectives objectives = {{0.5, 0.01}};
  SummaryWindow window(objectives, seconds(60), 1, kT0);
  // One sampled observation of 10 standing for 50 copies outweighs 40 plain 1s.
  for (int i = 0; i < 40; ++i) window.Observe(1, 1, kT0);
  window.Observe(10, 50, kT0);
  EXPECT_EQ(window.Quantile(0.5, kT0), 10);
  // A huge repeat counts as kMaxRepeat copies: 2 * kMaxRepeat plain 1s outweigh it.
  SummaryWindow capped(objectives, seconds(60), 1, kT0);
  for (uint32_t i = 0; i < 2 * SummaryWindow::kMaxRepeat; ++i) capped.Observe(1, 1, kT0);
  capped.Observe(10, 4'000'000'000u, kT0);
  EXPECT_EQ(capped.Quantile(0.5, kT0), 1);
}

}  // namespace
}  // namespace beam_exporter::telemetry
