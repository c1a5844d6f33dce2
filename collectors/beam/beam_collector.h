// The BEAM collector: reads a running Erlang/Elixir node over erl_interface.
#pragma once

#include "exporter/collector.h"

namespace beam_exporter::beam {

CollectorDescriptor Descriptor();

}  // namespace beam_exporter::beam
