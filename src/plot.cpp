#include "seqnet/plot.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "seqnet/error.hpp"
#include "seqnet/files.hpp"
#include "process.hpp"

namespace seqnet {

namespace {

namespace fs = std::filesystem;

// Number of rows of the chart (x values), after checking the chart.
size_t check_chart(const LineChart& c) {
  if (c.series.empty()) throw ValueError("line chart: no series to plot");
  if (c.width <= 0 || c.height <= 0) {
    throw ValueError(fmt::format("line chart: width and height must be positive, got {} x {}", c.width, c.height));
  }
  size_t longest = 0;
  for (size_t k = 0; k < c.series.size(); ++k) {
    if (c.series[k].name.empty()) throw ValueError(fmt::format("line chart: series {} has no name", k));
    longest = std::max(longest, c.series[k].y.size());
  }
  if (!c.x.empty()) {
    for (size_t k = 0; k < c.series.size(); ++k) {
      if (c.series[k].y.size() > c.x.size()) {
        throw ValueError(fmt::format("line chart: series '{}' has {} values but there are only {} x values",
                                     c.series[k].name, c.series[k].y.size(), c.x.size()));
      }
    }
    for (size_t i = 0; i < c.x.size(); ++i) {
      if (!std::isfinite(c.x[i])) throw ValueError(fmt::format("line chart: x value {} is {}", i, c.x[i]));
    }
    return c.x.size();
  }
  return longest;
}

// A CSV field, quoted when it holds a separator, a quote or a line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) {
    if (ch == '"') q += '"';
    q += ch;
  }
  return q + "\"";
}

// A gnuplot single-quoted string literal: no escapes except '' for a quote.
// Line breaks (which would end the command) and NULs become spaces.
std::string gp_quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) {
    if (ch == '\'') q += "''";
    else if (ch == '\n' || ch == '\r' || ch == '\0') q += ' ';
    else q += ch;
  }
  return q + "'";
}

// Paths cannot be sanitized silently: refuse line breaks.
std::string gp_path(const std::string& p) {
  if (p.find_first_of(std::string("\n\r\0", 3)) != std::string::npos) {
    throw ValueError(fmt::format("line chart: the path '{}' contains a line break or NUL", p));
  }
  return gp_quote(p);
}

std::string script_text(const LineChart& c, size_t rows, const std::string& base) {
  std::string s;
  s += "# seqnet line chart. Re-render from this directory with: gnuplot " + base + ".gp\n";
  s += "# (seqnet passes datafile, pngfile and svgfile with -e when it renders.)\n";
  s += "if (!exists(\"datafile\")) datafile = " + gp_path(base + ".csv") + "\n";
  s += "if (!exists(\"pngfile\")) pngfile = " + gp_path(base + ".png") + "\n";
  s += "if (!exists(\"svgfile\")) svgfile = " + gp_path(base + ".svg") + "\n";
  s += "set datafile separator comma\n";
  s += "set title " + gp_quote(c.title) + "\n";
  s += "set xlabel " + gp_quote(c.xlabel) + "\n";
  s += "set ylabel " + gp_quote(c.ylabel) + "\n";
  s += "set key outside right top\n";
  s += "set grid\n";
  if (c.log_y) s += "set logscale y\n";
  if (c.x.empty() && rows <= 20) s += "set xtics 1\n";
  const std::string style = rows <= 50 ? "linespoints" : "lines";
  std::string plot = "plot ";
  for (size_t k = 0; k < c.series.size(); ++k) {
    plot += k == 0 ? "datafile" : ", ''";
    plot += fmt::format(" skip 1 using 1:{} with {} linewidth 1.5 title {}", k + 2, style, gp_quote(c.series[k].name));
  }
  s += fmt::format(
      "if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {{\n"
      "  set terminal pngcairo size {0},{1} noenhanced font 'sans,10'\n"
      "}} else {{\n"
      "  set terminal png size {0},{1} noenhanced\n"
      "}}\n",
      c.width, c.height);
  s += "set output pngfile\n";
  s += plot + "\n";
  s += fmt::format("set terminal svg size {},{} noenhanced font 'sans,10' background rgb 'white'\n", c.width,
                   c.height);
  s += "set output svgfile\n";
  s += "replot\n";
  s += "unset output\n";
  return s;
}

}  // namespace

std::string find_gnuplot() { return detail::find_program("gnuplot"); }

std::string line_chart_csv(const LineChart& c) {
  const size_t rows = check_chart(c);
  std::string out = csv_field(c.xlabel.empty() ? std::string("x") : c.xlabel);
  for (const auto& s : c.series) {
    out += ',';
    out += csv_field(s.name);
  }
  out += "\n";
  for (size_t i = 0; i < rows; ++i) {
    const double x = c.x.empty() ? static_cast<double>(i + 1) : c.x[i];
    out += fmt::format("{:.9g}", x);
    for (const auto& s : c.series) {
      out += ',';
      if (i < s.y.size() && std::isfinite(s.y[i])) out += fmt::format("{:.9g}", s.y[i]);
    }
    out += "\n";
  }
  return out;
}

PlotFiles save_line_chart(const LineChart& chart, const std::string& path) {
  const size_t rows = check_chart(chart);
  bool any = false, any_positive = false;
  for (const auto& s : chart.series) {
    for (double v : s.y) {
      if (!std::isfinite(v)) continue;
      any = true;
      any_positive = any_positive || v > 0;
    }
  }
  if (!any) throw ValueError("line chart: no finite value to plot");
  if (chart.log_y && !any_positive) throw ValueError("line chart: log_y needs at least one positive value");
  if (path.empty()) throw ValueError("line chart: empty output path");

  const fs::path base(path);
  const std::string name = base.filename().string();
  if (name.empty() || name == "." || name == "..") {
    throw ValueError(fmt::format("line chart: '{}' does not name a file (give a path without extension)", path));
  }
  if (base.has_parent_path()) ensure_writable_directory(base.parent_path().string());

  PlotFiles files{path + ".csv", path + ".gp", path + ".png", path + ".svg"};
  const std::string script = script_text(chart, rows, name);
  (void)gp_path(path);  // refuse line breaks in the path before writing anything
  write_file_atomic(files.csv, line_chart_csv(chart));
  write_file_atomic(files.script, script);

  const std::string exe = find_gnuplot();
  if (exe.empty()) {
    throw IOError(fmt::format("cannot render '{}': gnuplot was not found on PATH; install gnuplot-nox "
                              "(scripts/install-deps, or apt-get install gnuplot-nox). The data was written to '{}'",
                              path, files.csv));
  }
  const std::string tmp_png = detail::temp_name_beside(files.png), tmp_svg = detail::temp_name_beside(files.svg);
  auto cleanup = [&] {
    ::unlink(tmp_png.c_str());
    ::unlink(tmp_svg.c_str());
  };
  std::string output;
  int status = 0;
  try {
    status = detail::run_program(exe, "gnuplot",
                         {"-e",
                          fmt::format("datafile = {}; pngfile = {}; svgfile = {}", gp_path(files.csv),
                                      gp_path(tmp_png), gp_path(tmp_svg)),
                          files.script},
                         output);
  } catch (...) {
    cleanup();
    throw;
  }
  if (status != 0 || !detail::non_empty_file(tmp_png) || !detail::non_empty_file(tmp_svg)) {
    cleanup();
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
    throw IOError(fmt::format("cannot render '{}': gnuplot {} (script '{}'){}{}", path,
                              status != 0 ? fmt::format("exited with status {}", status)
                                          : std::string("wrote no image"),
                              files.script, output.empty() ? "" : ": ", output));
  }
  for (const auto& [tmp, final_path] : {std::pair{tmp_png, files.png}, std::pair{tmp_svg, files.svg}}) {
    ::chmod(tmp.c_str(), 0644);
    if (std::rename(tmp.c_str(), final_path.c_str()) != 0) {
      const int e = errno;
      cleanup();
      throw IOError(fmt::format("cannot write '{}': rename failed: {}", final_path, std::strerror(e)));
    }
  }
  return files;
}

}  // namespace seqnet
