// Heap held by one summary window, measured by counting this binary's allocations (its own
// test binary, so the counting operator new affects nothing else). The estimators keep a
// compressed sample that grows at most with log(observations), and the window resets each
// estimator every max_age / age_buckets: within one window the heap does not grow with the
// observations, and across rotations it does not grow at all.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <array>

#include "collectors/telemetry/summary_window.h"

namespace {

std::atomic<int64_t> live_bytes{0};
constexpr size_t kHeader = alignof(std::max_align_t);

void* CountedAlloc(size_t size) {
  void* p = std::malloc(size + kHeader);
  if (p == nullptr) throw std::bad_alloc();
  *static_cast<size_t*>(p) = size;
  live_bytes += static_cast<int64_t>(size);
  return static_cast<char*>(p) + kHeader;
}

void CountedFree(void* p) {
  if (p == nullptr) return;
  void* base = static_cast<char*>(p) - kHeader;
  live_bytes -= static_cast<int64_t>(*static_cast<size_t*>(base));
  std::free(base);
}

}  // namespace

void* operator new(size_t size) { return CountedAlloc(size); }
void* operator new[](size_t size) { return CountedAlloc(size); }
void operator delete(void* p) noexcept { CountedFree(p); }
void operator delete[](void* p) noexcept { CountedFree(p); }
void operator delete(void* p, size_t) noexcept { CountedFree(p); }
void operator delete[](void* p, size_t) noexcept { CountedFree(p); }

namespace beam_exporter::telemetry {
namespace {

using std::chrono::seconds;
const SummaryWindow::TimePoint kT0 = SummaryWindow::TimePoint{} + std::chrono::hours(1);

// Deterministic, not sorted: a 64-bit LCG, values in [0, 1) seconds.
struct Values {
  uint64_t state = 42;
  double Next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) * 0x1.0p-53;
  }
};

SummaryWindow::Objectives DefaultObjectives() { return {{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}}; }

// Within one window the heap grows at most with the log of the observations, not with their
// number.
TEST(SummaryMemoryTest, HeapGrowsWithTheLogOfObservationsInAWindow) {
  SummaryWindow::Objectives objectives = DefaultObjectives();
  int64_t before = live_bytes.load();
  auto* window = new SummaryWindow(objectives, std::chrono::minutes(10), 5, kT0);
  Values values;
  uint64_t observed = 0;
  std::array<int64_t, 3> bytes{};  // not a vector: it would count as held by the window
  size_t step = 0;
  for (uint64_t target : {500ULL, 5'000ULL, 50'000ULL}) {
    for (; observed < target; ++observed) window->Observe(values.Next(), 1, kT0);
    window->Quantile(0.5, kT0);  // flushes the insert buffers into the samples
    bytes[step] = live_bytes.load() - before;
    std::printf("observations in one window: %llu, heap: %lld bytes\n", static_cast<unsigned long long>(observed),
                static_cast<long long>(bytes[step]));
    ++step;
  }
  // 100 times the observations, well under 10 times the heap.
  EXPECT_LT(bytes[2], 10 * bytes[0]);
  // Measured: 27 KB, 31 KB and 30 KB for 500, 5k and 50k observations.
  EXPECT_LT(bytes[2], 512 * 1024);
  delete window;
  EXPECT_EQ(live_bytes.load(), before);
}

// Across windows the heap does not grow: each estimator is reset every max_age / age_buckets.
// How many tuples survive compression depends on the values, so two windows differ by a few
// tuples; growth would be proportional to the observations (2k more per interval).
TEST(SummaryMemoryTest, RotationKeepsTheHeapFlat) {
  SummaryWindow::Objectives objectives = DefaultObjectives();
  int64_t before = live_bytes.load();
  SummaryWindow window(objectives, seconds(60), 5, kT0);
  Values values;
  int64_t first_windows_peak = 0;
  int64_t later_peak = 0;
  // 50 rotation intervals of 12 s (ten windows), 2k observations each.
  for (int interval = 0; interval < 50; ++interval) {
    auto t = kT0 + seconds(12 * interval);
    for (int i = 0; i < 2'000; ++i) window.Observe(values.Next(), 1, t);
    window.Quantile(0.5, t);
    int64_t bytes = live_bytes.load() - before;
    int64_t& peak = interval < 10 ? first_windows_peak : later_peak;
    peak = std::max(peak, bytes);
  }
  std::printf("peak heap, 2k observations per 12 s interval: first two windows %lld bytes, next eight %lld bytes\n",
              static_cast<long long>(first_windows_peak), static_cast<long long>(later_peak));
  EXPECT_LE(later_peak, first_windows_peak * 105 / 100);
}

}  // namespace
}  // namespace beam_exporter::telemetry
