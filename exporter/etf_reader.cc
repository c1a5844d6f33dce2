#include "exporter/etf_reader.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <system_error>

namespace beam_exporter::etf {
namespace {

using Code = ReadStatus::Code;

// ERTS's limits on an atom's name: 255 characters (MAX_ATOM_CHARACTERS), of one byte in a
// Latin-1 atom and of up to 4 in a UTF-8 one (MAX_ATOM_SZ_LIMIT).
constexpr size_t kMaxAtomCharacters = 255;
constexpr size_t kMaxLatin1AtomBytes = kMaxAtomCharacters;
constexpr size_t kMaxUtf8AtomBytes = 4 * kMaxAtomCharacters;
// FLOAT_EXT: the number as printf's "%.20e", padded with zero bytes.
constexpr size_t kFloatTextBytes = 31;

// A position in the input; every read checks the bytes left and advances only when they suffice.
struct Cursor {
  std::string_view bytes;
  size_t at;

  size_t left() const { return bytes.size() - at; }
  uint32_t Byte(size_t i) const { return static_cast<uint8_t>(bytes[at + i]); }
  bool U8(uint8_t* v) {
    if (left() < 1) return false;
    *v = static_cast<uint8_t>(Byte(0));
    at += 1;
    return true;
  }
  bool U16(uint16_t* v) {
    if (left() < 2) return false;
    *v = static_cast<uint16_t>(Byte(0) << 8 | Byte(1));
    at += 2;
    return true;
  }
  bool U32(uint32_t* v) {
    if (left() < 4) return false;
    *v = Byte(0) << 24 | Byte(1) << 16 | Byte(2) << 8 | Byte(3);
    at += 4;
    return true;
  }
  bool Take(size_t n, std::string_view* v) {
    if (left() < n) return false;
    *v = bytes.substr(at, n);
    at += n;
    return true;
  }
  bool Skip(size_t n) {
    if (left() < n) return false;
    at += n;
    return true;
  }
};

ReadStatus Fail(Code code, size_t offset) { return ReadStatus::Error(code, offset); }

bool IsKnownTag(uint8_t t) {
  switch (t) {
    case tag::kNewFloat: case tag::kBitBinary: case tag::kNewPid: case tag::kNewPort:
    case tag::kNewerReference: case tag::kSmallInteger: case tag::kInteger: case tag::kFloatText:
    case tag::kAtomLatin1: case tag::kReference: case tag::kPort: case tag::kPid:
    case tag::kSmallTuple: case tag::kLargeTuple: case tag::kNil: case tag::kString:
    case tag::kList: case tag::kBinary: case tag::kSmallBig: case tag::kLargeBig:
    case tag::kNewFun: case tag::kExport: case tag::kNewReference: case tag::kSmallAtomLatin1:
    case tag::kMap: case tag::kAtomUtf8: case tag::kSmallAtomUtf8: case tag::kV4Port:
      return true;
    default:
      return false;
  }
}

// The tag `t` at `offset` is not one the read accepts.
ReadStatus WrongTag(size_t offset, uint8_t t) {
  return ReadStatus::Error(IsKnownTag(t) ? Code::kUnexpectedTag : Code::kUnknownTag, offset, t);
}

// Runs `read` on a copy of *pos and keeps the new position only when it succeeded.
template <typename Read>
ReadStatus Atomically(std::string_view bytes, size_t* pos, Read read) {
  Cursor c{bytes, *pos};
  ReadStatus s = read(c);
  if (s.ok()) *pos = c.at;
  return s;
}

// An integer of any of the four integer tags as sign and magnitude.
struct Integer {
  bool negative = false;
  uint64_t low = 0;          // the magnitude's low 64 bits
  bool fits = true;          // no bits above those
  std::string_view digits;   // bignums: the magnitude, little-endian bytes
};

ReadStatus IntegerAt(Cursor& c, Integer* out) {
  const size_t start = c.at;
  uint8_t t = 0;
  if (!c.U8(&t)) return Fail(Code::kTruncated, start);
  *out = Integer();
  switch (t) {
    case tag::kSmallInteger: {
      uint8_t v = 0;
      if (!c.U8(&v)) return Fail(Code::kTruncated, start);
      out->low = v;
      return ReadStatus::Ok();
    }
    case tag::kInteger: {
      uint32_t v = 0;
      if (!c.U32(&v)) return Fail(Code::kTruncated, start);
      const int64_t value = static_cast<int32_t>(v);
      out->negative = value < 0;
      out->low = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
      return ReadStatus::Ok();
    }
    case tag::kSmallBig:
    case tag::kLargeBig: {
      uint32_t n = 0;
      if (t == tag::kSmallBig) {
        uint8_t n8 = 0;
        if (!c.U8(&n8)) return Fail(Code::kTruncated, start);
        n = n8;
      } else if (!c.U32(&n)) {
        return Fail(Code::kTruncated, start);
      }
      uint8_t sign = 0;
      if (!c.U8(&sign) || !c.Take(n, &out->digits)) return Fail(Code::kTruncated, start);
      out->negative = sign != 0;
      for (size_t i = 0; i < out->digits.size(); ++i) {
        const uint64_t digit = static_cast<uint8_t>(out->digits[i]);
        if (i < 8) {
          out->low |= digit << (8 * i);
        } else if (digit != 0) {
          out->fits = false;
        }
      }
      return ReadStatus::Ok();
    }
    default:
      return WrongTag(start, t);
  }
}

ReadStatus FloatAt(Cursor& c, double* out) {
  const size_t start = c.at;
  uint8_t t = 0;
  if (!c.U8(&t)) return Fail(Code::kTruncated, start);
  if (t == tag::kNewFloat) {
    if (c.left() < 8) return Fail(Code::kTruncated, start);
    uint64_t bits = 0;
    for (size_t i = 0; i < 8; ++i) bits = bits << 8 | c.Byte(i);
    c.at += 8;
    *out = std::bit_cast<double>(bits);
    return ReadStatus::Ok();
  }
  if (t == tag::kFloatText) {
    std::string_view text;
    if (!c.Take(kFloatTextBytes, &text)) return Fail(Code::kTruncated, start);
    text = text.substr(0, text.find('\0'));
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return Fail(Code::kInvalid, start);
    *out = value;
    return ReadStatus::Ok();
  }
  return WrongTag(start, t);
}

ReadStatus AtomAt(Cursor& c, Atom* out) {
  const size_t start = c.at;
  uint8_t t = 0;
  if (!c.U8(&t)) return Fail(Code::kTruncated, start);
  size_t n = 0;
  if (t == tag::kSmallAtomUtf8 || t == tag::kSmallAtomLatin1) {
    uint8_t n8 = 0;
    if (!c.U8(&n8)) return Fail(Code::kTruncated, start);
    n = n8;
  } else if (t == tag::kAtomUtf8 || t == tag::kAtomLatin1) {
    uint16_t n16 = 0;
    if (!c.U16(&n16)) return Fail(Code::kTruncated, start);
    n = n16;
  } else {
    return WrongTag(start, t);
  }
  const bool latin1 = t == tag::kSmallAtomLatin1 || t == tag::kAtomLatin1;
  if (!c.Take(n, &out->bytes)) return Fail(Code::kTruncated, start);
  if (n > (latin1 ? kMaxLatin1AtomBytes : kMaxUtf8AtomBytes)) return Fail(Code::kInvalid, start);
  if (!latin1 && n > kMaxAtomCharacters) {
    // Characters are the bytes that do not continue a UTF-8 sequence (10xxxxxx).
    const auto characters = std::count_if(out->bytes.begin(), out->bytes.end(),
                                          [](char b) { return (static_cast<uint8_t>(b) & 0xC0) != 0x80; });
    if (static_cast<size_t>(characters) > kMaxAtomCharacters) return Fail(Code::kInvalid, start);
  }
  out->latin1 = latin1;
  return ReadStatus::Ok();
}

// BINARY_EXT (a 4-byte length) or STRING_EXT (2 bytes), as `want` says: a view of the payload.
ReadStatus BytesAt(Cursor& c, uint8_t want, std::string_view* out) {
  const size_t start = c.at;
  uint8_t t = 0;
  if (!c.U8(&t)) return Fail(Code::kTruncated, start);
  if (t != want) return WrongTag(start, t);
  size_t n = 0;
  if (want == tag::kString) {
    uint16_t n16 = 0;
    if (!c.U16(&n16)) return Fail(Code::kTruncated, start);
    n = n16;
  } else {
    uint32_t n32 = 0;
    if (!c.U32(&n32)) return Fail(Code::kTruncated, start);
    n = n32;
  }
  if (!c.Take(n, out)) return Fail(Code::kTruncated, start);
  return ReadStatus::Ok();
}

ReadStatus TupleHeaderAt(Cursor& c, uint32_t* arity) {
  const size_t start = c.at;
  uint8_t t = 0;
  if (!c.U8(&t)) return Fail(Code::kTruncated, start);
  if (t == tag::kSmallTuple) {
    uint8_t n8 = 0;
    if (!c.U8(&n8)) return Fail(Code::kTruncated, start);
    *arity = n8;
  } else if (t == tag::kLargeTuple) {
    if (!c.U32(arity)) return Fail(Code::kTruncated, start);
  } else {
    return WrongTag(start, t);
  }
  // Every element takes at least one byte.
  if (*arity > c.left()) return Fail(Code::kCountTooLarge, start);
  return ReadStatus::Ok();
}

ReadStatus ListHeaderAt(Cursor& c, uint32_t* count) {
  const size_t start = c.at;
  uint8_t t = 0;
  if (!c.U8(&t)) return Fail(Code::kTruncated, start);
  if (t == tag::kNil) {
    *count = 0;
    return ReadStatus::Ok();
  }
  if (t != tag::kList) return WrongTag(start, t);
  if (!c.U32(count)) return Fail(Code::kTruncated, start);
  // No encoder writes [] as a LIST_EXT of nothing (it is NIL); refusing it lets "count 0"
  // mean "no tail follows".
  if (*count == 0) return Fail(Code::kInvalid, start);
  // Every element and the tail take at least one byte each.
  if (uint64_t{*count} + 1 > c.left()) return Fail(Code::kCountTooLarge, start);
  return ReadStatus::Ok();
}

ReadStatus NilAt(Cursor& c) {
  const size_t start = c.at;
  uint8_t t = 0;
  if (!c.U8(&t)) return Fail(Code::kTruncated, start);
  return t == tag::kNil ? ReadStatus::Ok() : WrongTag(start, t);
}

ReadStatus MapHeaderAt(Cursor& c, uint32_t* pairs) {
  const size_t start = c.at;
  uint8_t t = 0;
  if (!c.U8(&t)) return Fail(Code::kTruncated, start);
  if (t != tag::kMap) return WrongTag(start, t);
  if (!c.U32(pairs)) return Fail(Code::kTruncated, start);
  if (2 * uint64_t{*pairs} > c.left()) return Fail(Code::kCountTooLarge, start);
  return ReadStatus::Ok();
}

// A pid's, port's or reference's node (an atom) and then `fixed` bytes.
ReadStatus NodeAndBytesAt(Cursor& c, size_t start, size_t fixed) {
  Atom node;
  if (ReadStatus s = AtomAt(c, &node); !s.ok()) return s;
  if (!c.Skip(fixed)) return Fail(Code::kTruncated, start);
  return ReadStatus::Ok();
}

ReadStatus SkipAt(Cursor& c, int depth_left) {
  const size_t start = c.at;
  if (c.left() == 0) return Fail(Code::kTruncated, start);
  const auto t = static_cast<uint8_t>(c.Byte(0));
  if (tag::IsInteger(t)) {
    Integer ignored;
    return IntegerAt(c, &ignored);
  }
  if (tag::IsFloat(t)) {
    double ignored = 0;
    return FloatAt(c, &ignored);
  }
  if (tag::IsAtom(t)) {
    Atom ignored;
    return AtomAt(c, &ignored);
  }
  if (t == tag::kBinary || t == tag::kString) {
    std::string_view ignored;
    return BytesAt(c, t, &ignored);
  }
  if (t == tag::kNil) return NilAt(c);
  if (t == tag::kSmallTuple || t == tag::kLargeTuple || t == tag::kList || t == tag::kMap) {
    if (depth_left <= 0) return Fail(Code::kTooDeep, start);
    uint64_t elements = 0;
    uint32_t n = 0;
    if (t == tag::kMap) {
      if (ReadStatus s = MapHeaderAt(c, &n); !s.ok()) return s;
      elements = 2 * uint64_t{n};
    } else if (t == tag::kList) {
      if (ReadStatus s = ListHeaderAt(c, &n); !s.ok()) return s;
      elements = uint64_t{n} + 1;  // and the tail
    } else {
      if (ReadStatus s = TupleHeaderAt(c, &n); !s.ok()) return s;
      elements = n;
    }
    for (uint64_t i = 0; i < elements; ++i) {
      if (ReadStatus s = SkipAt(c, depth_left - 1); !s.ok()) return s;
    }
    return ReadStatus::Ok();
  }
  c.at += 1;  // the tag
  switch (t) {
    case tag::kBitBinary: {
      uint32_t n = 0;
      if (!c.U32(&n) || !c.Skip(1 + size_t{n})) return Fail(Code::kTruncated, start);  // bits in the last byte, data
      return ReadStatus::Ok();
    }
    case tag::kPid: return NodeAndBytesAt(c, start, 4 + 4 + 1);      // ID, serial, creation
    case tag::kNewPid: return NodeAndBytesAt(c, start, 4 + 4 + 4);   // ID, serial, creation
    case tag::kPort: return NodeAndBytesAt(c, start, 4 + 1);         // ID, creation
    case tag::kNewPort: return NodeAndBytesAt(c, start, 4 + 4);      // ID, creation
    case tag::kV4Port: return NodeAndBytesAt(c, start, 8 + 4);       // ID, creation
    case tag::kReference: return NodeAndBytesAt(c, start, 4 + 1);    // ID, creation
    case tag::kNewReference:
    case tag::kNewerReference: {
      uint16_t words = 0;
      if (!c.U16(&words)) return Fail(Code::kTruncated, start);
      const size_t creation = t == tag::kNewReference ? 1 : 4;
      return NodeAndBytesAt(c, start, creation + 4 * size_t{words});
    }
    case tag::kExport: {  // Module, Function (atoms), Arity (SMALL_INTEGER_EXT)
      Atom ignored;
      if (ReadStatus s = AtomAt(c, &ignored); !s.ok()) return s;
      if (ReadStatus s = AtomAt(c, &ignored); !s.ok()) return s;
      const size_t arity_at = c.at;
      uint8_t arity_tag = 0;
      if (!c.U8(&arity_tag)) return Fail(Code::kTruncated, arity_at);
      if (arity_tag != tag::kSmallInteger) return WrongTag(arity_at, arity_tag);
      if (!c.Skip(1)) return Fail(Code::kTruncated, arity_at);
      return ReadStatus::Ok();
    }
    case tag::kNewFun: {
      uint32_t size = 0;  // of everything after the tag, these 4 bytes included
      if (!c.U32(&size)) return Fail(Code::kTruncated, start);
      if (size < 4) return Fail(Code::kInvalid, start);
      if (!c.Skip(size - 4)) return Fail(Code::kTruncated, start);
      return ReadStatus::Ok();
    }
    default:
      return WrongTag(start, t);
  }
}

}  // namespace

std::string ReadStatus::ToString() const {
  std::string what;
  switch (code_) {
    case Code::kOk: return "OK";
    case Code::kTruncated: what = "truncated"; break;
    case Code::kMissingVersion: what = "missing version byte 131"; break;
    case Code::kUnexpectedTag: what = "unexpected tag " + std::to_string(tag_); break;
    case Code::kUnknownTag: what = "unsupported tag " + std::to_string(tag_); break;
    case Code::kCountTooLarge: what = "count larger than the bytes left"; break;
    case Code::kOutOfRange: what = "integer out of range"; break;
    case Code::kInvalid: what = "invalid value"; break;
    case Code::kTooDeep: what = "nested deeper than the limit"; break;
  }
  return "bad term at byte " + std::to_string(offset_) + ": " + what;
}

void Atom::AppendUtf8To(std::string* out) const {
  if (!latin1) {
    out->append(bytes);
    return;
  }
  for (unsigned char c : bytes) {
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back(static_cast<char>(0xC0 | (c >> 6)));
      out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
}

ReadStatus Reader::PeekTag(uint8_t* out) const {
  if (pos_ >= bytes_.size()) return Fail(Code::kTruncated, pos_);
  *out = static_cast<uint8_t>(bytes_[pos_]);
  return ReadStatus::Ok();
}

ReadStatus Reader::ReadVersion() {
  return Atomically(bytes_, &pos_, [](Cursor& c) {
    const size_t start = c.at;
    uint8_t v = 0;
    if (!c.U8(&v)) return Fail(Code::kTruncated, start);
    return v == tag::kVersion ? ReadStatus::Ok() : Fail(Code::kMissingVersion, start);
  });
}

ReadStatus Reader::ReadTupleHeader(uint32_t* arity) {
  return Atomically(bytes_, &pos_, [arity](Cursor& c) { return TupleHeaderAt(c, arity); });
}

ReadStatus Reader::ReadListHeader(uint32_t* count) {
  return Atomically(bytes_, &pos_, [count](Cursor& c) { return ListHeaderAt(c, count); });
}

ReadStatus Reader::ReadNil() {
  return Atomically(bytes_, &pos_, [](Cursor& c) { return NilAt(c); });
}

ReadStatus Reader::ReadMapHeader(uint32_t* pairs) {
  return Atomically(bytes_, &pos_, [pairs](Cursor& c) { return MapHeaderAt(c, pairs); });
}

ReadStatus Reader::ReadAtom(Atom* out) {
  return Atomically(bytes_, &pos_, [out](Cursor& c) { return AtomAt(c, out); });
}

ReadStatus Reader::ReadBinary(std::string_view* out) {
  return Atomically(bytes_, &pos_, [out](Cursor& c) { return BytesAt(c, tag::kBinary, out); });
}

ReadStatus Reader::ReadString(std::string_view* out) {
  return Atomically(bytes_, &pos_, [out](Cursor& c) { return BytesAt(c, tag::kString, out); });
}

ReadStatus Reader::ReadInt64(int64_t* out) {
  return Atomically(bytes_, &pos_, [out](Cursor& c) {
    const size_t start = c.at;
    Integer v;
    if (ReadStatus s = IntegerAt(c, &v); !s.ok()) return s;
    const uint64_t limit = v.negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
    if (!v.fits || v.low > limit) return Fail(Code::kOutOfRange, start);
    *out = v.negative ? static_cast<int64_t>(0 - v.low) : static_cast<int64_t>(v.low);
    return ReadStatus::Ok();
  });
}

ReadStatus Reader::ReadUint64(uint64_t* out) {
  return Atomically(bytes_, &pos_, [out](Cursor& c) {
    const size_t start = c.at;
    Integer v;
    if (ReadStatus s = IntegerAt(c, &v); !s.ok()) return s;
    if (!v.fits || (v.negative && v.low != 0)) return Fail(Code::kOutOfRange, start);
    *out = v.low;
    return ReadStatus::Ok();
  });
}

ReadStatus Reader::ReadIntegerAsDouble(double* out) {
  return Atomically(bytes_, &pos_, [out](Cursor& c) {
    Integer v;
    if (ReadStatus s = IntegerAt(c, &v); !s.ok()) return s;
    double magnitude = 0;
    if (v.fits) {
      magnitude = static_cast<double>(v.low);
    } else {
      for (size_t i = 0; i < v.digits.size(); ++i) {
        // Beyond 2^8000 every non-zero digit gives infinity; the cap keeps the exponent an int.
        const int exponent = static_cast<int>(8 * std::min<size_t>(i, 1000));
        magnitude += std::ldexp(static_cast<double>(static_cast<uint8_t>(v.digits[i])), exponent);
      }
    }
    *out = v.negative ? -magnitude : magnitude;
    return ReadStatus::Ok();
  });
}

ReadStatus Reader::ReadFloat(double* out) {
  return Atomically(bytes_, &pos_, [out](Cursor& c) { return FloatAt(c, out); });
}

ReadStatus Reader::SkipTerm(int max_depth) {
  return Atomically(bytes_, &pos_, [max_depth](Cursor& c) { return SkipAt(c, max_depth); });
}

}  // namespace beam_exporter::etf
