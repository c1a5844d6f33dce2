// Placeholder until the telemetry collector lands (issue 5).
#include "collectors/telemetry/telemetry_collector.h"

namespace beam_exporter::telemetry {
namespace {
class TelemetryCollector : public Collector {
 public:
  void Configure(ConfigMap& section) override { section.CheckNoUnknownKeys(); }
  Status Collect(Clock::time_point, std::vector<prometheus::MetricFamily>*) override {
    return Status::Unavailable("not implemented");
  }
};
}  // namespace

CollectorDescriptor Descriptor() {
  return {"telemetry", "Receives :telemetry events over UDP", true, {},
          [] { return std::make_unique<TelemetryCollector>(); }};
}

}  // namespace beam_exporter::telemetry
