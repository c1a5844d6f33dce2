// Paths the build passes to tests (set by tests/CMakeLists.txt as compile definitions).
#pragma once

namespace beam_exporter::testing {
// The beam_exporter binary under test.
inline constexpr const char* kExporterBinary = BEAM_EXPORTER_BINARY;
// The project's source tree (config/, deploy/, grafana/ ...).
inline constexpr const char* kSourceDir = BEAM_EXPORTER_SOURCE_DIR;
// ../shared beside the project (recorded fixtures, e.g. fixtures/phoenix-1.7).
inline constexpr const char* kSharedDir = BEAM_EXPORTER_SHARED_DIR;
}  // namespace beam_exporter::testing
