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

// Gaps between wake-up samples: longer than the default 50 us spin budget (parked), and well
// inside it (spinning).
inline constexpr std::chrono::microseconds parked_gap{1000};
inline constexpr std::chrono::microseconds spinning_gap{20};

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

}  // namespace perf
