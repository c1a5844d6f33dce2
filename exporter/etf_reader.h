// A cursor over an Erlang external term format (ETF) value that never reads past the end of its
// bytes: the one reader through which both collectors decode terms they did not write (the BEAM
// collector's RPC replies, collectors/beam/etf_term.h; the telemetry collector's native
// datagrams, collectors/telemetry/etf_event.h).
//
// Why not ei's ei_decode_*: they trust the buffer. They read a tag's length field and then the
// payload without knowing where the buffer ends, so a truncated or hostile term makes them read
// past it. Here every read first checks the bytes left, and every count in a container header is
// checked against them too (each element takes at least one byte), so a caller may size a
// vector by a count the reader returned.
//
// Errors are values (ReadStatus: what was wrong, and the byte at which the item starts). A read
// that fails leaves the cursor where it was. Tags and layouts: "External Term Format" in the
// ERTS user's guide. Pure: no I/O; the reads allocate nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace beam_exporter::etf {

// The tags this reader knows (ERTS user's guide, "External Term Format").
namespace tag {
inline constexpr uint8_t kVersion = 131;
inline constexpr uint8_t kNewFloat = 70;
inline constexpr uint8_t kBitBinary = 77;
inline constexpr uint8_t kNewPid = 88;
inline constexpr uint8_t kNewPort = 89;
inline constexpr uint8_t kNewerReference = 90;
inline constexpr uint8_t kSmallInteger = 97;
inline constexpr uint8_t kInteger = 98;
inline constexpr uint8_t kFloatText = 99;
inline constexpr uint8_t kAtomLatin1 = 100;
inline constexpr uint8_t kReference = 101;
inline constexpr uint8_t kPort = 102;
inline constexpr uint8_t kPid = 103;
inline constexpr uint8_t kSmallTuple = 104;
inline constexpr uint8_t kLargeTuple = 105;
inline constexpr uint8_t kNil = 106;
inline constexpr uint8_t kString = 107;
inline constexpr uint8_t kList = 108;
inline constexpr uint8_t kBinary = 109;
inline constexpr uint8_t kSmallBig = 110;
inline constexpr uint8_t kLargeBig = 111;
inline constexpr uint8_t kNewFun = 112;
inline constexpr uint8_t kExport = 113;
inline constexpr uint8_t kNewReference = 114;
inline constexpr uint8_t kSmallAtomLatin1 = 115;
inline constexpr uint8_t kMap = 116;
inline constexpr uint8_t kAtomUtf8 = 118;
inline constexpr uint8_t kSmallAtomUtf8 = 119;
inline constexpr uint8_t kV4Port = 120;

inline bool IsInteger(uint8_t t) { return t == kSmallInteger || t == kInteger || t == kSmallBig || t == kLargeBig; }
inline bool IsFloat(uint8_t t) { return t == kNewFloat || t == kFloatText; }
inline bool IsAtom(uint8_t t) { return t == kAtomUtf8 || t == kSmallAtomUtf8 || t == kAtomLatin1 || t == kSmallAtomLatin1; }
}  // namespace tag

class [[nodiscard]] ReadStatus {
 public:
  enum class Code : uint8_t {
    kOk,
    kTruncated,        // the bytes end inside the item
    kMissingVersion,   // the first byte is not the version byte 131
    kUnexpectedTag,    // a tag this reader knows, but not one of those the read accepts
    kUnknownTag,       // a tag this reader does not know
    kCountTooLarge,    // a count in a header larger than the bytes left could hold
    kOutOfRange,       // an integer outside the type asked for
    kInvalid,          // a float text that is not a number, an atom longer than 255 characters,
                       // a LIST_EXT of no elements, a fun shorter than its own size field
    kTooDeep,          // nested deeper than the limit given
  };

  ReadStatus() = default;
  static ReadStatus Ok() { return ReadStatus(); }
  static ReadStatus Error(Code code, size_t offset, uint8_t tag = 0) { return ReadStatus(code, offset, tag); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  // Where the item that failed starts, in bytes from the start of the reader's input.
  size_t offset() const { return offset_; }
  // The tag found, for kUnexpectedTag and kUnknownTag.
  uint8_t tag() const { return tag_; }
  // "bad term at byte 7: unsupported tag 1"
  std::string ToString() const;

 private:
  ReadStatus(Code code, size_t offset, uint8_t tag) : code_(code), tag_(tag), offset_(offset) {}
  Code code_ = Code::kOk;
  uint8_t tag_ = 0;
  size_t offset_ = 0;
};

// An atom's name as it was sent.
struct Atom {
  std::string_view bytes;
  bool latin1 = false;  // ATOM_EXT / SMALL_ATOM_EXT: one byte per character; else UTF-8

  // Appends the name as UTF-8 (Latin-1 converted; UTF-8 as it is, not validated).
  void AppendUtf8To(std::string* out) const;
};

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  size_t position() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }
  // The bytes read since `start` (a position() taken earlier), e.g. a pid's encoding.
  std::string_view Since(size_t start) const { return bytes_.substr(start, pos_ - start); }

  // The tag of the next item, without reading it.
  ReadStatus PeekTag(uint8_t* out) const;
  // The version byte 131 that starts a whole encoded term.
  ReadStatus ReadVersion();

  // SMALL_TUPLE_EXT or LARGE_TUPLE_EXT; `arity` elements follow.
  ReadStatus ReadTupleHeader(uint32_t* arity);
  // A list: NIL gives 0 and nothing follows; LIST_EXT gives its element count (at least 1), and
  // the elements and then the tail follow (NIL for a proper list: ReadNil).
  ReadStatus ReadListHeader(uint32_t* count);
  ReadStatus ReadNil();
  // MAP_EXT; `pairs` keys and values follow, key, value, key, value ...
  ReadStatus ReadMapHeader(uint32_t* pairs);

  // Any of the four atom tags. At most 255 characters, as ERTS decodes them: 255 bytes of
  // Latin-1, at most 1020 bytes of UTF-8 (whose encoding is not otherwise checked).
  ReadStatus ReadAtom(Atom* out);
  // BINARY_EXT: a view of its bytes.
  ReadStatus ReadBinary(std::string_view* out);
  // STRING_EXT (a list of byte values, how term_to_binary sends a short list of small integers).
  ReadStatus ReadString(std::string_view* out);

  // SMALL_INTEGER_EXT, INTEGER_EXT, SMALL_BIG_EXT or LARGE_BIG_EXT whose value fits.
  ReadStatus ReadInt64(int64_t* out);
  ReadStatus ReadUint64(uint64_t* out);
  // Any integer, a bignum of any size as the nearest double (or infinity).
  ReadStatus ReadIntegerAsDouble(double* out);
  // NEW_FLOAT_EXT (IEEE 754, may be NaN or infinite) or FLOAT_EXT (the old 31-byte text form).
  ReadStatus ReadFloat(double* out);

  // Skips one term of any tag this reader knows: containers with their elements (improper
  // list tails included), pids, ports, references, funs, exports, bitstrings. `max_depth` is
  // how many tuples, lists and maps deep it may go: 0 accepts none, 1 a container of scalars.
  ReadStatus SkipTerm(int max_depth);

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace beam_exporter::etf
