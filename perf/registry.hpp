// Registers every workload an adapter can express under "<workload>/<adapter name>". An adapter
// file ends with MAGPIE_BENCH_ADAPTER(type); workloads it lacks the members for are simply not
// registered, and tools/bench_table.py shows them as n/a.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>

#include "adapter.hpp"
#include "fib/bench.hpp"
#include "idle/bench.hpp"
#include "matmul/bench.hpp"
#include "nqueens/bench.hpp"
#include "pfor_fsum/bench.hpp"
#include "pfor_skewed/bench.hpp"
#include "pfor_sum/bench.hpp"
#include "pfor_tiny/bench.hpp"
#include "priority/bench.hpp"
#include "semaphore_flood/bench.hpp"
#include "skynet/bench.hpp"
#include "strand_post/bench.hpp"
#include "submit/bench.hpp"
#include "wakeup/bench.hpp"

namespace perf {

/// Timed workloads: the iteration count comes from --benchmark_min_time (tools/bench_suite.py
/// sets it per mode), so a slow scheduler runs fewer iterations instead of stretching the run.
template <class Fn, class... Args>
void timed(const std::string& name, Fn fn, Args... args) {
  benchmark::RegisterBenchmark(name.c_str(), fn, args...)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

/// One-shot workloads: a single iteration measures a whole distribution or window.
template <class Fn, class... Args>
void once(const std::string& name, Fn fn, Args... args) {
  benchmark::RegisterBenchmark(name.c_str(), fn, args...)
      ->Iterations(1)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

template <class A>
void register_adapter() {
  if constexpr (!is_available<A>()) {
    // Listed, so that the tables can say n/a for it; running it says why.
    benchmark::RegisterBenchmark(("unavailable/" + std::string(A::name)).c_str(),
                                 [](benchmark::State& state) {
                                   for (auto _ : state) {
                                   }
                                   state.SkipWithError(A::missing);
                                 })
        ->Iterations(1);
  } else {
    const std::string s(A::name);
    if constexpr (can_fork_join<A> || has_fib<A>) {
      timed("fib/" + s, fib_bench<A>, std::size_t{0});
      timed("fib_1w/" + s, fib_bench<A>, std::size_t{1});
    }
    if constexpr (can_fork_join<A> || has_skynet<A>) {
      timed("skynet/" + s, skynet_bench<A>, std::size_t{0});
      timed("skynet_1w/" + s, skynet_bench<A>, std::size_t{1});
    }
    if constexpr (has_fib_coro<A>) {
      timed("fib_coro/" + s, fib_coro_bench<A>, std::size_t{0});
      timed("fib_coro_1w/" + s, fib_coro_bench<A>, std::size_t{1});
    }
    if constexpr (has_skynet_coro<A>) {
      timed("skynet_coro/" + s, skynet_coro_bench<A>, std::size_t{0});
      timed("skynet_coro_1w/" + s, skynet_coro_bench<A>, std::size_t{1});
    }
    if constexpr (can_fork_join<A> || has_nqueens<A>) {
      timed("nqueens/" + s, nqueens_bench<A>, std::size_t{0});
      timed("nqueens_1w/" + s, nqueens_bench<A>, std::size_t{1});
    }
    if constexpr (can_parallel_for<A>) {
      timed("pfor_tiny/" + s, pfor_tiny_bench<A>);
      timed("pfor_skewed/" + s, pfor_skewed_bench<A>);
    }
    if constexpr (can_parallel_for<A> || has_matmul<A>) timed("matmul/" + s, matmul_bench<A>);
    if constexpr (can_parallel_reduce<A>) {
      timed("pfor_sum/" + s, pfor_sum_bench<A>);
      timed("pfor_fsum/" + s, pfor_fsum_bench<A>);
    }
    if constexpr (can_parallel_reduce_range<A>) {
      timed("pfor_fsum_range/" + s, pfor_fsum_range_bench<A>);
    }
    if constexpr (can_submit<A>) {
      once("submit_1p/" + s, submit_bench<A>, std::size_t{1});
      once("submit_2p/" + s, submit_bench<A>, std::size_t{2});
      benchmark::RegisterBenchmark(("wakeup_parked/" + s).c_str(), wakeup_bench<A>, regime::parked)
          ->Iterations(1)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("wakeup_spinning/" + s).c_str(), wakeup_bench<A>,
                                   regime::spinning)
          ->Iterations(1)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("priority_flood/" + s).c_str(), priority_bench<A>)
          ->Iterations(1)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
    if constexpr (can_submit<A> || can_fork_join<A>) once("idle/" + s, idle_bench<A>);
    if constexpr (can_strand<A>) {
      timed("strand_post_1s1p/" + s, strand_post_bench<A>, std::size_t{1}, std::size_t{1});
      timed("strand_post_64s2p/" + s, strand_post_bench<A>, std::size_t{64}, std::size_t{2});
    }
    if constexpr (can_limit<A> && can_submit<A>) {
      timed("semaphore_flood/" + s, semaphore_flood_bench<A>, true);
      timed("semaphore_flood_unlimited/" + s, semaphore_flood_bench<A>, false);
    }
  }
}

}  // namespace perf

/// Registers `type` (an adapter) at static initialisation, before main parses the flags.
#define MAGPIE_BENCH_ADAPTER(type)                     \
  namespace {                                          \
  [[maybe_unused]] const bool registered_##type = [] { \
    perf::register_adapter<type>();                    \
    return true;                                       \
  }();                                                 \
  }
