#include "exporter/http_server.h"

#include <gtest/gtest.h>

#include "exporter/config_map.h"

namespace beam_exporter {
namespace {

TEST(HttpServerTest, ConvertsListenAddresses) {
  EXPECT_EQ(CivetListeningPort(":9568", false), "0.0.0.0:9568");
  EXPECT_EQ(CivetListeningPort("127.0.0.1:80", true), "127.0.0.1:80s");
  EXPECT_EQ(CivetListeningPort("localhost:1", false), "127.0.0.1:1");
  EXPECT_THROW(CivetListeningPort("[::1]:9568", false), ConfigError);
  EXPECT_THROW(CivetListeningPort("9568", false), ConfigError);
  EXPECT_THROW(CivetListeningPort(":99999", false), ConfigError);
  EXPECT_THROW(CivetListeningPort("example.com:80", false), ConfigError);
}

TEST(HttpServerTest, DecodesBase64) {
  std::string out;
  ASSERT_TRUE(DecodeBase64("YWxpY2U6cHc=", &out));
  EXPECT_EQ(out, "alice:pw");
  EXPECT_FALSE(DecodeBase64("a!b", &out));
  EXPECT_FALSE(DecodeBase64("YQ==x", &out));
}

}  // namespace
}  // namespace beam_exporter
