#include "exporter/logging.h"

#include <gtest/gtest.h>

namespace beam_exporter::log {
namespace {

TEST(LoggingTest, LogfmtQuotesWhereNeeded) {
  EXPECT_EQ(FormatLine(Format::kLogfmt, "T", Level::kWarn, "node down", {{"node", "app@h"}, {"err", "a \"b\"\nc"}}),
            "ts=T level=warn msg=\"node down\" node=app@h err=\"a \\\"b\\\"\\nc\"");
}

TEST(LoggingTest, LogfmtEmptyValueIsQuoted) {
  EXPECT_EQ(FormatLine(Format::kLogfmt, "T", Level::kInfo, "x", {{"k", ""}}), "ts=T level=info msg=x k=\"\"");
}

TEST(LoggingTest, JsonEscapes) {
  EXPECT_EQ(FormatLine(Format::kJson, "T", Level::kError, "bad \"line\"", {{"raw", std::string("a\x01", 2)}}),
            "{\"ts\":\"T\",\"level\":\"error\",\"msg\":\"bad \\\"line\\\"\",\"raw\":\"a\\u0001\"}");
}

TEST(LoggingTest, ParsesLevelsAndFormats) {
  Level l;
  Format f;
  EXPECT_TRUE(ParseLevel("debug", &l));
  EXPECT_EQ(l, Level::kDebug);
  EXPECT_FALSE(ParseLevel("verbose", &l));
  EXPECT_TRUE(ParseFormat("json", &f));
  EXPECT_EQ(f, Format::kJson);
  EXPECT_FALSE(ParseFormat("xml", &f));
}

TEST(RateLimiterTest, AllowsOnePerIntervalAndCountsSuppressed) {
  RateLimiter limiter(std::chrono::seconds(10));
  const auto t0 = RateLimiter::Clock::time_point() + std::chrono::hours(1);
  uint64_t suppressed = 99;
  EXPECT_TRUE(limiter.Allow("k", &suppressed, t0));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_FALSE(limiter.Allow("k", &suppressed, t0 + std::chrono::seconds(1)));
  EXPECT_FALSE(limiter.Allow("k", &suppressed, t0 + std::chrono::seconds(2)));
  EXPECT_TRUE(limiter.Allow("other", &suppressed, t0 + std::chrono::seconds(2)));
  EXPECT_TRUE(limiter.Allow("k", &suppressed, t0 + std::chrono::seconds(11)));
  EXPECT_EQ(suppressed, 2u);
}

}  // namespace
}  // namespace beam_exporter::log
