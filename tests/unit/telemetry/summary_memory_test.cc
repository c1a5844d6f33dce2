// Heap held by one summary window, measured by counting this binary's allocations (its own
// test binary, so the counting operator new affects nothing else). The CKMS estimators keep a
// compressed sample whose size grows with log(observations), and the window resets each
// estimator every max_age / age_buckets; the test checks that the heap stays under a fixed
// bound however many observations arrive, within one window and across many rotations.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>

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

// Bytes one window with the default options (3 objectives, 5 age buckets) may hold: 5 CKMS
// estimators of a 4000-byte insert buffer each plus their compressed samples. Measured here:
// about 24 KiB after 10^5 observations in one window, 27 KiB after 10^7 (see the output).
constexpr int64_t kBoundBytes = 48 * 1024;

// Deterministic, not sorted: a 64-bit LCG, values in [0, 1) seconds.
struct Values {
  uint64_t state = 42;
  double Next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) * 0x1.0p-53;
  }
};

TEST(SummaryMemoryTest, OneWindowStaysUnderTheBoundWithinAWindow) {
  SummaryWindow::Objectives objectives = {{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}};
  int64_t before = live_bytes.load();
  auto* window = new SummaryWindow(objectives, std::chrono::minutes(10), 5, kT0);
  Values values;
  int64_t peak = 0;
  uint64_t observed = 0;
  for (uint64_t target : {1'000ULL, 100'000ULL, 1'000'000ULL, 10'000'000ULL}) {
    for (; observed < target; ++observed) window->Observe(values.Next(), 1, kT0);
    window->Quantile(0.5, kT0);  // flushes the insert buffer into the sample
    int64_t bytes = live_bytes.load() - before;
    peak = std::max(peak, bytes);
    std::printf("observations in one window: %llu, heap: %lld bytes\n", static_cast<unsigned long long>(observed),
                static_cast<long long>(bytes));
  }
  EXPECT_LT(peak, kBoundBytes);
  delete window;
  EXPECT_EQ(live_bytes.load(), before);
}

TEST(SummaryMemoryTest, RotationKeepsTheHeapFlat) {
  SummaryWindow::Objectives objectives = {{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}};
  int64_t before = live_bytes.load();
  SummaryWindow window(objectives, seconds(60), 5, kT0);
  Values values;
  int64_t peak = 0;
  // 30 rotation intervals of 12 s (six windows), 100k observations each.
  for (int interval = 0; interval < 30; ++interval) {
    auto t = kT0 + seconds(12 * interval);
    for (int i = 0; i < 100'000; ++i) window.Observe(values.Next(), 1, t);
    window.Quantile(0.5, t);
    peak = std::max(peak, live_bytes.load() - before);
  }
  std::printf("peak heap over 30 rotations of 100k observations: %lld bytes\n", static_cast<long long>(peak));
  EXPECT_LT(peak, kBoundBytes);
}

}  // namespace
}  // namespace beam_exporter::telemetry
