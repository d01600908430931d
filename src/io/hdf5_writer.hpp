#pragma once
// Internal: writes the HDF5 subset Keras's files use (and src/io/hdf5.hpp
// reads): superblock version 0, version-1 object headers, old-style
// symbol-table groups, contiguous little-endian float32 datasets and
// fixed-length (null-padded) string attributes, the form h5py gives to
// Keras's bytes attributes. Written from the HDF5 file format
// specification; no HDF5 library is involved. The output is deterministic
// (no time stamps) and is checked in tests by reading it back with
// libhdf5 (through h5py) and with seqnet's reader.
//
// Limits of the form: one attribute may hold at most 65,535 bytes (a
// version-1 object header message); a group at most 524,280 members (one
// B-tree level of 8-entry symbol table nodes).
// Beyond them build() throws ValueError naming the object.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "seqnet/tensor.hpp"

namespace seqnet::io::hdf5 {

class Writer {
 public:
  // A group of the file being built; the root is group 0.
  using GroupId = size_t;
  static constexpr GroupId kRoot = 0;

  Writer();
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // The member group `name` of `parent` (created on first use).
  GroupId group(GroupId parent, const std::string& name);
  // The group at slash-separated `path` below `parent`, creating each part.
  GroupId group_path(GroupId parent, const std::string& path);
  // A float32 dataset `name` in `parent` holding `values` (C order) of
  // `shape`. The data is copied.
  void dataset(GroupId parent, const std::string& name, const Shape& shape, const float* values);
  // Attributes of a group: a scalar string, or a 1-D array of strings
  // (fixed width: the longest one), UTF-8.
  void attribute(GroupId g, const std::string& name, const std::string& value);
  void attribute(GroupId g, const std::string& name, const std::vector<std::string>& values);

  // The file's bytes. `what` names it in errors.
  std::string build(const std::string& what) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seqnet::io::hdf5
