// Per-call latency of workloads that make many short calls in a row (pfor_tiny): each call's
// time is the gap between two clock reads, one read per call, and every iteration's calls give
// one p50, one p99 and the mean of the calls up to the p99 (what the total would be on a quiet
// machine, without the preempted calls that dominate it on a loaded one). The counters are the
// medians of those over the iterations, so one slow iteration (a preempted run on a shared machine)
// does not decide them.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

namespace perf {

class call_times {
 public:
  explicit call_times(std::size_t calls) : gaps_(calls) {}

  /// Before the first call of an iteration.
  void start() noexcept { last_ = std::chrono::steady_clock::now(); }

  /// After call number `call` of this iteration returned.
  void record(std::size_t call) noexcept {
    const auto now = std::chrono::steady_clock::now();
    gaps_[call] = std::chrono::duration<double, std::micro>(now - last_).count();
    last_ = now;
  }

  /// At the end of an iteration: its percentiles go into the per-iteration lists.
  void end_iteration() {
    p50_.push_back(quantile(gaps_, 0.50));
    const double p99 = quantile(gaps_, 0.99);
    p99_.push_back(p99);
    double sum = 0;
    std::size_t kept = 0;
    for (const double g : gaps_) {
      if (g > p99) continue;
      sum += g;
      ++kept;
    }
    mean99_.push_back(kept != 0 ? sum / static_cast<double>(kept) : 0);
  }

  /// call_p50_us and call_p99_us on the benchmark.
  void report(benchmark::State& state) {
    if (p50_.empty()) return;
    state.counters["call_p50_us"] = quantile(p50_, 0.5);
    state.counters["call_p99_us"] = quantile(p99_, 0.5);
    state.counters["call_mean99_us"] = quantile(mean99_, 0.5);
  }

 private:
  static double quantile(std::vector<double> v, double q) {
    const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
  }

  std::vector<double> gaps_;
  std::vector<double> p50_;
  std::vector<double> p99_;
  std::vector<double> mean99_;  // the mean of the calls up to the p99: the total less preemption
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace perf
