#include "tests/e2e/phoenix_replay/forwarder_replay.h"

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>

#include "tests/support/net.h"
#include "tests/support/paths.h"
#include "tests/support/phoenix_fixture.h"

namespace beam_exporter::testing {
namespace {

void ParseOutput(const std::string& output, ForwarderReplay* out) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string tag;
    fields >> tag;
    if (tag == "stats") {
      for (std::string field; fields >> field;) {
        size_t eq = field.find('=');
        if (eq != std::string::npos) out->stats[field.substr(0, eq)] = std::stod(field.substr(eq + 1));
      }
    } else if (tag == "sum") {
      std::string name, value;
      fields >> name >> value;
      out->sums[name] = std::stod(value);
    }
  }
}

}  // namespace

void ReplayThroughForwarder(const std::string& script, ForwarderReplay* out) {
  const std::string events = PhoenixFixturePath("events.etf");
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  out->exporter = std::make_unique<ExporterProcess>(ShippedConfigTelemetryOnly());
  ASSERT_TRUE(out->exporter->ready()) << out->exporter->Output();
  out->replay = RunCommand({std::string(kSourceDir) + "/tests/support/run-with-forwarder", PHOENIX_REPLAY_WORK_DIR,
                            std::string(kSourceDir) + "/tests/e2e/phoenix_replay/" + script,
                            std::to_string(out->exporter->udp_port()), events},
                           std::chrono::milliseconds(180000));
  ASSERT_EQ(out->replay.status, 0) << out->replay.output;
  ParseOutput(out->replay.output, out);
}

}  // namespace beam_exporter::testing
