// The telemetry collector: :telemetry events over UDP, mapped to Prometheus metrics.
#pragma once

#include "exporter/collector.h"

namespace beam_exporter::telemetry {

CollectorDescriptor Descriptor();

}  // namespace beam_exporter::telemetry
