#pragma once
// Line charts (training curves, predictions against targets) rendered to PNG
// and SVG by gnuplot (Debian package gnuplot-nox, installed by
// scripts/install-deps), with the data behind each chart written as CSV.
//
// save_line_chart(chart, "out/loss") writes
//   out/loss.csv  the data: header "<xlabel>,<series names...>", one row per
//                 x value, an empty cell where a series has no value
//   out/loss.gp   the gnuplot script (re-run it from out/ to re-render)
//   out/loss.png, out/loss.svg
// CSV and script are written atomically (temporary file, then rename);
// gnuplot renders into temporary names that are renamed when it succeeds, so
// a failure never leaves a half-written image.
//
// gnuplot runs as a child process (no shell) on the generated script; every
// piece of user text (title, labels, names, paths) is quoted as a gnuplot
// string literal.

#include <string>
#include <vector>

namespace seqnet {

struct PlotSeries {
  // Legend entry and CSV column name. Must not be empty.
  std::string name{};
  // One value per x. NaN or infinite values are gaps (empty CSV cells).
  std::vector<double> y{};
};

struct LineChart {
  std::string title{};
  // x axis label, also the CSV's first column name. Default: "epoch".
  std::string xlabel = "epoch";
  std::string ylabel{};
  // Shared x values. Default (empty): 1, 2, ..., length of the longest series.
  std::vector<double> x{};
  std::vector<PlotSeries> series{};
  // Logarithmic y axis (positive values only). Default: false.
  bool log_y = false;
  // Image size in pixels. Default: 800 x 500.
  int width = 800;
  int height = 500;
};

// The files save_line_chart wrote.
struct PlotFiles {
  std::string csv, script, png, svg;
};

// The chart's CSV text (what save_line_chart writes to .csv). Numbers use
// up to 9 significant digits; names with commas, quotes or line breaks are
// quoted (RFC 4180). Throws ValueError as save_line_chart does.
std::string line_chart_csv(const LineChart& chart);

// Writes <path>.csv, <path>.gp, <path>.png and <path>.svg (path without an
// extension; its directory is created when missing).
// Throws ValueError for a chart without series, a series with an empty name
// or more values than x values, a non-positive size, or a log_y chart with
// no positive value; IOError when gnuplot is not installed (the message says
// to install gnuplot-nox with scripts/install-deps), when gnuplot fails (with
// its error output) or when a file cannot be written.
PlotFiles save_line_chart(const LineChart& chart, const std::string& path);

// Full path of the gnuplot executable found on PATH, or "" when there is
// none.
std::string find_gnuplot();

}  // namespace seqnet
