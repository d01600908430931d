// data::Vocabulary (src/data/vocabulary.cpp): reserved ids, frequency order,
// UTF-8 characters, unknown symbols, limits and the JSON round trip.

#include <gtest/gtest.h>
#include <seqnet/data/vocabulary.hpp>
#include <seqnet/error.hpp>

#include <string>
#include <vector>

#include "support/gradcheck.hpp"

using namespace seqnet;
using seqnet::testing::expect_error;

TEST(Vocabulary, CharactersByFallingCountAfterReserved) {
  const auto v = data::Vocabulary::of_characters({"abca", "cab", "c"});  // c:3, a:3, b:2; a seen first
  ASSERT_EQ(v.size(), 7);
  EXPECT_EQ(v.reserved_id("<pad>"), 0);
  EXPECT_EQ(v.reserved_id("<start>"), 1);
  EXPECT_EQ(v.reserved_id("<stop>"), 2);
  EXPECT_EQ(v.reserved_id("<unk>"), 3);
  EXPECT_EQ(v.symbol(4), "a");
  EXPECT_EQ(v.symbol(5), "c");
  EXPECT_EQ(v.symbol(6), "b");
  EXPECT_EQ(v.encode_characters("cab"), (std::vector<int64_t>{5, 4, 6}));
  EXPECT_EQ(v.encode_characters("xa"), (std::vector<int64_t>{3, 4}));  // unknown -> <unk>
  EXPECT_EQ(v.decode_characters({1, 5, 4, 6, 2, 0}), "cab");
  EXPECT_EQ(v.decode_characters({1, 5, 2}, false), "<start>c<stop>");
  expect_error<ValueError>([&] { v.symbol(7); }, {"id 7", "[0, 7)"});
  expect_error<ValueError>([&] { v.reserved_id("a"); }, {"'a'", "not a reserved"});
}

TEST(Vocabulary, Utf8CodePointsAndInvalidBytes) {
  const std::string text = "na\xc3\xafve \xe2\x80\x94 \xf0\x9f\x98\x80!\xff";  // ï, em dash, emoji, a stray byte
  const auto chars = data::utf8_characters(text);
  ASSERT_EQ(chars.size(), 11u);
  EXPECT_EQ(chars[2], "\xc3\xaf");
  EXPECT_EQ(chars[6], "\xe2\x80\x94");
  EXPECT_EQ(chars[8], "\xf0\x9f\x98\x80");
  EXPECT_EQ(chars[10], "\xff");
  const auto v = data::Vocabulary::of_characters({text});
  EXPECT_EQ(v.decode_characters(v.encode_characters(text)), text);
  // A truncated sequence is bytes of their own, not a character.
  EXPECT_EQ(data::utf8_characters("\xe2\x80").size(), 2u);
}

TEST(Vocabulary, TokensMinCountMaxSize) {
  const std::vector<std::vector<std::string>> seqs{{"HH", "AH0", "L", "OW1"}, {"L", "OW1"}, {"OW1", "Z"}};
  const auto all = data::Vocabulary::of_tokens(seqs);
  EXPECT_EQ(all.size(), 4 + 5);
  EXPECT_EQ(all.symbol(4), "OW1");
  EXPECT_EQ(all.symbol(5), "L");
  EXPECT_EQ(all.encode({"L", "OW1", "Q"}), (std::vector<int64_t>{5, 4, 3}));
  EXPECT_EQ(all.decode({1, 5, 4, 2}, true), (std::vector<std::string>{"L", "OW1"}));

  data::VocabularyOptions o;
  o.min_count = 2;
  const auto common = data::Vocabulary::of_tokens(seqs, o);
  EXPECT_EQ(common.size(), 6);
  EXPECT_FALSE(common.contains("HH"));
  o.min_count = 1;
  o.max_size = 5;
  const auto capped = data::Vocabulary::of_tokens(seqs, o);
  EXPECT_EQ(capped.size(), 5);
  EXPECT_EQ(capped.symbol(4), "OW1");
  o.max_size = 2;
  expect_error<ValueError>([&] { data::Vocabulary::of_tokens(seqs, o); }, {"max_size 2", "4 reserved"});
  o.max_size = 0;
  o.min_count = 0;
  expect_error<ValueError>([&] { data::Vocabulary::of_tokens(seqs, o); }, {"min_count", "got 0"});
}

TEST(Vocabulary, NoUnknownSymbolThrows) {
  data::VocabularyOptions o;
  o.reserved = {"<pad>"};
  o.unknown = "";
  const data::Vocabulary v({"a", "b"}, o);
  EXPECT_EQ(v.size(), 3);
  EXPECT_EQ(v.id("b"), 2);
  expect_error<ValueError>([&] { v.id("zz"); }, {"unknown symbol 'zz'", "no unknown symbol"});
  expect_error<ValueError>([&] { data::Vocabulary({"a", "a"}, o); }, {"'a' appears twice"});
  expect_error<ValueError>([&] { data::Vocabulary({"a", ""}, o); }, {"empty"});
  o.unknown = "<oov>";
  expect_error<ValueError>([&] { data::Vocabulary({"a"}, o); }, {"'<oov>'", "not one of the reserved"});
}

TEST(Vocabulary, JsonRoundTrip) {
  const auto v = data::Vocabulary::of_characters({"hello w\xc3\xb6rld"});
  const auto back = data::Vocabulary::from_json(v.to_json());
  EXPECT_EQ(back.symbols(), v.symbols());
  EXPECT_EQ(back.options().reserved, v.options().reserved);
  EXPECT_EQ(back.id("<unk>"), v.id("<unk>"));
  EXPECT_EQ(back.encode_characters("w\xc3\xb6q"), v.encode_characters("w\xc3\xb6q"));
  expect_error<ValueError>([] { data::Vocabulary::from_json("{"); }, {"not JSON"});
  expect_error<ValueError>([] { data::Vocabulary::from_json(R"({"reserved": [], "unknown": ""})"); }, {"\"symbols\""});
  expect_error<ValueError>([] { data::Vocabulary::from_json(R"({"reserved": ["<pad>"], "unknown": "", "symbols": ["<pad>", 3]})"); },
                           {"non-string"});
}
