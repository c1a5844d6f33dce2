#include "collectors/telemetry/listener_options.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace beam_exporter::telemetry {
namespace {

TEST(ListenAddressTest, Forms) {
  ListenAddress any = ParseListenAddress(":8125");
  EXPECT_EQ(any.host, "");
  EXPECT_EQ(any.port, 8125);
  ListenAddress v4 = ParseListenAddress("127.0.0.1:9125");
  EXPECT_EQ(v4.host, "127.0.0.1");
  EXPECT_EQ(v4.port, 9125);
  ListenAddress v6 = ParseListenAddress("[::1]:0");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 0);
}

TEST(ListenAddressTest, BadFormsThrow) {
  for (const char* bad : {"8125", "host:", "host:port", ":65536", ":123456", ":-1"}) {
    EXPECT_THROW(ParseListenAddress(bad), std::invalid_argument) << bad;
  }
}

TEST(ListenAddressTest, ReceiverCountFollowsTheSockets) {
  ListenerOptions o;
  o.udp_address = ":8125";
  o.readers = 3;
  EXPECT_EQ(ReceiverCount(o), 3u);
  o.unixgram_path = "/tmp/x.sock";
  o.tcp_address = ":9125";
  EXPECT_EQ(ReceiverCount(o), 5u);
  o.udp_address = "";
  EXPECT_EQ(ReceiverCount(o), 2u);
}

}  // namespace
}  // namespace beam_exporter::telemetry
