// Failing a benchmark loudly. With --benchmark_report_aggregates_only, Google Benchmark 1.7
// drops a failed repetition without a trace when the other repetitions of that benchmark
// succeeded, so every failure also goes to stderr and makes the process exit with status 1.
#pragma once

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace perf {

inline std::atomic<int> failures{0};

/// `what` names the benchmark and what went wrong. Call from the benchmark's own thread, then
/// leave the timed loop.
inline void fail(benchmark::State& state, const std::string& what) {
  std::fprintf(stderr, "magpie_bench: FAILED: %s\n", what.c_str());
  failures.fetch_add(1, std::memory_order_relaxed);  // relaxed: read by main after the run
  state.SkipWithError(what.c_str());
}

/// False (and the benchmark failed) when a computed result is wrong.
inline bool check(benchmark::State& state, const std::string& what, std::uint64_t got,
                  std::uint64_t expected) {
  if (got == expected) return true;
  fail(state, what + ": got " + std::to_string(got) + ", expected " + std::to_string(expected));
  return false;
}

inline std::string with_workers(const char* name, std::size_t workers) {
  return std::string(name) + " with " + std::to_string(workers) + " worker(s)";
}

/// "<workload>/<scheduler> with N worker(s)", the name a failure message gives.
inline std::string with_workers(const char* workload, std::string_view scheduler,
                                std::size_t workers) {
  return with_workers((std::string(workload) + std::string(scheduler)).c_str(), workers);
}

}  // namespace perf
