#pragma once
// Randomness. Every random draw in seqnet (weight initialization, dropout
// masks, shuffling, data generators) comes from one global generator, so
// set_seed(n) makes a whole program reproducible: the same seed and the same
// sequence of calls give bit-identical results on the same machine.
//
// The generator is xoshiro256** with its own float/normal transforms (not the
// <random> distributions, whose results differ between standard libraries).
//
// Thread safety: the global generator is not synchronized; draw from one
// thread at a time.

#include <array>
#include <cstdint>
#include <vector>

namespace seqnet {

// The complete state of a Generator: the four xoshiro256** words and the
// spare normal draw of Box-Muller. Restoring it continues the exact sequence
// of draws (model files keep it so that training resumes bit-identically).
struct GeneratorState {
  std::array<uint64_t, 4> s{};
  bool have_spare = false;
  double spare = 0.0;
  bool operator==(const GeneratorState&) const = default;
};

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5eedULL) { seed_with(seed); }
  void seed_with(uint64_t seed);

  uint64_t next_u64();
  // Uniform in [0, 1) with 24 random bits.
  float uniform();
  // Uniform in [lo, hi).
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n). REQUIRES: n > 0.
  uint64_t below(uint64_t n);
  // Standard normal (Box-Muller, double precision).
  double normal();
  // Normal truncated to two standard deviations (Keras's truncated_normal).
  double truncated_normal();
  // A random permutation of 0..n-1 (Fisher-Yates).
  std::vector<int64_t> permutation(int64_t n);

  // The generator's state; set_state(state()) changes nothing.
  GeneratorState state() const;
  // Continues from `state`. Throws ValueError when all four words are zero
  // (a state xoshiro256** never reaches and cannot leave) or the spare is
  // not finite.
  void set_state(const GeneratorState& state);

 private:
  uint64_t s_[4];
  bool have_spare_ = false;
  double spare_ = 0;
};

// Reseed the global generator.
void set_seed(uint64_t seed);
// The global generator.
Generator& global_generator();

}  // namespace seqnet
