#include "collectors/beam/etf_term.h"

#include <bit>
#include <cmath>
#include <cstring>

namespace beam_exporter::beam {
namespace {

// ETF tags (erts/emulator/beam/external.h, "External Term Format" in the ERTS user's guide).
enum Tag : uint8_t {
  kVersion = 131,
  kNewFloat = 70,
  kBitBinary = 77,
  kNewPid = 88,
  kNewPort = 89,
  kNewerReference = 90,
  kSmallInteger = 97,
  kInteger = 98,
  kFloatText = 99,
  kAtomLatin1 = 100,
  kReference = 101,
  kPort = 102,
  kPid = 103,
  kSmallTuple = 104,
  kLargeTuple = 105,
  kNil = 106,
  kString = 107,
  kList = 108,
  kBinary = 109,
  kSmallBig = 110,
  kLargeBig = 111,
  kNewFun = 112,
  kExport = 113,
  kNewReference = 114,
  kSmallAtomLatin1 = 115,
  kMap = 116,
  kAtomUtf8 = 118,
  kSmallAtomUtf8 = 119,
  kV4Port = 120,
};

class Reader {
 public:
  Reader(std::string_view bytes, DecodeLimits limits) : bytes_(bytes), limits_(limits) {}

  Status Top(Term* out) {
    uint8_t version = 0;
    if (!U8(&version) || version != kVersion) return Fail("missing version byte 131");
    Status s = Decode(out, 0);
    if (!s.ok()) return s;
    if (pos_ != bytes_.size()) return Fail("trailing bytes after the term");
    return Status::Ok();
  }

 private:
  Status Fail(const std::string& what) const {
    return Status::InvalidArgument("bad term at byte " + std::to_string(pos_) + ": " + what);
  }
  bool Has(size_t n) const { return bytes_.size() - pos_ >= n; }
  bool U8(uint8_t* v) {
    if (!Has(1)) return false;
    *v = static_cast<uint8_t>(bytes_[pos_++]);
    return true;
  }
  bool U16(uint16_t* v) {
    if (!Has(2)) return false;
    *v = static_cast<uint16_t>(Byte(0) << 8 | Byte(1));
    pos_ += 2;
    return true;
  }
  bool U32(uint32_t* v) {
    if (!Has(4)) return false;
    *v = static_cast<uint32_t>(Byte(0)) << 24 | static_cast<uint32_t>(Byte(1)) << 16 |
         static_cast<uint32_t>(Byte(2)) << 8 | static_cast<uint32_t>(Byte(3));
    pos_ += 4;
    return true;
  }
  uint32_t Byte(size_t at) const { return static_cast<uint8_t>(bytes_[pos_ + at]); }
  bool Skip(size_t n) {
    if (!Has(n)) return false;
    pos_ += n;
    return true;
  }
  bool Text(size_t n, std::string* out) {
    if (!Has(n)) return false;
    out->assign(bytes_.substr(pos_, n));
    pos_ += n;
    return true;
  }

  Status Decode(Term* out, int depth) {
    if (depth > limits_.max_depth) return Fail("nested deeper than " + std::to_string(limits_.max_depth));
    const size_t start = pos_;
    uint8_t tag = 0;
    if (!U8(&tag)) return Fail("truncated (expected a tag)");
    switch (tag) {
      case kSmallInteger: {
        uint8_t v = 0;
        if (!U8(&v)) return Fail("truncated small integer");
        out->kind = Term::Kind::kInteger;
        out->integer = v;
        return Status::Ok();
      }
      case kInteger: {
        uint32_t v = 0;
        if (!U32(&v)) return Fail("truncated integer");
        out->kind = Term::Kind::kInteger;
        out->integer = static_cast<int32_t>(v);
        return Status::Ok();
      }
      case kSmallBig:
      case kLargeBig: {
        uint32_t n = 0;
        if (tag == kSmallBig) {
          uint8_t n8 = 0;
          if (!U8(&n8)) return Fail("truncated bignum");
          n = n8;
        } else if (!U32(&n)) {
          return Fail("truncated bignum");
        }
        uint8_t sign = 0;
        if (!U8(&sign) || !Has(n)) return Fail("truncated bignum");
        return Big(n, sign != 0, out);
      }
      case kNewFloat: {
        if (!Has(8)) return Fail("truncated float");
        uint64_t bits = 0;
        for (size_t i = 0; i < 8; ++i) bits = bits << 8 | Byte(i);
        pos_ += 8;
        out->kind = Term::Kind::kFloat;
        out->number = std::bit_cast<double>(bits);
        return Status::Ok();
      }
      case kFloatText: {
        std::string text;
        if (!Text(31, &text)) return Fail("truncated float");
        out->kind = Term::Kind::kFloat;
        out->number = std::strtod(text.c_str(), nullptr);
        return Status::Ok();
      }
      case kAtomUtf8:
      case kAtomLatin1:
      case kSmallAtomUtf8:
      case kSmallAtomLatin1: {
        size_t n = 0;
        if (tag == kAtomUtf8 || tag == kAtomLatin1) {
          uint16_t n16 = 0;
          if (!U16(&n16)) return Fail("truncated atom");
          n = n16;
        } else {
          uint8_t n8 = 0;
          if (!U8(&n8)) return Fail("truncated atom");
          n = n8;
        }
        out->kind = Term::Kind::kAtom;
        if (!Text(n, &out->text)) return Fail("truncated atom");
        if (tag == kAtomLatin1 || tag == kSmallAtomLatin1) out->text = Latin1ToUtf8(out->text);
        return Status::Ok();
      }
      case kBinary: {
        uint32_t n = 0;
        if (!U32(&n)) return Fail("truncated binary");
        out->kind = Term::Kind::kBinary;
        if (!Text(n, &out->text)) return Fail("truncated binary");
        return Status::Ok();
      }
      case kBitBinary: {
        uint32_t n = 0;
        uint8_t bits = 0;
        if (!U32(&n) || !U8(&bits)) return Fail("truncated bitstring");
        out->kind = Term::Kind::kOther;
        if (!Skip(n)) return Fail("truncated bitstring");
        return Status::Ok();
      }
      case kSmallTuple:
      case kLargeTuple: {
        uint32_t n = 0;
        if (tag == kSmallTuple) {
          uint8_t n8 = 0;
          if (!U8(&n8)) return Fail("truncated tuple");
          n = n8;
        } else if (!U32(&n)) {
          return Fail("truncated tuple");
        }
        out->kind = Term::Kind::kTuple;
        return Elements(n, out, depth);
      }
      case kNil:
        out->kind = Term::Kind::kList;
        return Status::Ok();
      case kString: {
        uint16_t n = 0;
        if (!U16(&n) || !Has(n)) return Fail("truncated string");
        out->kind = Term::Kind::kList;
        out->items.resize(n);
        for (size_t i = 0; i < n; ++i) {
          out->items[i].kind = Term::Kind::kInteger;
          out->items[i].integer = Byte(i);
        }
        pos_ += n;
        return Status::Ok();
      }
      case kList: {
        uint32_t n = 0;
        if (!U32(&n)) return Fail("truncated list");
        out->kind = Term::Kind::kList;
        Status s = Elements(n, out, depth);
        if (!s.ok()) return s;
        Term tail;
        s = Decode(&tail, depth + 1);
        if (!s.ok()) return s;
        if (!(tail.kind == Term::Kind::kList && tail.items.empty())) return Fail("improper list");
        return Status::Ok();
      }
      case kMap: {
        uint32_t n = 0;
        if (!U32(&n)) return Fail("truncated map");
        if (n > (bytes_.size() - pos_) / 2) return Fail("map arity larger than the reply");
        out->kind = Term::Kind::kMap;
        return Elements(2 * n, out, depth);
      }
      case kPid:
      case kNewPid: {
        Term node;
        Status s = Decode(&node, depth + 1);
        if (!s.ok()) return s;
        if (node.kind != Term::Kind::kAtom) return Fail("pid without a node atom");
        if (!Skip(tag == kNewPid ? 12 : 9)) return Fail("truncated pid");
        out->kind = Term::Kind::kPid;
        out->text.assign(bytes_.substr(start, pos_ - start));
        return Status::Ok();
      }
      case kPort:
      case kNewPort:
      case kV4Port: {
        Term node;
        Status s = Decode(&node, depth + 1);
        if (!s.ok()) return s;
        size_t rest = tag == kPort ? 5 : tag == kNewPort ? 8 : 12;
        if (!Skip(rest)) return Fail("truncated port");
        out->kind = Term::Kind::kOther;
        return Status::Ok();
      }
      case kNewReference:
      case kNewerReference: {
        uint16_t words = 0;
        if (!U16(&words)) return Fail("truncated reference");
        Term node;
        Status s = Decode(&node, depth + 1);
        if (!s.ok()) return s;
        size_t creation = tag == kNewReference ? 1 : 4;
        if (!Skip(creation + 4 * static_cast<size_t>(words))) return Fail("truncated reference");
        out->kind = Term::Kind::kOther;
        return Status::Ok();
      }
      case kReference: {
        Term node;
        Status s = Decode(&node, depth + 1);
        if (!s.ok()) return s;
        if (!Skip(5)) return Fail("truncated reference");
        out->kind = Term::Kind::kOther;
        return Status::Ok();
      }
      case kExport: {
        Term part;
        for (int i = 0; i < 3; ++i) {
          Status s = Decode(&part, depth + 1);
          if (!s.ok()) return s;
        }
        out->kind = Term::Kind::kOther;
        return Status::Ok();
      }
      case kNewFun: {
        uint32_t size = 0;  // includes the 4 size bytes themselves
        if (!U32(&size) || size < 4 || !Skip(size - 4)) return Fail("truncated fun");
        out->kind = Term::Kind::kOther;
        return Status::Ok();
      }
      default:
        pos_ = start;
        return Fail("unsupported tag " + std::to_string(tag));
    }
  }

  Status Elements(uint32_t n, Term* out, int depth) {
    // Every element takes at least one byte: a count beyond the remaining bytes is a lie.
    if (n > bytes_.size() - pos_) return Fail("element count larger than the reply");
    out->items.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
      Status s = Decode(&out->items[i], depth + 1);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  Status Big(uint32_t n, bool negative, Term* out) {
    // Little-endian magnitude. Exact when it fits in int64, else kept as a double.
    uint64_t magnitude = 0;
    bool fits = true;
    double approx = 0;
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t b = Byte(i);
      if (i >= 8 && b != 0) fits = false;
      if (i < 8) magnitude |= static_cast<uint64_t>(b) << (8 * i);
      approx += std::ldexp(static_cast<double>(b), static_cast<int>(8 * std::min<uint32_t>(i, 1000)));
    }
    pos_ += n;
    const uint64_t limit = negative ? (uint64_t{1} << 63) : (uint64_t{1} << 63) - 1;
    if (fits && magnitude <= limit) {
      out->kind = Term::Kind::kInteger;
      out->integer = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
    } else {
      out->kind = Term::Kind::kBigInteger;
      out->number = negative ? -approx : approx;
    }
    return Status::Ok();
  }

  static std::string Latin1ToUtf8(const std::string& in) {
    std::string out;
    for (unsigned char c : in) {
      if (c < 0x80) {
        out.push_back(static_cast<char>(c));
      } else {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
      }
    }
    return out;
  }

  std::string_view bytes_;
  DecodeLimits limits_;
  size_t pos_ = 0;
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
  return Reader(bytes, limits).Top(out);
}

}  // namespace beam_exporter::beam
