// Wake-up latency, shared by every scheduler: the time from just before submit to the first
// line of the task, sampled with a fixed idle gap before each submit.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/samples.hpp"
#include "magpie/detail/cpu_relax.hpp"

namespace perf {

using steady = std::chrono::steady_clock;

/// parked: gaps of ~1 ms, past the spin budget, so every submit has to wake a sleeping worker.
/// spinning: gaps of ~20 us, inside it, so a worker is still looking for work.
enum class regime { parked, spinning };

/// What the sampled task touches. Must outlive the scheduler (a task that starts after a
/// reported hang still writes here).
struct probe {
  std::atomic<bool> ran{false};
  steady::time_point started;  // written before `ran`

  void hit() noexcept {
    started = steady::now();
    // release: pairs with the acquire in wait_ran, which then reads `started`.
    ran.store(true, std::memory_order_release);
  }
};

// Polls rather than sleeps, so that the sampler's own wake-up does not stretch the gap the
// scheduler sees; yields rather than spins, so that on a machine with no spare core it does
// not hold the core a pinned worker needs (a pure spin here put 3 ms, a time slice, into
// Magpie's spinning p99 on 2 cores).
inline bool wait_ran(const probe& p) {
  const auto deadline = steady::now() + hang_limit;
  for (unsigned i = 1;; ++i) {
    if (p.ran.load(std::memory_order_acquire)) return true;
    if (i % 1024 == 0 && steady::now() > deadline) return false;
    std::this_thread::yield();
  }
}

inline void idle_gap(regime r) {
  if (r == regime::parked) {
    std::this_thread::sleep_for(parked_gap);
    return;
  }
  const auto until = steady::now() + spinning_gap;
  while (steady::now() < until)
    magpie::detail::cpu_relax();
}

// Nearest rank: the smallest sample with at least q of all samples at or below it.
inline double percentile(const std::vector<double>& sorted, double q) {
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

/// Reports p50/p90/p99/max of sorted samples (microseconds) as counters, p50 as the
/// iteration's time (the benchmark must use UseManualTime), and hands them to write_samples.
inline void report_latency(benchmark::State& state, const std::vector<double>& us) {
  state.counters["p50_us"] = percentile(us, 0.50);
  state.counters["p90_us"] = percentile(us, 0.90);
  state.counters["p99_us"] = percentile(us, 0.99);
  state.counters["max_us"] = us.back();
  state.SetIterationTime(percentile(us, 0.50) * 1e-6);
  write_samples(us);
}

/// Samples the wake-up latency and reports it with report_latency. submit() queues one task
/// that calls p.hit().
template <class Submit>
void run_wakeup(benchmark::State& state, const char* name, regime r, probe& p, Submit submit) {
  constexpr std::size_t warmup = 10;  // lets threads settle after the scheduler started
  const std::size_t n = r == regime::parked ? parked_samples() : spinning_samples();
  std::vector<double> us(n);
  for (auto _ : state) {
    for (std::size_t i = 0; i < warmup + n; ++i) {
      idle_gap(r);
      // relaxed: the task's store comes after submit, which orders this reset before it.
      p.ran.store(false, std::memory_order_relaxed);
      const auto submitted = steady::now();
      submit();
      if (!wait_ran(p)) {
        fail(state, std::string(name) + ": a submitted task did not start within the time limit");
        return;
      }
      if (i >= warmup) {
        us[i - warmup] = std::chrono::duration<double, std::micro>(p.started - submitted).count();
      }
    }
    std::sort(us.begin(), us.end());
    if (us.front() < 0) {
      fail(state, std::string(name) + ": a task started before it was submitted");
      return;
    }
    report_latency(state, us);
  }
}

}  // namespace perf
