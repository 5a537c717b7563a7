// Adds min and max to the aggregates of every repetition set, so that the spread survives
// --benchmark_report_aggregates_only (which otherwise keeps only mean, median, stddev, cv).
#pragma once

#include <algorithm>
#include <vector>

#include <benchmark/benchmark.h>

namespace perf {

inline double min_of(const std::vector<double>& v) {
  return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
}
inline double max_of(const std::vector<double>& v) {
  return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end());
}

inline void with_spread(benchmark::internal::Benchmark* b) {
  b->ComputeStatistics("min", min_of)->ComputeStatistics("max", max_of);
}

}  // namespace perf
