#include "collectors/beam/probe_args.h"

#include "collectors/beam/probe_image.h"

namespace beam_exporter::beam {
namespace {

// A list header of length 0 would itself be the empty list, so an empty list is its tail alone.
void ListHeader(size_t n, ei_x_buff* x) {
  if (n > 0) ei_x_encode_list_header(x, static_cast<long>(n));
}

void Binary(std::string_view s, ei_x_buff* x) { ei_x_encode_binary(x, s.data(), static_cast<long>(s.size())); }

void Binaries(const std::vector<std::string>& items, ei_x_buff* x) {
  ListHeader(items.size(), x);
  for (const std::string& s : items) Binary(s, x);
  ei_x_encode_empty_list(x);
}

}  // namespace

void EncodeAtomArgs(const std::vector<std::string>& atoms, RpcArgs* out) {
  ListHeader(atoms.size(), out->x());
  for (const std::string& a : atoms) ei_x_encode_atom(out->x(), a.c_str());
  ei_x_encode_empty_list(out->x());
}

void EncodeLoadProbeArgs(std::string_view beam, RpcArgs* out) {
  ei_x_encode_list_header(out->x(), 3);
  ei_x_encode_atom(out->x(), kProbeModule);
  ei_x_encode_string(out->x(), "beam_exporter_probe.erl");
  Binary(beam, out->x());
  ei_x_encode_empty_list(out->x());
}

void EncodeCollectArgs(const CollectRequest& request, RpcArgs* out) {
  ei_x_buff* x = out->x();
  ei_x_encode_list_header(x, 1);
  ei_x_encode_map_header(x, 5);
  ei_x_encode_atom(x, "scans");
  size_t sent = 0;
  for (Scan scan : request.scans) sent += scan == Scan::kGroups ? 0 : 1;
  ListHeader(sent, x);
  for (Scan scan : request.scans) {
    if (scan != Scan::kGroups) ei_x_encode_atom(x, ScanName(scan));
  }
  ei_x_encode_empty_list(x);
  ei_x_encode_atom(x, "top_n");
  ei_x_encode_long(x, request.top_n);
  ei_x_encode_atom(x, "ets_top_n");
  ei_x_encode_long(x, request.ets_top_n);
  ei_x_encode_atom(x, "memory_slice");
  ei_x_encode_tuple_header(x, 2);
  ei_x_encode_long(x, request.slice_phase);
  ei_x_encode_long(x, request.slices);
  ei_x_encode_atom(x, "memory_pids");
  Binaries(request.memory_pids, x);
  ei_x_encode_empty_list(x);
}

void EncodeGroupsArgs(std::chrono::milliseconds budget, const std::vector<ProcessGroup>& groups, RpcArgs* out) {
  ei_x_buff* x = out->x();
  ei_x_encode_list_header(x, 1);
  ei_x_encode_map_header(x, 2);
  ei_x_encode_atom(x, "budget_ms");
  ei_x_encode_long(x, static_cast<long>(budget.count()));
  ei_x_encode_atom(x, "groups");
  ListHeader(groups.size(), x);
  for (const ProcessGroup& g : groups) {
    ei_x_encode_tuple_header(x, 5);
    Binary(g.name, x);
    Binaries(g.modules, x);
    Binaries(g.process_labels, x);
    ListHeader(g.initial_functions.size(), x);
    for (const auto& [function, arity] : g.initial_functions) {
      ei_x_encode_tuple_header(x, 2);
      Binary(function, x);
      ei_x_encode_long(x, arity);
    }
    ei_x_encode_empty_list(x);
    Binaries(g.hosts_of, x);
  }
  ei_x_encode_empty_list(x);
  ei_x_encode_empty_list(x);
}

}  // namespace beam_exporter::beam
