// Reads encoded RPC argument lists back, for tests that check what was sent to the node.
#pragma once

#include <gtest/gtest.h>
#include <ei.h>

#include <string>

#include "collectors/beam/etf_term.h"

namespace beam_exporter::beam::testing {

// The encoded argument list (ETF without the version byte, as NodeLink::Rpc takes it), decoded.
inline Term DecodedArgs(const ei_x_buff& args) {
  Term t;
  // Appended rather than `"\x83" + std::string(...)`: for that operator+ inlined at -O3, GCC 12
  // reports a -Wrestrict overlap that cannot happen (a compiler false positive).
  std::string bytes(1, '\x83');
  bytes.append(args.buff, static_cast<size_t>(args.index));
  EXPECT_TRUE(DecodeEtf(bytes, &t).ok());
  return t;
}

// The value of atom key `key` in an ETF map (items are key, value, key, value ...).
inline const Term& MapValue(const Term& map, const std::string& key) {
  for (size_t i = 0; i + 1 < map.items.size(); i += 2) {
    if (map.items[i].IsAtom(key)) return map.items[i + 1];
  }
  ADD_FAILURE() << "no key " << key;
  return map;
}

}  // namespace beam_exporter::beam::testing
