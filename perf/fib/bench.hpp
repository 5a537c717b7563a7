// fib over any fork-join adapter: spawn fib(n-1), compute fib(n-2) inline, wait.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "adapter.hpp"
#include "common/config.hpp"
#include "common/failure.hpp"

namespace perf {

template <class A>
std::uint64_t fib_on(A& a, int n) {
  if (n < 2) return static_cast<std::uint64_t>(n);
  std::uint64_t x = 0;
  typename A::group g(a);
  g.spawn([&a, &x, n] { x = fib_on(a, n - 1); });
  const std::uint64_t y = fib_on(a, n - 2);
  g.wait();
  return x + y;
}

/// workers 0: the configured count (T2 on the 2-core machines); 1: T1, the per-task overhead.
template <class A>
void fib_bench(benchmark::State& state, std::size_t workers) {
  const std::size_t n = workers == 0 ? perf::workers() : workers;
  const std::string name = with_workers("fib/", A::name, n);
  A a(n);
  std::uint64_t r = 0;
  for (auto _ : state) {
    // The root runs on the scheduler (a worker, the arena, a team's single thread): from this
    // outside thread every spawn would be an external submit.
    if constexpr (has_fib<A>) {
      r = a.fib(fib_n);
    } else {
      a.run([&a, &r] { r = fib_on(a, fib_n); });
    }
    if (!check(state, name, r, fib_expected)) break;
  }
}

/// fib written as coroutines (A::fib_coro), beside the callable form above.
template <class A>
void fib_coro_bench(benchmark::State& state, std::size_t workers) {
  const std::size_t n = workers == 0 ? perf::workers() : workers;
  const std::string name = with_workers("fib_coro/", A::name, n);
  A a(n);
  std::uint64_t r = 0;
  for (auto _ : state) {
    r = a.fib_coro(fib_n);
    if (!check(state, name, r, fib_expected)) break;
  }
}

}  // namespace perf
