// A decoded Erlang term, and a bounds-checked decoder for the external term format (ETF).
//
// Replies from the node are read through etf::Reader (exporter/etf_reader.h), not ei's
// ei_decode_* functions, which trust the buffer: a truncated or hostile reply must produce an
// error, never a read past the end. Pure: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/status.h"

namespace beam_exporter::beam {

struct Term {
  enum class Kind { kInteger, kBigInteger, kFloat, kAtom, kBinary, kList, kTuple, kMap, kPid, kOther };

  Kind kind = Kind::kOther;
  int64_t integer = 0;   // kInteger
  double number = 0;     // kFloat, and kBigInteger (a bignum outside int64, as an approximation)
  std::string text;      // kAtom (UTF-8 name), kBinary (bytes), kPid (its ETF encoding, to send back)
  std::vector<Term> items;  // kList / kTuple elements; kMap as key, value, key, value ...

  bool IsAtom(std::string_view name) const { return kind == Kind::kAtom && text == name; }
  // Integer value (kInteger only).
  bool AsInt(int64_t* out) const;
  // Any number (integer, bignum, float).
  bool AsDouble(double* out) const;
  // Text of an atom, a binary, or a list of byte values (how Erlang strings arrive).
  bool AsText(std::string* out) const;
  // For a proplist [{Key, Value}, ...] with atom keys: the value of `key`, or nullptr.
  const Term* Find(std::string_view key) const;
};

struct DecodeLimits {
  int max_depth = 64;
};

// Decodes one term from bytes that start with the version byte 131 and must be consumed
// completely. Errors name the offset and what was wrong.
Status DecodeEtf(std::string_view bytes, Term* out, DecodeLimits limits = {});

}  // namespace beam_exporter::beam
