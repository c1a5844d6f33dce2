#include "exporter/build_info.h"

namespace beam_exporter {

BuildInfo CurrentBuildInfo() {
#if defined(__clang__)
  const std::string compiler = "clang-" __clang_version__;
#elif defined(__GNUC__)
  const std::string compiler = "gcc-" __VERSION__;
#else
  const std::string compiler = "unknown";
#endif
  return {BEAM_EXPORTER_VERSION, BEAM_EXPORTER_REVISION, compiler};
}

}  // namespace beam_exporter
