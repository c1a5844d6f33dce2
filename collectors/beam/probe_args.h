// The argument lists of the calls the exporter makes on the node, encoded for
// NodeLink::Rpc (ETF without the version byte). The collector and the benchmark share
// them, so the benchmark calls the probe exactly as the exporter does.
#pragma once

#include <ei.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/beam/beam_config.h"
#include "collectors/beam/scan_budget.h"

namespace beam_exporter::beam {

// An ei_x_buff that frees itself.
class RpcArgs {
 public:
  RpcArgs() { ei_x_new(&x_); }
  ~RpcArgs() { ei_x_free(&x_); }
  RpcArgs(const RpcArgs&) = delete;
  RpcArgs& operator=(const RpcArgs&) = delete;
  ei_x_buff* x() { return &x_; }
  const ei_x_buff& buff() const { return x_; }

 private:
  ei_x_buff x_;
};

// [Atom, ...]: each string as an atom (no atoms: []).
void EncodeAtomArgs(const std::vector<std::string>& atoms, RpcArgs* out);

// code:load_binary/3's [Module, Filename, Beam] for the probe's compiled `beam`.
void EncodeLoadProbeArgs(std::string_view beam, RpcArgs* out);

// beam_exporter_probe:collect/1's options.
struct CollectRequest {
  // The scans to run besides the basics (Scan::kGroups is groups/1's and is not sent here).
  std::vector<Scan> scans = {Scan::kMailboxes, Scan::kMemory, Scan::kEts};
  int top_n = 10;
  int ets_top_n = 50;
  // heap_size is read for every `slices`-th process starting at `slice_phase` (1: all).
  int slice_phase = 0;
  int slices = 1;
  std::vector<std::string> memory_pids;  // re-read by the memory scan: the last rows (memory, mailboxes), as printed
};
void EncodeCollectArgs(const CollectRequest& request, RpcArgs* out);

// beam_exporter_probe:groups/1's options: the pass's time budget and the groups as
// [{Name, [Module], [Label], [{Function, Arity}], [HostsOfGroupName]}].
void EncodeGroupsArgs(std::chrono::milliseconds budget, const std::vector<ProcessGroup>& groups, RpcArgs* out);

}  // namespace beam_exporter::beam
