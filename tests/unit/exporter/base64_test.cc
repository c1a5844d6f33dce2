#include "exporter/base64.h"

#include <gtest/gtest.h>

namespace beam_exporter {
namespace {

TEST(Base64Test, DecodesBase64) {
  std::string out;
  ASSERT_TRUE(DecodeBase64("YWxpY2U6cHc=", &out));
  EXPECT_EQ(out, "alice:pw");
  EXPECT_FALSE(DecodeBase64("a!b", &out));
  EXPECT_FALSE(DecodeBase64("YQ==x", &out));
}

}  // namespace
}  // namespace beam_exporter
