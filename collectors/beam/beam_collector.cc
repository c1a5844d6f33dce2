// Placeholder until the BEAM collector lands (issue 4).
#include "collectors/beam/beam_collector.h"

namespace beam_exporter::beam {
namespace {
class BeamCollector : public Collector {
 public:
  void Configure(ConfigMap& section) override { section.CheckNoUnknownKeys(); }
  Status Collect(Clock::time_point, std::vector<prometheus::MetricFamily>*) override {
    return Status::Unavailable("not implemented");
  }
};
}  // namespace

CollectorDescriptor Descriptor() {
  return {"beam", "Reads VM metrics from an Erlang/Elixir node over erl_interface", true, {},
          [] { return std::make_unique<BeamCollector>(); }};
}

}  // namespace beam_exporter::beam
