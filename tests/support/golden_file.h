// Golden files: a test's output compared line by line with a file checked in next to the test.
// After an intended change: BEAM_EXPORTER_UPDATE_GOLDEN=1 ctest -R <test> rewrites the file.
#pragma once

#include <set>
#include <string>

namespace beam_exporter::testing {

// "" when `lines` equals the golden file at `path` (one line each, order ignored), else a diff
// ("- " missing, "+ " unexpected). With BEAM_EXPORTER_UPDATE_GOLDEN set, rewrites the file
// and returns "".
std::string GoldenDiff(const std::string& path, const std::set<std::string>& lines);

// The lines of a Prometheus text exposition (samples, HELP and TYPE) of every family that is not
// the exporter's own (beam_exporter_*, process_*): what the telemetry collector made of its input.
std::set<std::string> ExpositionWithoutSelfMetrics(const std::string& exposition);

}  // namespace beam_exporter::testing
