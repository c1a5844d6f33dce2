#include "collectors/beam/group_cadence.h"

#include <gtest/gtest.h>

namespace beam_exporter::beam {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(GroupCadenceTest, CheapPassesKeepGroupsEvery) {
  // 30 ms every 12 x 10 s is 0.025% of a core, under a 0.15% budget.
  EXPECT_EQ(CollectionsBetweenGroupPasses(microseconds(30000), milliseconds(10000), 12, 0.0015), 12);
  EXPECT_EQ(CollectionsBetweenGroupPasses(microseconds(500), milliseconds(300), 1, 0.0015), 2);
  EXPECT_EQ(CollectionsBetweenGroupPasses(microseconds(0), milliseconds(300), 1, 0.0015), 1);
}

TEST(GroupCadenceTest, CostlyPassesAreSpacedToStayWithinTheBudget) {
  // 0.15% of 10 s is 15 ms per collection: a 272 ms pass needs 19 collections, a 1.6 s one 107.
  EXPECT_EQ(CollectionsBetweenGroupPasses(microseconds(272000), milliseconds(10000), 12, 0.0015), 19);
  EXPECT_EQ(CollectionsBetweenGroupPasses(microseconds(1600000), milliseconds(10000), 12, 0.0015), 107);
  // Exactly on the budget needs no extra collection.
  EXPECT_EQ(CollectionsBetweenGroupPasses(microseconds(180000), milliseconds(10000), 12, 0.0015), 12);
  EXPECT_EQ(CollectionsBetweenGroupPasses(microseconds(195000), milliseconds(10000), 12, 0.0015), 13);
}

TEST(GroupCadenceTest, AWholeCoreBudgetNeverStretchesAndTheGapIsCapped) {
  EXPECT_EQ(CollectionsBetweenGroupPasses(microseconds(900000), milliseconds(1000), 1, 1.0), 1);
  EXPECT_EQ(CollectionsBetweenGroupPasses(microseconds(3600000000LL), milliseconds(100), 12, 0.0001), 8640);
}

}  // namespace
}  // namespace beam_exporter::beam
