// Feeds arbitrary bytes to the ETF reader (exporter/etf_reader.h) twice: SkipTerm over the
// whole term, and a walk that reads every item with the typed read for its tag (integers as
// int64, uint64 and double, floats, atoms converted to UTF-8, binaries, strings, container
// headers, NIL tails), touching every byte a read hands out. Both must agree on whether the term
// is whole and where it ends, and a failed read must leave the cursor where it was; a
// disagreement aborts. An input that starts with the version byte 131 has it read first. The
// input is copied into an exact-size heap block so ASan sees any read past its end.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "exporter/etf_reader.h"

namespace {

namespace etf = beam_exporter::etf;

constexpr int kMaxDepth = 16;

// Where the walk's sums go, so that the reads that produce them are not optimised away.
volatile unsigned g_sink = 0;

unsigned Touch(std::string_view bytes) {
  unsigned sum = 0;
  for (char c : bytes) sum += static_cast<unsigned char>(c);
  return sum;
}

// A read that fails must not move the cursor.
void CheckFailureKeptPosition(const etf::ReadStatus& s, const etf::Reader& in, size_t before) {
  if (!s.ok() && in.position() != before) std::abort();
}

// Reads one term with the typed reads; the same depth rule as SkipTerm.
bool Walk(etf::Reader& in, int depth_left, unsigned* sum) {
  uint8_t tag = 0;
  if (!in.PeekTag(&tag).ok()) return false;
  const size_t before = in.position();
  etf::ReadStatus s;
  if (etf::tag::IsInteger(tag)) {
    etf::Reader unsigned_copy = in;
    uint64_t u = 0;
    s = unsigned_copy.ReadUint64(&u);
    CheckFailureKeptPosition(s, unsigned_copy, before);
    int64_t i = 0;
    s = in.ReadInt64(&i);
    CheckFailureKeptPosition(s, in, before);
    if (s.code() == etf::ReadStatus::Code::kOutOfRange) {
      double d = 0;
      s = in.ReadIntegerAsDouble(&d);
      *sum += static_cast<unsigned>(d != 0);
    }
    *sum += static_cast<unsigned>(i) + static_cast<unsigned>(u);
  } else if (etf::tag::IsFloat(tag)) {
    double d = 0;
    s = in.ReadFloat(&d);
    *sum += static_cast<unsigned>(d != 0);
  } else if (etf::tag::IsAtom(tag)) {
    etf::Atom atom;
    s = in.ReadAtom(&atom);
    if (s.ok()) {
      std::string utf8;
      atom.AppendUtf8To(&utf8);
      *sum += Touch(atom.bytes) + Touch(utf8);
    }
  } else if (tag == etf::tag::kBinary || tag == etf::tag::kString) {
    std::string_view bytes;
    s = tag == etf::tag::kBinary ? in.ReadBinary(&bytes) : in.ReadString(&bytes);
    if (s.ok()) *sum += Touch(bytes);
  } else if (tag == etf::tag::kSmallTuple || tag == etf::tag::kLargeTuple || tag == etf::tag::kList ||
             tag == etf::tag::kMap) {
    if (depth_left <= 0) return false;
    uint32_t n = 0;
    uint64_t elements = 0;
    if (tag == etf::tag::kMap) {
      s = in.ReadMapHeader(&n);
      elements = 2 * uint64_t{n};
    } else if (tag == etf::tag::kList) {
      s = in.ReadListHeader(&n);
      elements = n;
    } else {
      s = in.ReadTupleHeader(&n);
      elements = n;
    }
    CheckFailureKeptPosition(s, in, before);
    if (!s.ok()) return false;
    if (elements > in.remaining()) std::abort();  // the reader promised they can fit
    for (uint64_t i = 0; i < elements; ++i) {
      if (!Walk(in, depth_left - 1, sum)) return false;
    }
    if (tag == etf::tag::kList) {
      // A proper list ends in NIL; anything else is an improper tail, read as a term.
      const size_t tail_at = in.position();
      etf::ReadStatus nil = in.ReadNil();
      CheckFailureKeptPosition(nil, in, tail_at);
      if (!nil.ok() && !Walk(in, depth_left - 1, sum)) return false;
    }
    return true;
  } else if (tag == etf::tag::kNil) {
    s = in.ReadNil();
  } else {  // pids, ports, references, funs, exports, bitstrings, unknown tags
    s = in.SkipTerm(0);
    if (s.ok()) *sum += Touch(in.Since(before));
  }
  CheckFailureKeptPosition(s, in, before);
  if (!s.ok()) *sum += static_cast<unsigned>(s.ToString().size());
  return s.ok();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<char[]> bytes(new char[size]);
  if (size > 0) std::memcpy(bytes.get(), data, size);
  const std::string_view input(bytes.get(), size);

  etf::Reader skipping(input);
  if (!skipping.ReadVersion().ok() && skipping.position() != 0) std::abort();
  const size_t start = skipping.position();
  etf::ReadStatus skipped = skipping.SkipTerm(kMaxDepth);
  CheckFailureKeptPosition(skipped, skipping, start);
  if (!skipped.ok() && skipped.ToString().empty()) std::abort();

  etf::Reader walking(input);
  (void)walking.ReadVersion().ok();
  unsigned sum = 0;
  const bool walked = Walk(walking, kMaxDepth, &sum);
  if (walked != skipped.ok()) std::abort();
  if (walked && walking.position() != skipping.position()) std::abort();
  g_sink = sum;
  return 0;
}
