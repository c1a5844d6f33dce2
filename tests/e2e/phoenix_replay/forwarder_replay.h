// The recorded :telemetry events (../shared/fixtures/phoenix-1.7/events.etf) replayed by an
// Elixir script on a real node with the forwarder (tests/support/run-with-forwarder), into a
// real beam_exporter started with the shipped configuration, telemetry collector only. Used by
// the native replay (replay_events.exs: the presets, event by event) and the metrics replay
// (replay_metrics.exs: the stock Telemetry.Metrics definitions, aggregated in the app).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "tests/support/exporter_process.h"
#include "tests/support/subprocess.h"

namespace beam_exporter::testing {

struct ForwarderReplay {
  std::unique_ptr<ExporterProcess> exporter;  // still running, for the test to scrape
  CommandResult replay;                       // the script's exit status and output
  std::map<std::string, double> stats;        // its `stats key=value ...` lines
  std::map<std::string, double> sums;         // its `sum <metric> <value>` lines
};

// Runs tests/e2e/phoenix_replay/<script> against a new exporter. Fails the calling test
// (fatally: call it in ASSERT_NO_FATAL_FAILURE) when the recording is missing, the exporter does
// not start or the script fails.
void ReplayThroughForwarder(const std::string& script, ForwarderReplay* out);

}  // namespace beam_exporter::testing
