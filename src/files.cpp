#include "seqnet/files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "seqnet/error.hpp"

namespace seqnet {

namespace {

namespace fs = std::filesystem;

// The process's umask, read without changing it (Linux 4.7+); 022 when
// /proc does not say.
mode_t current_umask() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Umask:", 0) == 0) return static_cast<mode_t>(std::strtol(line.c_str() + 6, nullptr, 8));
  }
  return 022;
}

// Temporary files of `target` are ".<name>.tmp-<pid>-XXXXXX": removes those
// whose process is gone (killed during a save), so crashes leave no debris
// behind once the same path is saved again.
void remove_stale_temporaries(const fs::path& dir, const std::string& name) {
  const std::string prefix = "." + name + ".tmp-";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(n.c_str() + prefix.size(), nullptr, 10);
    if (pid <= 0 || pid == static_cast<long>(::getpid())) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to judge
    ::unlink((dir / n).c_str());
  }
  ::closedir(d);
}

// While alive, a file size limit (ulimit -f) makes write() fail with EFBIG
// instead of killing the process with SIGXFSZ, unless the program handles
// SIGXFSZ itself.
class IgnoreFileSizeSignal {
 public:
  IgnoreFileSizeSignal() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    active_ = ::sigaction(SIGXFSZ, nullptr, &old_) == 0 && old_.sa_handler == SIG_DFL &&
              ::sigaction(SIGXFSZ, &ignore, nullptr) == 0;
  }
  ~IgnoreFileSizeSignal() {
    if (active_) ::sigaction(SIGXFSZ, &old_, nullptr);
  }
  IgnoreFileSizeSignal(const IgnoreFileSizeSignal&) = delete;
  IgnoreFileSizeSignal& operator=(const IgnoreFileSizeSignal&) = delete;

 private:
  struct sigaction old_ {};
  bool active_ = false;
};

[[noreturn]] void fail_write(const std::string& path, int e, const std::string& tmp) {
  if (!tmp.empty()) ::unlink(tmp.c_str());
  if (e == EFBIG) {
    throw IOError(fmt::format("cannot write '{}': the file would exceed the size limit (ulimit -f): {}", path,
                              std::strerror(e)));
  }
  throw IOError(fmt::format("cannot write '{}': {}", path, std::strerror(e)));
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view content) {
  // A symlink is followed: the file it points to is replaced, the link kept.
  fs::path target(path);
  std::error_code ec;
  if (fs::is_symlink(fs::symlink_status(target, ec))) {
    const fs::path resolved = fs::weakly_canonical(target, ec);
    if (!ec) target = resolved;
  }
  if (fs::is_directory(target, ec)) {
    throw IOError(fmt::format("cannot write '{}': it is a directory", path));
  }
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string name = target.filename().string();
  remove_stale_temporaries(dir, name);
  // An existing file keeps its mode; a new one gets 0666 less the umask.
  struct stat st {};
  const mode_t mode = ::stat(target.c_str(), &st) == 0 ? (st.st_mode & 07777) : (0666 & ~current_umask());

  std::string tmpl = (dir / fmt::format(".{}.tmp-{}-XXXXXX", name, static_cast<long>(::getpid()))).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  const int fd = ::mkstemp(buf.data());
  if (fd < 0) {
    throw IOError(fmt::format("cannot write '{}': cannot create a temporary file in '{}': {}", path, dir.string(),
                              std::strerror(errno)));
  }
  const std::string tmp(buf.data());
  {
    const IgnoreFileSizeSignal no_sigxfsz;
    size_t off = 0;
    while (off < content.size()) {
      const ssize_t n = ::write(fd, content.data() + off, content.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        const int e = errno;
        ::close(fd);
        fail_write(path, e, tmp);
      }
      off += static_cast<size_t>(n);
    }
  }
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
    const int e = errno;
    ::close(fd);
    fail_write(path, e, tmp);
  }
  if (::close(fd) != 0) fail_write(path, errno, tmp);
  if (std::rename(tmp.c_str(), target.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw IOError(fmt::format("cannot write '{}': rename failed: {}", path, std::strerror(e)));
  }
  // The rename itself survives a power cut once the directory is synced.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::string read_file(const std::string& path, int64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw IOError(fmt::format("cannot open '{}' for reading: {}", path, std::strerror(errno)));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw IOError(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) throw IOError(fmt::format("cannot read '{}': it is a directory, not a file", path));
  if (!S_ISREG(st.st_mode)) {
    throw IOError(fmt::format("cannot read '{}': it is not a regular file (a device, FIFO or socket)", path));
  }
  if (max_bytes >= 0 && st.st_size > max_bytes) {
    throw IOError(fmt::format("cannot read '{}': it is {} bytes, more than the limit of {} bytes", path,
                              static_cast<int64_t>(st.st_size), max_bytes));
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t off = 0;
  while (off < out.size()) {
    const ssize_t n = ::read(fd, out.data() + off, out.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IOError(fmt::format("error while reading '{}': {}", path, std::strerror(errno)));
    }
    if (n == 0) break;  // the file shrank while being read
    off += static_cast<size_t>(n);
  }
  out.resize(off);
  return out;
}

void ensure_writable_directory(const std::string& path) {
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
