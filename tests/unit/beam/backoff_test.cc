#include "collectors/beam/backoff.h"

#include <gtest/gtest.h>

namespace beam_exporter::beam {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, DoublesUpToTheCapAndResets) {
  Backoff b(milliseconds(250), milliseconds(2000));
  EXPECT_EQ(b.NextDelay(), milliseconds(250));
  EXPECT_EQ(b.NextDelay(), milliseconds(500));
  EXPECT_EQ(b.NextDelay(), milliseconds(1000));
  EXPECT_EQ(b.NextDelay(), milliseconds(2000));
  EXPECT_EQ(b.NextDelay(), milliseconds(2000));
  for (int i = 0; i < 100; ++i) b.NextDelay();  // no overflow after many failures
  EXPECT_EQ(b.NextDelay(), milliseconds(2000));
  b.Reset();
  EXPECT_EQ(b.failures(), 0);
  EXPECT_EQ(b.NextDelay(), milliseconds(250));
}

}  // namespace
}  // namespace beam_exporter::beam
