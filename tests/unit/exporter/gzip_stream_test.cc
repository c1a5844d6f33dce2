#include "exporter/gzip_stream.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/support/gunzip.h"

namespace beam_exporter {
namespace {

using testing::Gunzip;

TEST(GzipStreamTest, PiecesDecompressToTheirConcatenation) {
  std::mt19937 rng(1);
  std::string plain;
  std::string compressed;
  GzipStream gzip([&](std::string_view piece) {
    compressed.append(piece);
    return true;
  });
  for (int i = 0; i < 2000; ++i) {
    std::string piece = "metric_" + std::to_string(rng() % 100) + "{label=\"" + std::to_string(rng()) + "\"} 1\n";
    plain += piece;
    ASSERT_TRUE(gzip.Write(piece));
  }
  ASSERT_TRUE(gzip.Finish());
  bool ok = false;
  EXPECT_EQ(Gunzip(compressed, &ok), plain);
  EXPECT_TRUE(ok);
  EXPECT_LT(compressed.size(), plain.size() / 2);
}

TEST(GzipStreamTest, EmptyBodyIsAValidGzipMember) {
  std::string compressed;
  GzipStream gzip([&](std::string_view piece) {
    compressed.append(piece);
    return true;
  });
  ASSERT_TRUE(gzip.Finish());
  bool ok = false;
  EXPECT_EQ(Gunzip(compressed, &ok), "");
  EXPECT_TRUE(ok);
}

TEST(GzipStreamTest, ReportsARefusingSink) {
  GzipStream gzip([](std::string_view) { return false; });
  gzip.Write(std::string(1 << 20, 'x'));
  EXPECT_FALSE(gzip.Finish());
}

TEST(GzipStreamTest, AcceptEncodingParsing) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("deflate, GZIP"));
  EXPECT_TRUE(AcceptsGzip("gzip;q=0.5, identity"));
  EXPECT_TRUE(AcceptsGzip("x-gzip"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("gzipped"));
}

}  // namespace
}  // namespace beam_exporter
