#include "train/progbar.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace seqnet {

std::string format_eta(double s) {
  const auto t = static_cast<long>(std::lround(s));
  if (t >= 3600) return fmt::format("{}:{:02d}:{:02d}", t / 3600, (t % 3600) / 60, t % 60);
  if (t >= 60) return fmt::format("{}:{:02d}", t / 60, t % 60);
  return fmt::format("{}s", t);
}

std::string format_time_per(double s, std::string_view unit) {
  if (s >= 1 || s == 0) return fmt::format("{:.0f}s/{}", s, unit);
  if (s >= 1e-3) return fmt::format("{:.0f}ms/{}", s * 1e3, unit);
  return fmt::format("{:.0f}us/{}", s * 1e6, unit);
}

Progbar::Progbar(int64_t target, int verbose)
    : target_(target), verbose_(verbose), tty_(::isatty(::fileno(stdout)) != 0) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

std::string Progbar::bar(int64_t current) const {
  const int width = 30;
  const int digits = static_cast<int>(std::to_string(target_).size());
  std::string s = fmt::format("{:>{}}/{} [", current, digits, target_);
  const double frac = target_ > 0 ? static_cast<double>(current) / target_ : 1.0;
  const int done = static_cast<int>(width * frac);
  if (done > 0) {
    s += std::string(static_cast<size_t>(done - 1), '=');
    s += current < target_ ? '>' : '=';
  }
  s += std::string(static_cast<size_t>(width - done), '.');
  return s + "]";
}

void Progbar::update(int64_t current, const Logs& logs) {
  if (verbose_ != 1 || !tty_) return;
  const auto now = std::chrono::steady_clock::now();
  if (current < target_ && std::chrono::duration<double>(now - last_draw_).count() < 0.05) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double eta = current > 0 ? elapsed / current * static_cast<double>(target_ - current) : 0.0;
  std::string line = bar(current) + " - ETA: " + format_eta(eta);
  const std::string l = logs.format();
  if (!l.empty()) line += " - " + l;
  const size_t w = line.size();
  if (w < last_width_) line += std::string(last_width_ - w, ' ');
  last_width_ = w;
  std::fputs(("\r" + line).c_str(), stdout);
  std::fflush(stdout);
}

void Progbar::finish(const Logs& logs) {
  if (verbose_ == 0) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double per_step = target_ > 0 ? elapsed / static_cast<double>(target_) : 0.0;
  std::string line;
  const std::string l = logs.format();
  if (verbose_ == 1) {
    line = bar(target_) + fmt::format(" - {:.0f}s {}", elapsed, format_time_per(per_step, "step"));
    if (!l.empty()) line += " - " + l;
    if (line.size() < last_width_) line += std::string(last_width_ - line.size(), ' ');
    if (tty_) line = "\r" + line;
  } else {
    line = fmt::format("{}/{} - {:.0f}s", target_, target_, elapsed);
    if (!l.empty()) line += " - " + l;
    line += fmt::format(" - {} - {}", format_time_per(elapsed, "epoch"), format_time_per(per_step, "step"));
  }
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace seqnet
