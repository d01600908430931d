#include "seqnet/files.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "seqnet/error.hpp"

namespace seqnet {

void write_file_atomic(const std::string& path, std::string_view content) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmpl = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) {
    throw IOError(fmt::format("cannot write '{}': cannot create a temporary file in '{}': {}", path, dir.string(),
                              std::strerror(errno)));
  }
  const std::string tmp(name.data());
  size_t off = 0;
  while (off < content.size()) {
    const ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw IOError(fmt::format("cannot write '{}': {}", path, std::strerror(e)));
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw IOError(fmt::format("cannot write '{}': {}", path, std::strerror(e)));
  }
  // mkstemp creates files readable only by the owner; use the usual mode.
  ::chmod(tmp.c_str(), 0644);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw IOError(fmt::format("cannot write '{}': rename failed: {}", path, std::strerror(e)));
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOError(fmt::format("cannot open '{}' for reading: {}", path, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IOError(fmt::format("error while reading '{}'", path));
  return ss.str();
}

void ensure_writable_directory(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec && !fs::is_directory(path)) {
    throw IOError(fmt::format("cannot create directory '{}': {}", path, ec.message()));
  }
  if (!fs::is_directory(path)) throw IOError(fmt::format("'{}' is not a directory", path));
  if (::access(path.c_str(), W_OK) != 0) {
    throw IOError(fmt::format("directory '{}' is not writable: {}", path, std::strerror(errno)));
  }
}

}  // namespace seqnet
