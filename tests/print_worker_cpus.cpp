// Helper for tests/topology.cpp: builds a default runtime and prints its worker_cpus(),
// comma-separated, so a test can run it under `taskset` and see which PUs the runtime chose.
#include <cstdio>
#include <string>

#include "magpie/magpie.hpp"

int main() {
  magpie::runtime rt;
  std::string line;
  for (int cpu : rt.worker_cpus()) {
    if (!line.empty()) line += ',';
    line += std::to_string(cpu);
  }
  std::printf("%s\n", line.c_str());
}
