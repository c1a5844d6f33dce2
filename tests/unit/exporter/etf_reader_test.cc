#include "exporter/etf_reader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace beam_exporter::etf {
namespace {

using Code = ReadStatus::Code;

// Bytes written by a real `erl` (OTP 25), so that every layout is the one ERTS writes:
//   term_to_binary({#{a => [1,2,3]}, [<<"bin">>, 'héllo', 1.5, 1 bsl 70, -3, 300, <<5:3>>, "", {}],
//                   list_to_pid("<0.42.0>"), hd(erlang:ports()), make_ref(), fun(X) -> X + Y end,
//                   fun lists:map/2, [a|b]}, [{minor_version, 2}])
// from a compiled module (Y = 2). It holds every tag but the old ones ERTS no longer writes.
const std::string kEveryTag(
    "\x83\x68\x08\x74\x00\x00\x00\x01\x77\x01\x61\x6b\x00\x03\x01\x02\x03\x6c\x00\x00\x00\x09\x6d\x00\x00\x00\x03"
    "\x62\x69\x6e\x77\x06\x68\xc3\xa9\x6c\x6c\x6f\x46\x3f\xf8\x00\x00\x00\x00\x00\x00\x6e\x09\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x00\x40\x62\xff\xff\xff\xfd\x62\x00\x00\x01\x2c\x4d\x00\x00\x00\x01\x03\xa0\x6a\x68\x00\x6a\x58"
    "\x77\x0d\x6e\x6f\x6e\x6f\x64\x65\x40\x6e\x6f\x68\x6f\x73\x74\x00\x00\x00\x2a\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x59\x77\x0d\x6e\x6f\x6e\x6f\x64\x65\x40\x6e\x6f\x68\x6f\x73\x74\x00\x00\x00\x00\x00\x00\x00\x00\x5a\x00\x03"
    "\x77\x0d\x6e\x6f\x6e\x6f\x64\x65\x40\x6e\x6f\x68\x6f\x73\x74\x00\x00\x00\x00\x00\x02\xa4\x28\xe1\x70\x00\x01"
    "\xe5\xb4\x5f\x90\x70\x00\x00\x00\x4f\x01\x7f\x3a\x74\xd3\x9d\x0c\x45\x44\xa2\x04\x66\x1d\x7a\x92\xd1\xc0\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x77\x0d\x65\x74\x66\x5f\x63\x6f\x6d\x70\x6f\x73\x69\x74\x65\x61\x00\x62\x03\xf9"
    "\xd3\xa6\x58\x77\x0d\x6e\x6f\x6e\x6f\x64\x65\x40\x6e\x6f\x68\x6f\x73\x74\x00\x00\x00\x09\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x71\x77\x05\x6c\x69\x73\x74\x73\x77\x03\x6d\x61\x70\x61\x02\x6c\x00\x00\x00\x01\x77\x01\x61\x77"
    "\x01\x62",
    272);

std::string Bytes(std::string_view s) { return std::string(s); }

// FLOAT_EXT: the text in 31 bytes, padded with zero bytes.
std::string FloatExt(std::string_view text) {
  std::string out = "\x63" + std::string(text);
  out.resize(32, '\0');
  return out;
}

TEST(EtfReaderTest, SkipsATermOfEveryTagWrittenByErl) {
  Reader in(kEveryTag);
  ASSERT_TRUE(in.ReadVersion().ok());
  ReadStatus s = in.SkipTerm(3);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(in.remaining(), 0u);
}

TEST(EtfReaderTest, ReadsEachItemOfTheErlTermWithItsTypedRead) {
  Reader in(kEveryTag);
  uint32_t n = 0;
  ASSERT_TRUE(in.ReadVersion().ok());
  ASSERT_TRUE(in.ReadTupleHeader(&n).ok());
  EXPECT_EQ(n, 8u);
  // #{a => [1,2,3]}: the list of small integers is a STRING_EXT.
  ASSERT_TRUE(in.ReadMapHeader(&n).ok());
  EXPECT_EQ(n, 1u);
  Atom atom;
  ASSERT_TRUE(in.ReadAtom(&atom).ok());
  EXPECT_EQ(atom.bytes, "a");
  EXPECT_FALSE(atom.latin1);
  std::string_view bytes;
  ASSERT_TRUE(in.ReadString(&bytes).ok());
  EXPECT_EQ(bytes, std::string_view("\x01\x02\x03", 3));
  // [<<"bin">>, 'héllo', 1.5, 1 bsl 70, -3, 300, <<5:3>>, "", {}]
  ASSERT_TRUE(in.ReadListHeader(&n).ok());
  EXPECT_EQ(n, 9u);
  ASSERT_TRUE(in.ReadBinary(&bytes).ok());
  EXPECT_EQ(bytes, "bin");
  ASSERT_TRUE(in.ReadAtom(&atom).ok());
  EXPECT_EQ(atom.bytes, "h\xc3\xa9llo");
  double d = 0;
  ASSERT_TRUE(in.ReadFloat(&d).ok());
  EXPECT_EQ(d, 1.5);
  int64_t i = 0;
  EXPECT_EQ(in.ReadInt64(&i).code(), Code::kOutOfRange);
  ASSERT_TRUE(in.ReadIntegerAsDouble(&d).ok());
  EXPECT_EQ(d, std::ldexp(1.0, 70));
  ASSERT_TRUE(in.ReadInt64(&i).ok());
  EXPECT_EQ(i, -3);
  uint64_t u = 0;
  ASSERT_TRUE(in.ReadUint64(&u).ok());
  EXPECT_EQ(u, 300u);
  const size_t bitstring_at = in.position();
  ASSERT_TRUE(in.SkipTerm(0).ok());  // <<5:3>>
  EXPECT_EQ(in.Since(bitstring_at), std::string_view("\x4d\x00\x00\x00\x01\x03\xa0", 7));
  ASSERT_TRUE(in.ReadListHeader(&n).ok());  // "" is NIL
  EXPECT_EQ(n, 0u);
  ASSERT_TRUE(in.ReadTupleHeader(&n).ok());
  EXPECT_EQ(n, 0u);
  ASSERT_TRUE(in.ReadNil().ok());
  // The pid, port, reference, fun and export are read by skipping them.
  const size_t pid_at = in.position();
  ASSERT_TRUE(in.SkipTerm(0).ok());
  EXPECT_EQ(in.Since(pid_at).size(), 1 + 15 + 12u);  // tag, node atom, ID, serial, creation
  for (int item = 0; item < 4; ++item) ASSERT_TRUE(in.SkipTerm(0).ok()) << "item " << item;
  // [a|b]
  ASSERT_TRUE(in.ReadListHeader(&n).ok());
  EXPECT_EQ(n, 1u);
  ASSERT_TRUE(in.ReadAtom(&atom).ok());
  EXPECT_EQ(in.ReadNil().code(), Code::kUnexpectedTag);  // improper: the tail is an atom
  ASSERT_TRUE(in.ReadAtom(&atom).ok());
  EXPECT_EQ(atom.bytes, "b");
  EXPECT_EQ(in.remaining(), 0u);
}

TEST(EtfReaderTest, TruncationAtEveryByteIsAnErrorThatLeavesTheCursor) {
  for (size_t n = 1; n < kEveryTag.size(); ++n) {
    Reader in(std::string_view(kEveryTag).substr(0, n));
    ASSERT_TRUE(in.ReadVersion().ok());
    ReadStatus s = in.SkipTerm(3);
    EXPECT_FALSE(s.ok()) << "length " << n;
    EXPECT_TRUE(s.code() == Code::kTruncated || s.code() == Code::kCountTooLarge) << "length " << n << ": " << s.ToString();
    EXPECT_LE(s.offset(), n) << "length " << n;
    EXPECT_EQ(in.position(), 1u) << "length " << n;
  }
  Reader empty("");
  EXPECT_EQ(empty.ReadVersion().code(), Code::kTruncated);
  uint8_t tag = 0;
  EXPECT_EQ(empty.PeekTag(&tag).code(), Code::kTruncated);
}

TEST(EtfReaderTest, EveryTypedReadRefusesEachTruncationOfItsItem) {
  // Each item (no version byte) with the read that takes it.
  struct Case {
    std::string bytes;
    ReadStatus (*read)(Reader&);
  };
  const Case cases[] = {
      {Bytes("\x61\x07"), [](Reader& in) { int64_t v; return in.ReadInt64(&v); }},
      {Bytes("\x62\xff\xff\xff\xfb"), [](Reader& in) { int64_t v; return in.ReadInt64(&v); }},
      {Bytes(std::string_view("\x6e\x08\x00\x00\x00\x08\xc5\xa1\xd8\xcc\xf9", 11)), [](Reader& in) { uint64_t v; return in.ReadUint64(&v); }},
      {Bytes(std::string_view("\x6f\x00\x00\x00\x01\x00\x05", 7)), [](Reader& in) { double v; return in.ReadIntegerAsDouble(&v); }},
      {Bytes(std::string_view("\x46\x3f\xd0\x00\x00\x00\x00\x00\x00", 9)), [](Reader& in) { double v; return in.ReadFloat(&v); }},
      {FloatExt("2.50000000000000000000e-01"), [](Reader& in) { double v; return in.ReadFloat(&v); }},
      {Bytes(std::string_view("\x64\x00\x02ok", 5)), [](Reader& in) { Atom a; return in.ReadAtom(&a); }},
      {Bytes("\x73\x02ok"), [](Reader& in) { Atom a; return in.ReadAtom(&a); }},
      {Bytes(std::string_view("\x76\x00\x02ok", 5)), [](Reader& in) { Atom a; return in.ReadAtom(&a); }},
      {Bytes("\x77\x02ok"), [](Reader& in) { Atom a; return in.ReadAtom(&a); }},
      {Bytes(std::string_view("\x6d\x00\x00\x00\x03GET", 8)), [](Reader& in) { std::string_view v; return in.ReadBinary(&v); }},
      {Bytes(std::string_view("\x6b\x00\x02\x01\x02", 5)), [](Reader& in) { std::string_view v; return in.ReadString(&v); }},
      {Bytes("\x68\x01\x6a"), [](Reader& in) { uint32_t n; return in.ReadTupleHeader(&n); }},
      {Bytes(std::string_view("\x69\x00\x00\x00\x01\x6a", 6)), [](Reader& in) { uint32_t n; return in.ReadTupleHeader(&n); }},
      {Bytes(std::string_view("\x6c\x00\x00\x00\x01\x6a\x6a", 7)), [](Reader& in) { uint32_t n; return in.ReadListHeader(&n); }},
      {Bytes(std::string_view("\x74\x00\x00\x00\x01\x6a\x6a", 7)), [](Reader& in) { uint32_t n; return in.ReadMapHeader(&n); }},
      {Bytes("\x6a"), [](Reader& in) { return in.ReadNil(); }},
  };
  for (const Case& c : cases) {
    Reader whole(c.bytes);
    EXPECT_TRUE(c.read(whole).ok()) << testing::PrintToString(c.bytes);
    for (size_t n = 0; n < c.bytes.size(); ++n) {
      // Headers need their count's worth of bytes after them, so the elements are cut too.
      Reader in(std::string_view(c.bytes).substr(0, n));
      ReadStatus s = c.read(in);
      EXPECT_FALSE(s.ok()) << testing::PrintToString(c.bytes) << " cut at " << n;
      EXPECT_EQ(in.position(), 0u);
    }
  }
}

TEST(EtfReaderTest, LengthsAndCountsLargerThanTheInputAreRefused) {
  std::string_view v;
  uint32_t n = 0;
  Atom a;
  Reader binary(std::string_view("\x6d\xff\xff\xff\xff" "abc", 8));
  EXPECT_EQ(binary.ReadBinary(&v).code(), Code::kTruncated);
  Reader string(std::string_view("\x6b\xff\xff" "abc", 6));
  EXPECT_EQ(string.ReadString(&v).code(), Code::kTruncated);
  Reader atom(std::string_view("\x76\xff\xff" "abc", 6));
  EXPECT_EQ(atom.ReadAtom(&a).code(), Code::kTruncated);
  Reader tuple(std::string_view("\x69\xff\xff\xff\xff\x6a\x6a", 7));
  EXPECT_EQ(tuple.ReadTupleHeader(&n).code(), Code::kCountTooLarge);
  // A list of n elements needs n + 1 bytes at least: its tail.
  Reader list(std::string_view("\x6c\x00\x00\x00\x02\x6a\x6a", 7));
  EXPECT_EQ(list.ReadListHeader(&n).code(), Code::kCountTooLarge);
  // 2^31 pairs: 2 * pairs would wrap in 32 bits.
  Reader map(std::string_view("\x74\x80\x00\x00\x00\x6a\x6a", 7));
  EXPECT_EQ(map.ReadMapHeader(&n).code(), Code::kCountTooLarge);
  Reader big(std::string_view("\x6f\xff\xff\xff\xff\x00\x01", 7));
  double d = 0;
  EXPECT_EQ(big.ReadIntegerAsDouble(&d).code(), Code::kTruncated);
  Reader fun(std::string_view("\x70\xff\xff\xff\xff\x00", 6));
  EXPECT_EQ(fun.SkipTerm(0).code(), Code::kTruncated);
  Reader bits(std::string_view("\x4d\xff\xff\xff\xff\x03\xa0", 7));
  EXPECT_EQ(bits.SkipTerm(0).code(), Code::kTruncated);
  Reader ref(std::string_view("\x5a\xff\xff\x77\x01n\x00\x00\x00\x00", 10));
  EXPECT_EQ(ref.SkipTerm(0).code(), Code::kTruncated);
  // Within the input but beyond what ERTS allows or writes.
  const std::string latin1_256 = std::string("\x64\x01\x00", 3) + std::string(256, 'a');
  Reader latin1(latin1_256);
  EXPECT_EQ(latin1.ReadAtom(&a).code(), Code::kInvalid);
  std::string smileys;
  for (int i = 0; i < 255; ++i) smileys += "\xf0\x9f\x98\x80";  // 255 characters, 1020 bytes
  const std::string utf8_255 = std::string("\x76\x03\xfc", 3) + smileys;
  Reader utf8_max(utf8_255);
  EXPECT_TRUE(utf8_max.ReadAtom(&a).ok());
  const std::string utf8_256 = std::string("\x76\x01\x00", 3) + std::string(256, 'a');
  Reader utf8_chars(utf8_256);
  EXPECT_EQ(utf8_chars.ReadAtom(&a).code(), Code::kInvalid);
  const std::string utf8_1021 = std::string("\x76\x03\xfd", 3) + std::string(1021, '\x80');
  Reader utf8_bytes(utf8_1021);
  EXPECT_EQ(utf8_bytes.ReadAtom(&a).code(), Code::kInvalid);
  Reader empty_list_ext(std::string_view("\x6c\x00\x00\x00\x00\x6a", 6));
  EXPECT_EQ(empty_list_ext.ReadListHeader(&n).code(), Code::kInvalid);
  Reader short_fun(std::string_view("\x70\x00\x00\x00\x03", 5));
  EXPECT_EQ(short_fun.SkipTerm(0).code(), Code::kInvalid);
}

// {{{ ... {[]} ... }}}: `depth` tuples around NIL.
std::string Nested(int depth) {
  std::string out;
  for (int i = 0; i < depth; ++i) out += "\x68\x01";
  return out + "\x6a";
}

TEST(EtfReaderTest, SkipTermStopsAtTheNestingLimit) {
  const std::string hundred = Nested(100), hundred_and_one = Nested(101);
  Reader exact(hundred);
  EXPECT_TRUE(exact.SkipTerm(100).ok());
  Reader deeper(hundred_and_one);
  ReadStatus s = deeper.SkipTerm(100);
  EXPECT_EQ(s.code(), Code::kTooDeep);
  EXPECT_EQ(s.offset(), 200u);  // the 101st tuple
  EXPECT_EQ(deeper.position(), 0u);
  // A list's tail counts as one level down, as its elements do: [a|[b|[c|d]]] written as
  // nested LIST_EXT tails.
  const std::string_view tails("\x6c\x00\x00\x00\x01\x77\x01" "a"
                               "\x6c\x00\x00\x00\x01\x77\x01" "b"
                               "\x77\x01" "c", 19);
  Reader two(tails);
  EXPECT_TRUE(two.SkipTerm(2).ok());
  Reader one(tails);
  EXPECT_EQ(one.SkipTerm(1).code(), Code::kTooDeep);
  // Depth 0 takes scalars and NIL, not an empty tuple.
  Reader nil("\x6a");
  EXPECT_TRUE(nil.SkipTerm(0).ok());
  Reader empty_tuple(std::string_view("\x68\x00", 2));
  EXPECT_EQ(empty_tuple.SkipTerm(0).code(), Code::kTooDeep);
}

TEST(EtfReaderTest, UnknownAndUnexpectedTagsAreNamed) {
  // 1: no such tag; 80: compressed term; 82: atom cache reference; 117: the old FUN_EXT;
  // 121: LOCAL_EXT. None is written by term_to_binary/1 today.
  for (uint8_t t : {uint8_t{1}, uint8_t{80}, uint8_t{82}, uint8_t{117}, uint8_t{121}, uint8_t{255}}) {
    const std::string bytes = std::string(1, static_cast<char>(t)) + std::string(8, '\0');
    Reader in(bytes);
    ReadStatus s = in.SkipTerm(4);
    EXPECT_EQ(s.code(), Code::kUnknownTag) << int{t};
    EXPECT_EQ(s.tag(), t);
    EXPECT_EQ(s.ToString(), "bad term at byte 0: unsupported tag " + std::to_string(t));
    std::string_view v;
    EXPECT_EQ(in.ReadBinary(&v).code(), Code::kUnknownTag);
  }
  Reader atom("\x77\x02ok");
  std::string_view v;
  ReadStatus s = atom.ReadBinary(&v);
  EXPECT_EQ(s.code(), Code::kUnexpectedTag);
  EXPECT_EQ(s.tag(), tag::kSmallAtomUtf8);
  EXPECT_EQ(s.ToString(), "bad term at byte 0: unexpected tag 119");
  int64_t i = 0;
  EXPECT_EQ(atom.ReadInt64(&i).code(), Code::kUnexpectedTag);
  EXPECT_EQ(atom.position(), 0u);
  Reader no_version("\x61\x01");
  EXPECT_EQ(no_version.ReadVersion().code(), Code::kMissingVersion);
  // An export's arity must be a small integer.
  Reader export_arity(std::string_view("\x71\x77\x01m\x77\x01" "f\x62\x00\x00\x00\x02", 12));
  EXPECT_EQ(export_arity.SkipTerm(0).code(), Code::kUnexpectedTag);
  // A pid's node must be an atom.
  Reader pid_node(std::string_view("\x58\x6d\x00\x00\x00\x00" "123456789012", 18));
  EXPECT_EQ(pid_node.SkipTerm(0).code(), Code::kUnexpectedTag);
}

TEST(EtfReaderTest, IntegersAtTheEdgesOfTheirTypes) {
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  // term_to_binary(-9223372036854775808) and 18000000000000000000 (erl).
  Reader min(std::string_view("\x6e\x08\x01\x00\x00\x00\x00\x00\x00\x00\x80", 11));
  ASSERT_TRUE(min.ReadInt64(&i).ok());
  EXPECT_EQ(i, INT64_MIN);
  const std::string_view beyond_int64("\x6e\x08\x00\x00\x00\x08\xc5\xa1\xd8\xcc\xf9", 11);
  Reader over(beyond_int64);
  EXPECT_EQ(over.ReadInt64(&i).code(), Code::kOutOfRange);
  EXPECT_EQ(over.position(), 0u);
  ASSERT_TRUE(over.ReadUint64(&u).ok());
  EXPECT_EQ(u, 18000000000000000000ULL);
  Reader negative("\x62\xff\xff\xff\xfb");
  EXPECT_EQ(negative.ReadUint64(&u).code(), Code::kOutOfRange);
  ASSERT_TRUE(negative.ReadInt64(&i).ok());
  EXPECT_EQ(i, -5);
  // 2^64: nine digits, the last non-zero.
  Reader two_to_64(std::string_view("\x6e\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", 12));
  EXPECT_EQ(two_to_64.ReadUint64(&u).code(), Code::kOutOfRange);
  ASSERT_TRUE(two_to_64.ReadIntegerAsDouble(&d).ok());
  EXPECT_EQ(d, std::ldexp(1.0, 64));
  // Leading zero digits beyond the eighth do not make a number big.
  Reader padded(std::string_view("\x6e\x0a\x01\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00", 13));
  ASSERT_TRUE(padded.ReadInt64(&i).ok());
  EXPECT_EQ(i, -5);
  // A bignum beyond any double is infinity, not an error.
  std::string huge = std::string("\x6f\x00\x00\x04\x00\x00", 6) + std::string(1024, '\xff');
  Reader inf(huge);
  ASSERT_TRUE(inf.ReadIntegerAsDouble(&d).ok());
  EXPECT_TRUE(std::isinf(d));
}

TEST(EtfReaderTest, FloatsInBothForms) {
  double d = 0;
  // term_to_binary(0.25, [{minor_version, 0}]) (erl): the 31-byte text form.
  const std::string quarter = FloatExt("2.50000000000000000000e-01");
  Reader text(quarter);
  ASSERT_TRUE(text.ReadFloat(&d).ok());
  EXPECT_EQ(d, 0.25);
  const std::string garbled = FloatExt("2.5x000000000000000000e-01");
  Reader not_a_number(garbled);
  EXPECT_EQ(not_a_number.ReadFloat(&d).code(), Code::kInvalid);
  // NEW_FLOAT_EXT carries IEEE bits as they are, infinity included; callers decide.
  Reader infinity(std::string_view("\x46\x7f\xf0\x00\x00\x00\x00\x00\x00", 9));
  ASSERT_TRUE(infinity.ReadFloat(&d).ok());
  EXPECT_TRUE(std::isinf(d));
}

TEST(EtfReaderTest, Latin1AtomsBecomeUtf8) {
  // 'héllo' as OTP 25's term_to_binary/1 writes it (ATOM_EXT, Latin-1).
  Reader in(std::string_view("\x64\x00\x05h\xe9llo", 8));
  Atom atom;
  ASSERT_TRUE(in.ReadAtom(&atom).ok());
  EXPECT_TRUE(atom.latin1);
  std::string utf8 = "prefix:";
  atom.AppendUtf8To(&utf8);
  EXPECT_EQ(utf8, "prefix:h\xc3\xa9llo");
}

}  // namespace
}  // namespace beam_exporter::etf
