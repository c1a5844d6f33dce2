// The recordings of a real Phoenix 1.7 stack in ../shared/fixtures/phoenix-1.7 (read its README
// and scenario.md): where they are, and the StatsD datagrams as they were received.
#pragma once

#include <string>
#include <vector>

namespace beam_exporter::testing {

// ../shared/fixtures/phoenix-1.7/<name>. Fails the calling test at once (gtest fatal failure in
// the caller's ASSERT_NO_FATAL_FAILURE) when the file is missing, naming it.
std::string PhoenixFixturePath(const std::string& name);

// The datagrams of statsd-datadog.txt / statsd-standard.txt: one per line, with the README's
// escaping undone (`\\` -> `\`, `\n` -> LF).
std::vector<std::string> ReadStatsdDatagrams(const std::string& path);

}  // namespace beam_exporter::testing
