#include "exporter/listen_address.h"

#include <gtest/gtest.h>

#include "exporter/config_map.h"

namespace beam_exporter {
namespace {

TEST(ListenAddressTest, ConvertsListenAddresses) {
  EXPECT_EQ(CivetListeningPort(":9568", false), "0.0.0.0:9568");
  EXPECT_EQ(CivetListeningPort("127.0.0.1:80", true), "127.0.0.1:80s");
  EXPECT_EQ(CivetListeningPort("localhost:1", false), "127.0.0.1:1");
  EXPECT_THROW(CivetListeningPort("[::1]:9568", false), ConfigError);
  EXPECT_THROW(CivetListeningPort("9568", false), ConfigError);
  EXPECT_THROW(CivetListeningPort(":99999", false), ConfigError);
  EXPECT_THROW(CivetListeningPort("example.com:80", false), ConfigError);
}

TEST(ListenAddressTest, TakesOnlyDottedQuadIpv4) {
  EXPECT_EQ(CivetListeningPort("10.0.0.255:1", false), "10.0.0.255:1");
  for (const char* bad : {"1.2.3:1", "1.2.3.4.5:1", "256.1.1.1:1", "01.2.3.4:1", "1..3.4:1", "1.2.3.4.:1", "a.b.c.d:1",
                          "1.2.3.1234:1"}) {
    EXPECT_THROW(CivetListeningPort(bad, false), ConfigError) << bad;
  }
}

}  // namespace
}  // namespace beam_exporter
