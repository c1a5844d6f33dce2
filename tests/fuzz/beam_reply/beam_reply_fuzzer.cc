// Feeds arbitrary bytes to the decoder of RPC replies from the node (DecodeEtf), then to the
// probe and group-pass reply decoders and, when they accept it, to the conversion into metric
// families: the whole path a reply from a misbehaving or hostile node takes. The input is
// copied into an exact-size heap block so ASan sees any read past its end. The ETF reader
// DecodeEtf reads through is linked, not instrumented for coverage: the etf_reader target fuzzes it.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "collectors/beam/convert.h"
#include "collectors/beam/etf_term.h"
#include "collectors/beam/sample_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<char[]> bytes(new char[size]);
  if (size > 0) std::memcpy(bytes.get(), data, size);
  beam_exporter::beam::Term term;
  if (!beam_exporter::beam::DecodeEtf(std::string_view(bytes.get(), size), &term).ok()) return 0;
  beam_exporter::beam::ConvertOptions options;
  options.node = "fuzz@127.0.0.1";
  beam_exporter::beam::NodeSample sample;
  if (beam_exporter::beam::DecodeProbeReply(term, &sample).ok()) {
    beam_exporter::beam::NodeFamilies(sample, {}, options);
  }
  beam_exporter::beam::NodeSample groups;
  if (beam_exporter::beam::DecodeGroupsReply(term, &groups).ok()) {
    beam_exporter::beam::NodeFamilies(groups, {}, options);
  }
  return 0;
}
