// printable(): what is printed from files cannot drive the terminal or flood
// a line; summary() prints layer names through it.

#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <string>

using namespace seqnet;

namespace {

TEST(Printable, EscapesControlsAndInvalidUtf8KeepsText) {
  EXPECT_EQ(printable("lstm_1"), "lstm_1");
  EXPECT_EQ(printable("caf\xc3\xa9 \xe6\x97\xa5"), "caf\xc3\xa9 \xe6\x97\xa5");  // UTF-8 kept
  EXPECT_EQ(printable("a\x1b[2Jb"), "a\\x1b[2Jb");
  EXPECT_EQ(printable(std::string("n\0l\n\t\x7f", 6)), "n\\x00l\\x0a\\x09\\x7f");
  EXPECT_EQ(printable("x\xc2\x9b" "31m"), "x\\xc2\\x9b31m");  // C1 CSI as UTF-8
  EXPECT_EQ(printable("\x9b" "2J"), "\\x9b2J");             // a lone C1 byte
  EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");   // a surrogate
  EXPECT_EQ(printable("\xe6\x97"), "\\xe6\\x97");           // cut sequence
  EXPECT_EQ(printable("back\\slash"), "back\\\\slash");
}

TEST(Printable, CapsLength) {
  const std::string big(10 << 20, 'a');
  const std::string p = printable(big, 64);
  EXPECT_LE(p.size(), 64u + 32u);
  EXPECT_NE(p.find("(10485760 bytes)"), std::string::npos);
  EXPECT_EQ(printable(std::string(64, 'b'), 64), std::string(64, 'b'));
}

TEST(Printable, SummaryEscapesLayerNames) {
  clear_session();
  auto in = Input({3, 2}, {.name = "in\x1b[2J"});
  auto h = LSTM(2, {.name = "evil\x1b]0;title\x07"})(in);
  Model m({in}, {h[0]}, "m\x1b[31m");
  const std::string s = m.summary_string();
  EXPECT_EQ(s.find('\x1b'), std::string::npos) << s;
  EXPECT_EQ(s.find('\x07'), std::string::npos) << s;
  EXPECT_NE(s.find("evil\\x1b]0;title\\x07"), std::string::npos) << s;
  EXPECT_NE(s.find("m\\x1b[31m"), std::string::npos) << s;
}

}  // namespace

namespace {

TEST(Printable, ErrorMessagesAreOneBoundedLine) {
  const std::string big(50 << 20, 'd');
  const IOError e("unsupported dtype '" + big + "'");
  EXPECT_LE(std::string(e.what()).size(), kMaxErrorBytes + 32);
  EXPECT_NE(std::string(e.what()).find("bytes)"), std::string::npos);
  const ValueError v("name \"a\x1b[2J\nb\"");
  EXPECT_STREQ(v.what(), "name \"a\\x1b[2J\\x0ab\"");
  EXPECT_STREQ(ShapeError("plain message").what(), "plain message");
}

}  // namespace
