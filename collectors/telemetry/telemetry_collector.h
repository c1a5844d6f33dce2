// The telemetry collector: :telemetry events arriving over UDP (StatsD/DogStatsD lines or the
// native ETF form), Unix datagrams or TCP lines, mapped to Prometheus metrics
// (docs/telemetry.md). Configure() reads `collectors.telemetry`; Start() binds the sockets and
// starts the reader threads; Collect() merges the aggregator shards on the scrape thread.
#pragma once

#include "exporter/collector.h"

namespace beam_exporter::telemetry {

CollectorDescriptor Descriptor();

}  // namespace beam_exporter::telemetry
