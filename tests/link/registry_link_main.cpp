// A program that links only the seqnet library and names no layer class:
// like one that only loads model files. Every layer the library registers
// (SEQNET_EXPECTED_LAYERS, collected by the build from the
// SEQNET_REGISTER_LAYER lines) must still be in the registry. The program
// calls nothing but registered_layers(), so without the build's anchors the
// linker would leave every layer out (checked when this test was written:
// linked without them, it finds no layer). Exits 1 naming what is missing.

#include <seqnet/layers/serialization.hpp>

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>

int main() {
  std::set<std::string> expected;
  std::stringstream list(SEQNET_EXPECTED_LAYERS);
  for (std::string name; std::getline(list, name, ',');) {
    if (!name.empty()) expected.insert(name.substr(std::string("seqnet_layer_anchor_").size()));
  }
  const auto names = seqnet::registered_layers();
  const std::set<std::string> have(names.begin(), names.end());
  int missing = 0;
  for (const auto& n : expected) {
    if (!have.count(n)) {
      std::printf("registry_link: layer class %s is not registered in a program that names no layer\n", n.c_str());
      ++missing;
    }
  }
  if (expected.size() < 20) {
    std::printf("registry_link: only %zu registrations were collected by the build\n", expected.size());
    return 1;
  }
  if (missing > 0) return 1;
  std::printf("registry_link: all %zu layer classes registered\n", expected.size());
  return 0;
}
