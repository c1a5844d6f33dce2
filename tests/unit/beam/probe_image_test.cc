#include "collectors/beam/probe_image.h"

#include <gtest/gtest.h>

#include <cctype>

namespace beam_exporter::beam {
namespace {

TEST(ProbeImageTest, EmbedsACompiledBeamFileAndItsSourceDigest) {
  std::string_view beam = ProbeBeam();
  ASSERT_GT(beam.size(), 1000u);
  // A BEAM file is an IFF container: "FOR1", length, "BEAM".
  EXPECT_EQ(beam.substr(0, 4), "FOR1");
  EXPECT_EQ(beam.substr(8, 4), "BEAM");
  std::string_view vsn = ProbeVersion();
  ASSERT_EQ(vsn.size(), 32u);
  for (char c : vsn) EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(c))) << vsn;
}

}  // namespace
}  // namespace beam_exporter::beam
