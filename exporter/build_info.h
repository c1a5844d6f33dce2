// Version, revision and compiler of this binary, for --version and beam_exporter_build_info.
#pragma once

#include "exporter/scraper.h"

namespace beam_exporter {

BuildInfo CurrentBuildInfo();

}  // namespace beam_exporter
