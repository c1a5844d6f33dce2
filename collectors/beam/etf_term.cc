#include "collectors/beam/etf_term.h"

#include "exporter/etf_reader.h"

namespace beam_exporter::beam {
namespace {

Status Bad(const etf::ReadStatus& s) { return Status::InvalidArgument(s.ToString()); }

// Builds the Term tree; every byte is read through etf::Reader.
class TermDecoder {
 public:
  TermDecoder(std::string_view bytes, DecodeLimits limits) : in_(bytes), limits_(limits) {}

  Status Top(Term* out) {
    if (etf::ReadStatus s = in_.ReadVersion(); !s.ok()) return Bad(s);
    if (Status s = Decode(out, 0); !s.ok()) return s;
    if (in_.remaining() != 0) return Fail("trailing bytes after the term");
    return Status::Ok();
  }

 private:
  Status Fail(const std::string& what) const {
    return Status::InvalidArgument("bad term at byte " + std::to_string(in_.position()) + ": " + what);
  }

  Status Decode(Term* out, int depth) {
    if (depth > limits_.max_depth) return Bad(etf::ReadStatus::Error(etf::ReadStatus::Code::kTooDeep, in_.position()));
    uint8_t tag = 0;
    if (etf::ReadStatus s = in_.PeekTag(&tag); !s.ok()) return Bad(s);
    etf::ReadStatus s;
    if (etf::tag::IsInteger(tag)) {
      out->kind = Term::Kind::kInteger;
      s = in_.ReadInt64(&out->integer);
      if (s.code() == etf::ReadStatus::Code::kOutOfRange) {  // a bignum beyond int64: approximately
        out->kind = Term::Kind::kBigInteger;
        s = in_.ReadIntegerAsDouble(&out->number);
      }
    } else if (etf::tag::IsFloat(tag)) {
      out->kind = Term::Kind::kFloat;
      s = in_.ReadFloat(&out->number);
    } else if (etf::tag::IsAtom(tag)) {
      out->kind = Term::Kind::kAtom;
      etf::Atom atom;
      s = in_.ReadAtom(&atom);
      if (s.ok()) atom.AppendUtf8To(&out->text);
    } else {
      switch (tag) {
        case etf::tag::kBinary: {
          out->kind = Term::Kind::kBinary;
          std::string_view bytes;
          s = in_.ReadBinary(&bytes);
          out->text.assign(bytes);
          break;
        }
        case etf::tag::kString: {  // a list of byte values
          out->kind = Term::Kind::kList;
          std::string_view bytes;
          s = in_.ReadString(&bytes);
          out->items.resize(bytes.size());
          for (size_t i = 0; i < bytes.size(); ++i) {
            out->items[i].kind = Term::Kind::kInteger;
            out->items[i].integer = static_cast<uint8_t>(bytes[i]);
          }
          break;
        }
        case etf::tag::kSmallTuple:
        case etf::tag::kLargeTuple: {
          out->kind = Term::Kind::kTuple;
          uint32_t n = 0;
          if (s = in_.ReadTupleHeader(&n); !s.ok()) return Bad(s);
          return Elements(n, out, depth);
        }
        case etf::tag::kNil:
        case etf::tag::kList: {
          out->kind = Term::Kind::kList;
          uint32_t n = 0;
          if (s = in_.ReadListHeader(&n); !s.ok()) return Bad(s);
          if (n == 0) return Status::Ok();
          if (Status e = Elements(n, out, depth); !e.ok()) return e;
          Term tail;
          if (Status e = Decode(&tail, depth + 1); !e.ok()) return e;
          if (!(tail.kind == Term::Kind::kList && tail.items.empty())) return Fail("improper list");
          return Status::Ok();
        }
        case etf::tag::kMap: {
          out->kind = Term::Kind::kMap;
          uint32_t n = 0;
          if (s = in_.ReadMapHeader(&n); !s.ok()) return Bad(s);
          return Elements(2 * uint64_t{n}, out, depth);
        }
        case etf::tag::kPid:
        case etf::tag::kNewPid: {  // kept as its encoding, to send back
          out->kind = Term::Kind::kPid;
          const size_t start = in_.position();
          s = in_.SkipTerm(0);
          if (s.ok()) out->text.assign(in_.Since(start));
          break;
        }
        default:  // ports, references, funs, exports, bitstrings: not containers, so depth 0
          out->kind = Term::Kind::kOther;
          s = in_.SkipTerm(0);
          break;
      }
    }
    return s.ok() ? Status::Ok() : Bad(s);
  }

  // The reader has checked that `n` elements can fit in the bytes left.
  Status Elements(uint64_t n, Term* out, int depth) {
    out->items.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
      if (Status s = Decode(&out->items[i], depth + 1); !s.ok()) return s;
    }
    return Status::Ok();
  }

  etf::Reader in_;
  DecodeLimits limits_;
};

}  // namespace

bool Term::AsInt(int64_t* out) const {
  if (kind != Kind::kInteger) return false;
  *out = integer;
  return true;
}

bool Term::AsDouble(double* out) const {
  switch (kind) {
    case Kind::kInteger:
      *out = static_cast<double>(integer);
      return true;
    case Kind::kBigInteger:
    case Kind::kFloat:
      *out = number;
      return true;
    default:
      return false;
  }
}

bool Term::AsText(std::string* out) const {
  if (kind == Kind::kAtom || kind == Kind::kBinary) {
    *out = text;
    return true;
  }
  if (kind != Kind::kList) return false;
  std::string s;
  for (const Term& item : items) {
    if (item.kind != Kind::kInteger || item.integer < 0 || item.integer > 255) return false;
    s.push_back(static_cast<char>(item.integer));
  }
  *out = std::move(s);
  return true;
}

const Term* Term::Find(std::string_view key) const {
  if (kind != Kind::kList) return nullptr;
  for (const Term& item : items) {
    if (item.kind == Kind::kTuple && item.items.size() == 2 && item.items[0].IsAtom(key)) return &item.items[1];
  }
  return nullptr;
}

Status DecodeEtf(std::string_view bytes, Term* out, DecodeLimits limits) {
  *out = Term();
  return TermDecoder(bytes, limits).Top(out);
}

}  // namespace beam_exporter::beam
