#pragma once
// Errors. Every failure caused by user input (bad shapes, bad arguments, bad
// files) is reported by throwing one of these; the library never aborts.

#include <cstddef>
#include <stdexcept>
#include <string>

namespace seqnet {

// Base class of every exception seqnet throws on purpose. Its message is
// one line of bounded length, whatever a file put into it: control
// characters are written as \xNN and a message longer than kMaxErrorBytes
// is cut ("... (N bytes)").
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what);
  explicit Error(const char* what) : Error(std::string(what)) {}
};

inline constexpr size_t kMaxErrorBytes = 4096;

// A tensor had the wrong rank or size: the message names the layer or
// function, the expected shape and the received one.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// An argument had an invalid value (units <= 0, dropout outside [0, 1),
// an unknown activation name, ...): the message names the argument.
class ValueError : public Error {
 public:
  using Error::Error;
};

// A file could not be read or written, or its contents are invalid.
class IOError : public Error {
 public:
  using Error::Error;
};

// A call would need more memory than its limit allows (estimated before it
// runs): the message names the layer, the size, the limit and the option
// that sets it.
class ResourceError : public Error {
 public:
  using Error::Error;
};

}  // namespace seqnet
