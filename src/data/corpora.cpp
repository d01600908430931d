#include "seqnet/data/corpora.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <set>
#include <string_view>
#include <unordered_map>

#include "seqnet/data/datasets.hpp"
#include "seqnet/error.hpp"
#include "seqnet/files.hpp"

namespace seqnet::data {

namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxCorpusFileBytes = int64_t{64} << 20;
constexpr size_t kMaxAddresses = 1000;

struct Corpus {
  const char* package;
  const char* short_name;
};
constexpr Corpus kCmudict{"datasets-cmudict", "cmudict"};
constexpr Corpus kBirths{"datasets-cdc-nchs-us-births-1969-1988", "us-births"};
constexpr Corpus kSotu{"datasets-sotu", "sotu"};
constexpr Corpus kSensors{"datasets-suthaharan-single-hop-sensor-network", "sensor-network"};

// The data folder to read: `dir`, or the default; throws IOError when it is
// not a directory, saying how to install the package.
std::string data_dir(const std::string& dir, const Corpus& c, const char* what) {
  const std::string d = dir.empty() ? default_dataset_dir(c.package, c.short_name) : dir;
  std::error_code ec;
  if (!fs::is_directory(d, ec)) {
    throw IOError(fmt::format("{} not found: '{}' is not a directory; install it with `make deps` "
                              "(scripts/install-deps runs npm install --prefix .deps/npm @stdlib/{}@0.2.3), "
                              "or set SEQNET_DATA_DIR",
                              what, d, c.package));
  }
  return d;
}

std::vector<std::string_view> split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t p = line.find(sep, start);
    out.push_back(line.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

// The lines of a text (without "\n" or "\r\n"); a last empty line is dropped.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out = split(text, '\n');
  if (!out.empty() && out.back().empty()) out.pop_back();
  for (auto& l : out)
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  return out;
}

std::string shown(std::string_view v) {
  std::string s(v.substr(0, 40));
  for (char& ch : s)
    if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) >= 0x7f) ch = '?';
  return v.size() > 40 ? s + "..." : s;
}

class CsvReader {
 public:
  CsvReader(std::string path, const std::string& expected_header, size_t columns)
      : path_(std::move(path)), text_(read_file(path_, kMaxCorpusFileBytes)), lines_(lines_of(text_)),
        columns_(columns) {
    if (lines_.empty() || lines_[0] != expected_header) {
      throw IOError(fmt::format("{}: line 1: expected the header '{}', found '{}'", path_, expected_header,
                                lines_.empty() ? std::string() : shown(lines_[0])));
    }
  }
  size_t rows() const { return lines_.size() - 1; }
  // The fields of data row r (0-based), checked for their count.
  std::vector<std::string_view> row(size_t r) const {
    auto f = split(lines_[r + 1], ',');
    if (f.size() != columns_) {
      throw IOError(fmt::format("{}: line {}: expected {} comma-separated fields, found {}", path_, r + 2, columns_,
                                f.size()));
    }
    return f;
  }
  double number(size_t r, std::string_view field, const char* name) const {
    double v = 0;
    const auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
    if (field.empty() || ec != std::errc() || p != field.data() + field.size() || !std::isfinite(v)) {
      throw IOError(fmt::format("{}: line {}: {} '{}' is not a finite number", path_, r + 2, name, shown(field)));
    }
    return v;
  }
  int64_t integer(size_t r, std::string_view field, const char* name, int64_t lo, int64_t hi) const {
    int64_t v = 0;
    const auto [p, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
    if (field.empty() || ec != std::errc() || p != field.data() + field.size() || v < lo || v > hi) {
      throw IOError(fmt::format("{}: line {}: {} '{}' is not an integer in [{}, {}]", path_, r + 2, name,
                                shown(field), lo, hi));
    }
    return v;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_, text_;
  std::vector<std::string_view> lines_;
  size_t columns_;
};

}  // namespace

std::vector<std::string> cmudict_phones(const std::string& dir_arg) {
  const std::string dir = data_dir(dir_arg, kCmudict, "CMUdict");
  const std::string path = dir + "/phones.txt";
  const std::string text = read_file(path, kMaxCorpusFileBytes);
  std::vector<std::string> phones;
  size_t n = 0;
  for (std::string_view line : lines_of(text)) {
    ++n;
    const size_t tab = line.find_first_of("\t ");
    const std::string_view ph = line.substr(0, tab);
    if (ph.empty() || ph.size() > 4 || !std::all_of(ph.begin(), ph.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
      throw IOError(fmt::format("{}: line {}: '{}' is not a phoneme", path, n, shown(line)));
    }
    phones.emplace_back(ph);
  }
  if (phones.empty()) throw IOError(fmt::format("{}: no phonemes", path));
  return phones;
}

std::vector<Pronunciations> load_cmudict(const std::string& dir_arg) {
  const std::string dir = data_dir(dir_arg, kCmudict, "CMUdict");
  const std::vector<std::string> phones = cmudict_phones(dir);
  std::set<std::string, std::less<>> known;
  for (const auto& p : phones) {
    known.insert(p);
    for (char s : {'0', '1', '2'}) known.insert(p + s);
  }
  const std::string path = dir + "/dict.txt";
  const std::string text = read_file(path, kMaxCorpusFileBytes);
  std::vector<Pronunciations> out;
  std::unordered_map<std::string, size_t> index;
  size_t n = 0;
  for (std::string_view line : lines_of(text)) {
    ++n;
    if (line.empty() || line.substr(0, 3) == ";;;") continue;
    const size_t sp = line.find(' ');
    if (sp == 0 || sp == std::string_view::npos) {
      throw IOError(fmt::format("{}: line {}: '{}' has no pronunciation", path, n, shown(line)));
    }
    std::string_view word = line.substr(0, sp);
    bool alternative = false;
    if (word.size() > 3 && word.back() == ')') {
      const size_t open = word.rfind('(');
      if (open != std::string_view::npos && open > 0 && open + 2 < word.size() &&
          std::all_of(word.begin() + static_cast<std::ptrdiff_t>(open) + 1, word.end() - 1,
                      [](char c) { return c >= '0' && c <= '9'; })) {
        word = word.substr(0, open);
        alternative = true;
      }
    }
    std::vector<std::string> pron;
    for (std::string_view ph : split(line.substr(sp), ' ')) {
      if (ph.empty()) continue;
      if (known.find(ph) == known.end()) {
        throw IOError(fmt::format("{}: line {}: '{}' is not a CMUdict phoneme", path, n, shown(ph)));
      }
      pron.emplace_back(ph);
    }
    if (pron.empty()) throw IOError(fmt::format("{}: line {}: '{}' has no pronunciation", path, n, shown(line)));
    const std::string w(word);
    auto it = index.find(w);
    if (it == index.end()) {
      if (alternative) {
        throw IOError(fmt::format("{}: line {}: alternative pronunciation of '{}' before the word itself", path, n,
                                  shown(word)));
      }
      index.emplace(w, out.size());
      out.push_back({w, {std::move(pron)}});
    } else {
      out[it->second].pronunciations.push_back(std::move(pron));
    }
  }
  if (out.empty()) throw IOError(fmt::format("{}: no entries", path));
  return out;
}

DailyBirths load_us_births(const std::string& dir_arg) {
  const std::string dir = data_dir(dir_arg, kBirths, "US births 1969-1988");
  const CsvReader csv(dir + "/data.csv", "year,month,date_of_month,day_of_week,births", 5);
  DailyBirths d;
  for (size_t r = 0; r < csv.rows(); ++r) {
    const auto f = csv.row(r);
    const int y = static_cast<int>(csv.integer(r, f[0], "year", 1, 9999));
    const int m = static_cast<int>(csv.integer(r, f[1], "month", 1, 12));
    const int day = static_cast<int>(csv.integer(r, f[2], "date_of_month", 1, 31));
    const int wd = static_cast<int>(csv.integer(r, f[3], "day_of_week", 1, 7));
    const double b = csv.number(r, f[4], "births");
    if (b < 0) throw IOError(fmt::format("{}: line {}: births {} is negative", csv.path(), r + 2, b));
    if (!d.births.empty()) {
      const auto prev = std::make_tuple(d.year.back(), d.month.back(), d.day.back());
      if (std::make_tuple(y, m, day) <= prev) {
        throw IOError(fmt::format("{}: line {}: date {}-{:02d}-{:02d} is not after the previous row's", csv.path(),
                                  r + 2, y, m, day));
      }
    }
    d.year.push_back(y);
    d.month.push_back(m);
    d.day.push_back(day);
    d.day_of_week.push_back(wd);
    d.births.push_back(b);
  }
  if (d.births.empty()) throw IOError(fmt::format("{}: no rows", csv.path()));
  return d;
}

std::vector<Address> load_sotu(const std::string& dir_arg) {
  const std::string dir = data_dir(dir_arg, kSotu, "State of the Union corpus");
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    if (it->path().extension() == ".json" && it->is_regular_file(e2)) {
      names.push_back(it->path().filename().string());
      if (names.size() > kMaxAddresses) {
        throw IOError(fmt::format("{}: more than {} .json files; not a State of the Union folder", dir,
                                  kMaxAddresses));
      }
    }
  }
  if (ec) throw IOError(fmt::format("cannot list '{}': {}", dir, ec.message()));
  if (names.empty()) throw IOError(fmt::format("{}: no .json addresses", dir));
  std::sort(names.begin(), names.end());
  std::vector<Address> out;
  for (const auto& n : names) {
    const std::string path = dir + "/" + n;
    nlohmann::json j = nlohmann::json::parse(read_file(path, kMaxCorpusFileBytes), nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw IOError(fmt::format("{}: not a JSON object", path));
    auto str = [&](const char* key) {
      const auto it = j.find(key);
      if (it == j.end() || !it->is_string()) throw IOError(fmt::format("{}: \"{}\" is missing or not a string", path, key));
      return it->get<std::string>();
    };
    const auto y = j.find("year");
    if (y == j.end() || !y->is_number_integer() || y->get<int64_t>() < 1 || y->get<int64_t>() > 9999) {
      throw IOError(fmt::format("{}: \"year\" is missing or not an integer in [1, 9999]", path));
    }
    out.push_back({static_cast<int>(y->get<int64_t>()), str("name"), str("party"), str("text"), n});
  }
  return out;
}

SensorReadings load_sensor_network(const std::string& dir_arg) {
  const std::string dir = data_dir(dir_arg, kSensors, "single-hop sensor network data");
  const CsvReader csv(dir + "/data.csv", "reading,mote_id,indoor,humidity,temperature,label", 6);
  SensorReadings s;
  for (size_t r = 0; r < csv.rows(); ++r) {
    const auto f = csv.row(r);
    s.reading.push_back(csv.integer(r, f[0], "reading", 0, INT64_MAX));
    s.mote_id.push_back(csv.integer(r, f[1], "mote_id", 0, INT64_MAX));
    s.indoor.push_back(csv.integer(r, f[2], "indoor", 0, 1) == 1);
    s.humidity.push_back(csv.number(r, f[3], "humidity"));
    s.temperature.push_back(csv.number(r, f[4], "temperature"));
    s.label.push_back(static_cast<int>(csv.integer(r, f[5], "label", 0, 1)));
  }
  if (s.label.empty()) throw IOError(fmt::format("{}: no rows", csv.path()));
  return s;
}

}  // namespace seqnet::data
