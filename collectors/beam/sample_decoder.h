// Turns decoded replies from the node into a NodeSample. Pure: no I/O, no clock.
//
// Two sources: the probe's collect/1 reply (one proplist), or, with load_probe: false, the
// replies of individual BIF calls (BifCalls() lists them). Shapes that do not match give an
// InvalidArgument status naming the item; nothing is half-filled in a way the caller serves.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "collectors/beam/etf_term.h"
#include "collectors/beam/node_sample.h"
#include "exporter/status.h"

namespace beam_exporter::beam {

// Decodes beam_exporter_probe:collect/1's reply.
Status DecodeProbeReply(const Term& reply, NodeSample* out);

// Adds beam_exporter_probe:groups/1's reply (group counts, coverage) to *out.
Status DecodeGroupsReply(const Term& reply, NodeSample* out);

// One plain BIF call made when the probe is not loaded: Module:Function(Arg) (Arg an atom,
// or no argument when empty).
struct BifCall {
  std::string key;  // how its reply is keyed in DecodeBifReplies' input
  std::string module;
  std::string function;
  std::string atom_arg;
};
const std::vector<BifCall>& BifCalls();

// Decodes the replies of BifCalls(), keyed by BifCall::key.
Status DecodeBifReplies(const std::map<std::string, Term>& replies, NodeSample* out);

}  // namespace beam_exporter::beam
