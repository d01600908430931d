#include "seqnet/random.hpp"

#include <cmath>
#include <numbers>

#include "seqnet/error.hpp"

namespace seqnet {

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

void Generator::seed_with(uint64_t seed) {
  uint64_t x = seed;
  for (auto& s : s_) s = splitmix64(x);
  have_spare_ = false;
}

uint64_t Generator::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

float Generator::uniform() { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }

uint64_t Generator::below(uint64_t n) {
  // Rejection sampling removes the modulo bias.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t r;
  do {
    r = next_u64();
  } while (r >= limit);
  return r % n;
}

double Generator::normal() {
  if (have_spare_) {
    have_spare_ = false;
    return spare_;
  }
  double u1;
  do {
    u1 = static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
  } while (u1 <= 0.0);
  const double u2 = static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * std::numbers::pi * u2;
  spare_ = r * std::sin(theta);
  have_spare_ = true;
  return r * std::cos(theta);
}

double Generator::truncated_normal() {
  double v;
  do {
    v = normal();
  } while (std::abs(v) > 2.0);
  return v;
}

std::vector<int64_t> Generator::permutation(int64_t n) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(below(static_cast<uint64_t>(i + 1)));
    std::swap(p[i], p[j]);
  }
  return p;
}

GeneratorState Generator::state() const {
  GeneratorState st;
  for (int i = 0; i < 4; ++i) st.s[i] = s_[i];
  st.have_spare = have_spare_;
  st.spare = spare_;
  return st;
}

void Generator::set_state(const GeneratorState& st) {
  if ((st.s[0] | st.s[1] | st.s[2] | st.s[3]) == 0) {
    throw ValueError("Generator::set_state: the all-zero state is not a valid xoshiro256** state");
  }
  if (!std::isfinite(st.spare)) throw ValueError("Generator::set_state: the spare normal draw is not finite");
  for (int i = 0; i < 4; ++i) s_[i] = st.s[i];
  have_spare_ = st.have_spare;
  spare_ = st.have_spare ? st.spare : 0.0;
}

Generator& global_generator() {
  static Generator g;
  return g;
}

void set_seed(uint64_t seed) { global_generator().seed_with(seed); }

}  // namespace seqnet
