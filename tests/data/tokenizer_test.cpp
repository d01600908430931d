#include <gtest/gtest.h>
#include <seqnet/seqnet.hpp>

#include <string>

#include "support/gradcheck.hpp"

using namespace seqnet;
using data::Tokenizer;
using Ids = std::vector<int64_t>;
using Words = std::vector<std::string>;

namespace {

using seqnet::testing::expect_error;

const std::vector<std::string> kTexts{"The cat sat on the mat.", "The dog ate my homework!", "Cat, cat, CAT?"};

}  // namespace

TEST(TextToWordSequence, KerasDefaults) {
  EXPECT_EQ(data::text_to_word_sequence("Hello, World!  It's\tme.\nOK"),
            (Words{"hello", "world", "it's", "me", "ok"}));
  EXPECT_EQ(data::text_to_word_sequence(""), Words{});
  EXPECT_EQ(data::text_to_word_sequence(" ,.!  "), Words{});
}

TEST(TextToWordSequence, FiltersLowerAndSplit) {
  EXPECT_EQ(data::text_to_word_sequence("Cat, CAT", "", false), (Words{"Cat,", "CAT"}));
  EXPECT_EQ(data::text_to_word_sequence("a b||c||||d", "", true, "||"), (Words{"a b", "c", "d"}));
  // Lowercasing happens before filtering (as in Keras): an uppercase filter
  // character no longer matches.
  EXPECT_EQ(data::text_to_word_sequence("xAy", "A", true), (Words{"xay"}));
  EXPECT_EQ(data::text_to_word_sequence("xAy", "A", false), (Words{"x", "y"}));
  // ASCII-only lowercasing; multi-byte filter characters are matched whole:
  // the filter "—" (E2 80 94) must not break "’" (E2 80 99).
  EXPECT_EQ(data::text_to_word_sequence("CAFÉ don’t—stop", "—"), (Words{"cafÉ", "don’t", "stop"}));
  expect_error<ValueError>([] { data::text_to_word_sequence("a b", "", true, ""); }, "split");
}

TEST(Tokenizer, IndexByFrequencyThenFirstAppearance) {
  Tokenizer tok;
  tok.fit_on_texts(kTexts);
  // Counts: cat 4, the 3, the others 1 in order of first appearance.
  EXPECT_EQ(tok.index_word(),
            (Words{"", "cat", "the", "sat", "on", "mat", "dog", "ate", "my", "homework"}));
  EXPECT_EQ(tok.word_index().at("cat"), 1);
  EXPECT_EQ(tok.word_index().at("homework"), 9);
  EXPECT_EQ(tok.word_index().size(), 9u);
  ASSERT_EQ(tok.word_counts().size(), 9u);
  EXPECT_EQ(tok.word_counts()[0], (std::pair<std::string, int64_t>{"the", 3}));
  EXPECT_EQ(tok.word_counts()[1], (std::pair<std::string, int64_t>{"cat", 4}));
  EXPECT_EQ(tok.count_of("cat"), 4);
  EXPECT_EQ(tok.count_of("zebra"), 0);
  EXPECT_EQ(tok.document_count(), 3);
  EXPECT_EQ(tok.vocabulary_size(), 10);
  EXPECT_EQ(tok.index_of("the"), 2);
  EXPECT_FALSE(tok.index_of("The").has_value());
}

TEST(Tokenizer, TiesKeepFirstAppearance) {
  Tokenizer tok;
  tok.fit_on_texts({"b a c", "c a b"});
  EXPECT_EQ(tok.index_word(), (Words{"", "b", "a", "c"}));
}

TEST(Tokenizer, UnknownWordsAreDroppedWithoutOov) {
  Tokenizer tok;
  tok.fit_on_texts(kTexts);
  EXPECT_EQ(tok.texts_to_sequences({"The cat ate a fish", "", "zebra"}), (std::vector<Ids>{{2, 1, 7}, {}, {}}));
  EXPECT_EQ(tok.text_to_sequence("THE CAT"), (Ids{2, 1}));
}

TEST(Tokenizer, NumWordsCountsReservedZero) {
  Tokenizer tok({.num_words = 4});
  tok.fit_on_texts(kTexts);
  // The index keeps every word; sequences only indices < 4 (cat, the, sat).
  EXPECT_EQ(tok.word_index().size(), 9u);
  EXPECT_EQ(tok.text_to_sequence("on the mat sat the cat"), (Ids{2, 3, 2, 1}));
  EXPECT_EQ(tok.vocabulary_size(), 4);
  Tokenizer big({.num_words = 1000});
  big.fit_on_texts(kTexts);
  EXPECT_EQ(big.vocabulary_size(), 10);
}

TEST(Tokenizer, OovTokenTakesIndexOne) {
  Tokenizer tok({.oov_token = "<OOV>"});
  tok.fit_on_texts(kTexts);
  EXPECT_EQ(tok.word_index().at("<OOV>"), 1);
  EXPECT_EQ(tok.word_index().at("cat"), 2);
  EXPECT_EQ(tok.word_index().at("the"), 3);
  EXPECT_EQ(tok.text_to_sequence("the cat ate a fish"), (Ids{3, 2, 8, 1, 1}));
  EXPECT_EQ(tok.word_counts().size(), 9u);  // the oov token is not counted
}

TEST(Tokenizer, OovWithNumWordsMapsCutWordsToOov) {
  Tokenizer tok({.num_words = 5, .oov_token = "<OOV>"});
  tok.fit_on_texts(kTexts);
  // Kept: <OOV> 1, cat 2, the 3, sat 4; "on" (5) and "mat" (6) become 1.
  EXPECT_EQ(tok.text_to_sequence("on the mat sat fish"), (Ids{1, 3, 1, 4, 1}));
  EXPECT_EQ(tok.sequences_to_texts({{3, 2, 6, 0, 42}}), (Words{"the cat <OOV> <OOV>"}));
}

TEST(Tokenizer, OovTokenThatIsAlsoAWordKeepsOneIndex) {
  Tokenizer tok({.oov_token = "unk"});
  tok.fit_on_texts({"unk unk unk a"});
  EXPECT_EQ(tok.index_word(), (Words{"", "unk", "a"}));
}

TEST(Tokenizer, LowerFalseKeepsCase) {
  Tokenizer tok({.lower = false});
  tok.fit_on_texts({"Cat cat CAT cat"});
  EXPECT_EQ(tok.index_word(), (Words{"", "cat", "Cat", "CAT"}));
}

TEST(Tokenizer, CustomFilters) {
  Tokenizer tok({.filters = ""});
  tok.fit_on_texts({"end. end"});
  EXPECT_EQ(tok.index_word(), (Words{"", "end.", "end"}));
}

TEST(Tokenizer, FittingAccumulates) {
  Tokenizer tok;
  tok.fit_on_texts({"x y"});
  EXPECT_EQ(tok.index_word(), (Words{"", "x", "y"}));
  tok.fit_on_texts({"y"});
  EXPECT_EQ(tok.index_word(), (Words{"", "y", "x"}));
  EXPECT_EQ(tok.document_count(), 2);
  EXPECT_EQ(tok.count_of("y"), 2);
}

TEST(Tokenizer, SequencesToTextsSkipsPaddingAndUnknown) {
  Tokenizer tok;
  tok.fit_on_texts(kTexts);
  EXPECT_EQ(tok.sequences_to_texts({{0, 0, 2, 1, 7}, {99, -3}, {}}), (Words{"the cat ate", "", ""}));
  // Round trip through pad_sequences.
  Tensor padded = data::pad_sequences(tok.texts_to_sequences({"my dog", "the cat sat"}));
  EXPECT_EQ(padded.to_vector(), (std::vector<float>{0, 8, 6, 2, 1, 3}));
}

TEST(Tokenizer, BadUse) {
  expect_error<ValueError>([] { Tokenizer({.num_words = 0}); }, "num_words");
  expect_error<ValueError>([] { Tokenizer({.split = ""}); }, "split");
  Tokenizer tok;
  expect_error<Error>([&] { tok.texts_to_sequences({"a"}); }, "fit_on_texts");
  expect_error<Error>([&] { tok.sequences_to_texts({{1}}); }, "fit_on_texts");
  tok.fit_on_texts({});
  EXPECT_TRUE(tok.fitted());
  EXPECT_EQ(tok.text_to_sequence("a"), Ids{});
}
