// Defaults shared by the flag help text and the configuration loader.
#pragma once

namespace beam_exporter {

// 9568 is beam_exporter's own default port (documented in README.md).
inline constexpr const char* kDefaultListenAddress = ":9568";
inline constexpr const char* kDefaultTelemetryPath = "/metrics";

}  // namespace beam_exporter
