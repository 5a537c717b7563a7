// Workload sizes and run settings shared by every scheduler, so that no peer gets a different
// problem.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace perf {

inline constexpr int fib_n = 30;
inline constexpr std::uint64_t fib_expected = 832040;

inline constexpr std::uint64_t skynet_leaves = 1'000'000;
inline constexpr std::uint64_t skynet_fan_out = 10;
inline constexpr std::uint64_t skynet_expected = 499'999'500'000;

inline constexpr std::uint64_t submit_tasks = 2'000'000;

// Data-parallel loops (issue 4). pfor_sum: element i holds i, so the sum is n(n-1)/2.
inline constexpr std::size_t pfor_sum_size = 10'000'000;
inline constexpr std::uint64_t pfor_sum_expected = pfor_sum_size * (pfor_sum_size - 1) / 2;

// pfor_fsum: 10M floats summed into a double, the reduction a kernel author writes first.
// Compute-bound per element (a convert and a dependent add), so it shows whether the
// accumulator stays in a register. The values are quarters, so every association of the sum is
// exact and the result can be checked for equality.
inline constexpr std::size_t pfor_fsum_size = 10'000'000;

// pfor_tiny: many loops too short to be worth splitting much; the per-loop overhead.
inline constexpr std::size_t pfor_tiny_size = 1'000;
inline constexpr std::size_t pfor_tiny_calls = 10'000;

// pfor_skewed: iteration i runs i steps of a multiply-add chain, so the upper half of the range
// holds 3/4 of the work (about 25 ms serial on the 2-core machines).
inline constexpr std::size_t pfor_skewed_size = 6'000;

// matmul: C = A * B, n x n doubles (about 0.4 s serial, so one serial iteration is enough).
// Tiles keep a block of B in L2 while a block of rows of A and C streams by.
inline constexpr std::size_t matmul_n = 1024;
inline constexpr std::size_t matmul_tile_rows = 16;
inline constexpr std::size_t matmul_tile_k = 64;
inline constexpr std::size_t matmul_tile_cols = 256;

// nqueens: a task per placement in the first nqueens_cutoff rows, a serial search below. n = 12
// (14200 solutions, about 5 ms serial): at 11 (1 ms) one late wake-up on a shared VM is as long
// as the whole search.
inline constexpr int nqueens_n = 12;
inline constexpr std::uint64_t nqueens_expected = 14'200;
inline constexpr int nqueens_cutoff = 3;

// Gaps between wake-up samples: longer than the default 50 us spin budget (parked), and well
// inside it (spinning).
inline constexpr std::chrono::microseconds parked_gap{1000};
inline constexpr std::chrono::microseconds spinning_gap{20};

// The priority flood: a producer keeps about flood_backlog tasks of flood_task each queued in the
// normal lane (about 1 ms of work per worker at 2 workers), and an urgent task is submitted every
// urgent_gap. Queued FIFO behind the flood, it waits for the backlog; in a lane of its own, for
// the task a worker is running.
inline constexpr std::chrono::microseconds flood_task{10};
inline constexpr std::size_t flood_backlog = 200;
inline constexpr std::chrono::microseconds urgent_gap{500};

// Lets a runtime's spin window expire before idle CPU is measured, then how long it is measured.
inline constexpr std::chrono::milliseconds idle_settle{200};
inline constexpr std::chrono::milliseconds idle_window{1000};

// A task that has not finished after this long is reported as a hang instead of waiting forever.
inline constexpr std::chrono::seconds hang_limit{60};

/// Worker threads for every scheduler: MAGPIE_BENCH_WORKERS, default 2 (the test machines have
/// 2 cores; more workers than cores measures the OS scheduler, not the runtime).
inline std::size_t workers() {
  const char* s = std::getenv("MAGPIE_BENCH_WORKERS");
  if (s == nullptr || *s == '\0') return 2;
  const unsigned long n = std::strtoul(s, nullptr, 10);
  return n == 0 ? 2 : static_cast<std::size_t>(n);
}

/// MAGPIE_BENCH_FULL=1 (tools/run-benchmarks --full) takes more wake-up samples.
inline bool full_run() {
  const char* s = std::getenv("MAGPIE_BENCH_FULL");
  return s != nullptr && std::string(s) == "1";
}

inline std::size_t parked_samples() {
  return full_run() ? 1500 : 300;
}
inline std::size_t spinning_samples() {
  return full_run() ? 10000 : 2000;
}
inline std::size_t urgent_samples() {
  return full_run() ? 2000 : 300;
}

}  // namespace perf
