#include "collectors/beam/etf_term.h"

#include <ei.h>
#include <gtest/gtest.h>

#include <string>

namespace beam_exporter::beam {
namespace {

// Builds ETF bytes (with version byte) with ei's encoders, as the node would send them.
class Encoded {
 public:
  Encoded() { ei_x_new_with_version(&x_); }
  ~Encoded() { ei_x_free(&x_); }
  ei_x_buff* x() { return &x_; }
  std::string_view bytes() const { return std::string_view(x_.buff, static_cast<size_t>(x_.index)); }

 private:
  ei_x_buff x_;
};

TEST(EtfTermTest, DecodesProplistOfIntegersAtomsAndBinaries) {
  Encoded e;
  ei_x_encode_list_header(e.x(), 3);
  ei_x_encode_tuple_header(e.x(), 2);
  ei_x_encode_atom(e.x(), "total");
  ei_x_encode_longlong(e.x(), 123456789012LL);
  ei_x_encode_tuple_header(e.x(), 2);
  ei_x_encode_atom(e.x(), "name");
  ei_x_encode_binary(e.x(), "Elixir.MyApp", 12);
  ei_x_encode_tuple_header(e.x(), 2);
  ei_x_encode_atom(e.x(), "neg");
  ei_x_encode_long(e.x(), -5);
  ei_x_encode_empty_list(e.x());

  Term t;
  ASSERT_TRUE(DecodeEtf(e.bytes(), &t).ok());
  int64_t v = 0;
  ASSERT_NE(t.Find("total"), nullptr);
  ASSERT_TRUE(t.Find("total")->AsInt(&v));
  EXPECT_EQ(v, 123456789012LL);
  std::string name;
  ASSERT_TRUE(t.Find("name")->AsText(&name));
  EXPECT_EQ(name, "Elixir.MyApp");
  ASSERT_TRUE(t.Find("neg")->AsInt(&v));
  EXPECT_EQ(v, -5);
  EXPECT_EQ(t.Find("absent"), nullptr);
}

TEST(EtfTermTest, StringExtArrivesAsListOfIntegers) {
  // statistics(run_queue_lengths_all) = [0,0,0,0] is sent as STRING_EXT.
  Encoded e;
  ei_x_encode_string_len(e.x(), "\0\0\3\0", 4);
  Term t;
  ASSERT_TRUE(DecodeEtf(e.bytes(), &t).ok());
  ASSERT_EQ(t.kind, Term::Kind::kList);
  ASSERT_EQ(t.items.size(), 4u);
  EXPECT_EQ(t.items[2].integer, 3);
}

TEST(EtfTermTest, BignumBeyondInt64BecomesApproximateNumber) {
  Encoded e;
  ei_x_encode_ulonglong(e.x(), 18000000000000000000ULL);
  Term t;
  ASSERT_TRUE(DecodeEtf(e.bytes(), &t).ok());
  EXPECT_EQ(t.kind, Term::Kind::kBigInteger);
  double d = 0;
  ASSERT_TRUE(t.AsDouble(&d));
  EXPECT_DOUBLE_EQ(d, 18000000000000000000.0);
}

TEST(EtfTermTest, PidKeepsItsEncodingToSendBack) {
  Encoded e;
  erlang_pid pid{};
  std::snprintf(pid.node, sizeof pid.node, "%s", "app@127.0.0.1");
  pid.num = 123;
  pid.serial = 0;
  pid.creation = 7;
  ei_x_encode_pid(e.x(), &pid);
  Term t;
  ASSERT_TRUE(DecodeEtf(e.bytes(), &t).ok());
  ASSERT_EQ(t.kind, Term::Kind::kPid);
  EXPECT_EQ(t.text, std::string(e.bytes().substr(1)));  // without the version byte
}

TEST(EtfTermTest, TruncatedInputIsAnErrorAtEveryLength) {
  Encoded e;
  ei_x_encode_tuple_header(e.x(), 2);
  ei_x_encode_atom(e.x(), "rex");
  ei_x_encode_binary(e.x(), "payload", 7);
  std::string_view full = e.bytes();
  for (size_t n = 0; n < full.size(); ++n) {
    Term t;
    EXPECT_FALSE(DecodeEtf(full.substr(0, n), &t).ok()) << "length " << n;
  }
  Term t;
  EXPECT_TRUE(DecodeEtf(full, &t).ok());
}

TEST(EtfTermTest, RejectsMissingVersionTrailingBytesAndLyingCounts) {
  Term t;
  EXPECT_FALSE(DecodeEtf(std::string_view("\x61\x01", 2), &t).ok());          // no version byte
  EXPECT_FALSE(DecodeEtf(std::string_view("\x83\x61\x01\x00", 4), &t).ok());  // trailing byte
  // LIST_EXT claiming 4 billion elements in a 10-byte reply.
  EXPECT_FALSE(DecodeEtf(std::string_view("\x83\x6c\xff\xff\xff\xff\x6a\x6a\x6a\x6a", 10), &t).ok());
  Status s = DecodeEtf(std::string_view("\x83\x01", 2), &t);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("unsupported tag 1"), std::string::npos);
}

TEST(EtfTermTest, RejectsNestingDeeperThanTheLimit) {
  std::string deep = "\x83";
  for (int i = 0; i < 100; ++i) deep += std::string("\x68\x01", 2);  // {{{...}}}
  deep += "\x6a";
  Term t;
  Status s = DecodeEtf(deep, &t);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("nested deeper"), std::string::npos);
}

}  // namespace
}  // namespace beam_exporter::beam
