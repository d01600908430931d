#include "zip.hpp"

#include <fmt/format.h>
#include <zip.h>

#include <algorithm>
#include <set>

#include "seqnet/error.hpp"
#include "seqnet/printable.hpp"

namespace seqnet::zip {

namespace {

struct ZipFileCloser {
  void operator()(zip_file_t* f) const {
    if (f != nullptr) zip_fclose(f);
  }
};
struct ZipErr {
  zip_error_t e;
  ZipErr() { zip_error_init(&e); }
  ~ZipErr() { zip_error_fini(&e); }
  ZipErr(const ZipErr&) = delete;
  ZipErr& operator=(const ZipErr&) = delete;
  std::string str() { return zip_error_strerror(&e); }
};

// Why a member name is refused, or "" when it is fine.
std::string bad_name(std::string_view n) {
  if (n.empty()) return "an empty member name";
  if (n.find('\0') != std::string_view::npos) return "a member name with a NUL byte";
  if (n.find('\\') != std::string_view::npos) return "a member name with a backslash";
  if (n.front() == '/') return "an absolute member name";
  size_t start = 0;
  while (start <= n.size()) {
    const size_t end = std::min(n.find('/', start), n.size());
    if (n.substr(start, end - start) == "..") return "a member name with a '..' part (path traversal)";
    start = end + 1;
  }
  return "";
}

}  // namespace

struct Reader::Impl {
  zip_t* za = nullptr;
  ~Impl() {
    if (za != nullptr) zip_discard(za);
  }
};

Reader::Reader(const std::string& bytes, std::string source, std::string kind, const Limits& limits)
    : impl_(std::make_unique<Impl>()), source_(std::move(source)), kind_(std::move(kind)) {
  // The smallest zip archive is its 22-byte end-of-central-directory record.
  if (bytes.size() < 22) fail(fmt::format("{} bytes is too short for a zip archive", bytes.size()));
  ZipErr err;
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err.e);
  if (src == nullptr) fail(err.str());
  impl_->za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err.e);
  if (impl_->za == nullptr) {
    zip_source_free(src);
    fail(err.str());
  }
  zip_t* za = impl_->za;
  const zip_int64_t count = zip_get_num_entries(za, 0);
  if (count < 0) fail("cannot read the member list");
  if (count > limits.max_members) {
    fail(fmt::format("{} members, more than the limit of {}", count, limits.max_members));
  }
  // What the archive may inflate to: the limit, and the ratio to its size.
  const double by_ratio = std::max(limits.max_inflation_ratio * static_cast<double>(bytes.size()),
                                   static_cast<double>(limits.inflation_allowance));
  const uint64_t allowed = by_ratio < static_cast<double>(limits.max_total_bytes) ? static_cast<uint64_t>(by_ratio)
                                                                                  : limits.max_total_bytes;
  auto over_limit = [&](uint64_t n) {
    if (allowed == limits.max_total_bytes) {
      return fmt::format("the members declare at least {} bytes, more than the limit of {} bytes "
                         "({}::max_total_bytes)",
                         n, allowed, limits.limits_name);
    }
    return fmt::format("the members declare at least {} bytes, more than {} bytes: {:.0f} times the archive's {} "
                       "bytes (a decompression bomb? {}::max_inflation_ratio is {})",
                       n, allowed, static_cast<double>(n) / static_cast<double>(bytes.size()), bytes.size(),
                       limits.limits_name, limits.max_inflation_ratio);
  };
  // The central directory's sizes first: nothing is inflated for an
  // archive that declares more than it may hold.
  uint64_t declared = 0;
  std::set<std::string> seen;
  members_.reserve(static_cast<size_t>(count));
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za, static_cast<zip_uint64_t>(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME) ||
        st.name == nullptr || !(st.valid & ZIP_STAT_SIZE)) {
      fail(fmt::format("cannot read member {}: {}", i, zip_strerror(za)));
    }
    Member m;
    m.name = st.name;
    m.size = st.size;
    m.index = static_cast<uint64_t>(i);
    m.is_directory = !m.name.empty() && m.name.back() == '/';
    if (const std::string why = bad_name(m.name); !why.empty()) {
      fail(fmt::format("{}: '{}'", why, printable(m.name)));
    }
    if (!seen.insert(m.name).second) fail(fmt::format("member '{}' appears twice", printable(m.name)));
    declared += std::min<uint64_t>(st.size, allowed + 1);  // saturating: allowed is far below 2^63
    if (declared > allowed) fail(over_limit(declared));
    members_.push_back(std::move(m));
  }
}

Reader::~Reader() = default;

const Member* Reader::find(std::string_view name) const {
  for (const auto& m : members_)
    if (m.name == name) return &m;
  return nullptr;
}

void Reader::fail(std::string_view what) const {
  throw IOError(fmt::format("{}: not a valid {}: {}", source_, kind_, what));
}

std::string Reader::read(const Member& m) const {
  std::unique_ptr<zip_file_t, ZipFileCloser> f(zip_fopen_index(impl_->za, m.index, 0));
  if (!f) fail(fmt::format("cannot open member '{}': {}", printable(m.name), zip_strerror(impl_->za)));
  // Inflate in chunks up to the declared size (checked against the limits)
  // and one byte over it: memory never exceeds what the archive declares.
  std::string buf;
  buf.reserve(static_cast<size_t>(m.size));
  char chunk[1 << 16];
  for (;;) {
    const uint64_t room = m.size - buf.size() + 1;
    const zip_int64_t got = zip_fread(f.get(), chunk, std::min<uint64_t>(sizeof(chunk), room));
    if (got < 0) fail(fmt::format("cannot read member '{}': {}", printable(m.name), zip_file_strerror(f.get())));
    if (got == 0) break;
    if (buf.size() + static_cast<uint64_t>(got) > m.size) {
      fail(fmt::format("member '{}' inflates to more than the {} bytes its header declares", printable(m.name),
                       m.size));
    }
    buf.append(chunk, static_cast<size_t>(got));
  }
  if (m.size != buf.size()) {
    fail(fmt::format("member '{}' holds {} bytes but its header says {}", printable(m.name), buf.size(), m.size));
  }
  return buf;
}

std::string write(const std::vector<std::pair<std::string, std::string_view>>& members, bool compress,
                  std::string_view who) {
  ZipErr err;
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &err.e);
  if (src == nullptr) throw IOError(fmt::format("{}: {}", who, err.str()));
  zip_t* za = zip_open_from_source(src, ZIP_TRUNCATE, &err.e);
  if (za == nullptr) {
    zip_source_free(src);
    throw IOError(fmt::format("{}: {}", who, err.str()));
  }
  zip_source_keep(src);  // keep the written bytes after zip_close
  auto fail = [&](const std::string& what) {
    const std::string msg = fmt::format("{}: {}: {}", who, what, zip_strerror(za));
    zip_discard(za);
    zip_source_free(src);
    throw IOError(msg);
  };
  for (const auto& [name, data] : members) {
    zip_source_t* s = zip_source_buffer(za, data.data(), data.size(), 0);
    if (s == nullptr) fail("cannot add a member");
    const zip_int64_t idx = zip_file_add(za, name.c_str(), s, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(s);
      fail(fmt::format("cannot add '{}'", name));
    }
    const auto u = static_cast<zip_uint64_t>(idx);
    if (zip_set_file_compression(za, u, compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) != 0) fail("compression");
    // A fixed time stamp (1980-01-01) keeps the archive's bytes reproducible.
    zip_file_set_mtime(za, u, 315532800, 0);
  }
  if (zip_close(za) != 0) fail("cannot finish the archive");
  std::string out;
  if (zip_source_open(src) != 0) {
    zip_source_free(src);
    throw IOError(fmt::format("{}: cannot read back the archive", who));
  }
  char chunk[1 << 16];
  for (;;) {
    const zip_int64_t got = zip_source_read(src, chunk, sizeof(chunk));
    if (got < 0) {
      zip_source_close(src);
      zip_source_free(src);
      throw IOError(fmt::format("{}: cannot read back the archive", who));
    }
    if (got == 0) break;
    out.append(chunk, static_cast<size_t>(got));
  }
  zip_source_close(src);
  zip_source_free(src);
  return out;
}

}  // namespace seqnet::zip
