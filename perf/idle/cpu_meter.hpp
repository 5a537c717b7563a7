// Idle cost, shared by every scheduler: process CPU time over a window in which nothing is
// submitted, once the scheduler's spin window has long expired.
#pragma once

#include <sys/resource.h>

#include <benchmark/benchmark.h>

#include <chrono>
#include <string>
#include <thread>

#include "common/config.hpp"
#include "common/failure.hpp"

namespace perf {

// User + system time of every thread in this process. Other schedulers of this binary are
// destroyed between benchmarks, so only the one under test can be counted.
inline double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

/// run_one() runs one task on the scheduler and returns true once it ran. Reports the CPU
/// used during idle_window as "cpu_pct_of_core" (100 = one core busy all the time).
template <class RunOne>
void run_idle(benchmark::State& state, const char* name, RunOne run_one) {
  using steady = std::chrono::steady_clock;
  for (auto _ : state) {
    if (!run_one()) {
      fail(state, std::string(name) + ": the task did not run within the time limit");
      return;
    }
    std::this_thread::sleep_for(idle_settle);
    const double cpu_before = process_cpu_seconds();
    const auto wall_before = steady::now();
    std::this_thread::sleep_for(idle_window);
    const double cpu = process_cpu_seconds() - cpu_before;
    const double wall = std::chrono::duration<double>(steady::now() - wall_before).count();
    state.counters["cpu_pct_of_core"] = 100.0 * cpu / wall;
  }
}

}  // namespace perf
