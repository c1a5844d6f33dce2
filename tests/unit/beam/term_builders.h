// Literal Erlang terms for unit tests: A("ok"), I(5), B("bin"), T({...}), L({...}).
#pragma once

#include <string>
#include <vector>

#include "collectors/beam/etf_term.h"

namespace beam_exporter::beam::testing {

inline Term A(const std::string& name) {
  Term t;
  t.kind = Term::Kind::kAtom;
  t.text = name;
  return t;
}
inline Term I(int64_t v) {
  Term t;
  t.kind = Term::Kind::kInteger;
  t.integer = v;
  return t;
}
inline Term B(const std::string& bytes) {
  Term t;
  t.kind = Term::Kind::kBinary;
  t.text = bytes;
  return t;
}
inline Term T(std::vector<Term> items) {
  Term t;
  t.kind = Term::Kind::kTuple;
  t.items = std::move(items);
  return t;
}
inline Term L(std::vector<Term> items) {
  Term t;
  t.kind = Term::Kind::kList;
  t.items = std::move(items);
  return t;
}
// An Erlang string ("25") as it arrives: a list of byte values.
inline Term S(const std::string& s) {
  std::vector<Term> items;
  for (unsigned char c : s) items.push_back(I(c));
  return L(std::move(items));
}
inline Term KV(const std::string& key, Term value) { return T({A(key), std::move(value)}); }

}  // namespace beam_exporter::beam::testing
