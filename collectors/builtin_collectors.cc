// The collectors compiled into beam_exporter, in the order their families are served.
#include "collectors/beam/beam_collector.h"
#include "collectors/telemetry/telemetry_collector.h"
#include "exporter/collector.h"

namespace beam_exporter {

const std::vector<CollectorDescriptor>& BuiltinCollectors() {
  static const std::vector<CollectorDescriptor> collectors = {
      beam::Descriptor(),
      telemetry::Descriptor(),
  };
  return collectors;
}

}  // namespace beam_exporter
