// Hands a latency distribution to tools/bench_suite.py for the CDF chart: when
// MAGPIE_BENCH_SAMPLES names a file, every sample (microseconds, one per line) is written there.
// An environment variable rather than a flag, so that Google Benchmark's own flags stay the
// binary's whole command line.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace perf {

inline void write_samples(const std::vector<double>& us) {
  const char* path = std::getenv("MAGPIE_BENCH_SAMPLES");
  if (path == nullptr || *path == '\0') return;
  std::FILE* f = std::fopen(path, "w");
  if (f == nullptr) return;  // the chart goes without this curve; the figures are unaffected
  for (const double x : us)
    std::fprintf(f, "%.3f\n", x);
  std::fclose(f);
}

}  // namespace perf
