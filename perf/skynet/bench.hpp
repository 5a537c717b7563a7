// skynet over any fork-join adapter: every node spawns its ten children into one group and
// waits.
#pragma once

#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "adapter.hpp"
#include "common/config.hpp"
#include "common/failure.hpp"

namespace perf {

template <class A>
std::uint64_t skynet_on(A& a, std::uint64_t first, std::uint64_t size) {
  if (size == 1) return first;
  const std::uint64_t child = size / skynet_fan_out;
  std::array<std::uint64_t, skynet_fan_out> sums{};
  typename A::group g(a);
  for (std::uint64_t i = 0; i < skynet_fan_out; ++i) {
    g.spawn(
        [&a, out = &sums[i], lo = first + i * child, child] { *out = skynet_on(a, lo, child); });
  }
  g.wait();
  std::uint64_t sum = 0;
  for (const std::uint64_t s : sums)
    sum += s;
  return sum;
}

template <class A>
void skynet_bench(benchmark::State& state, std::size_t workers) {
  const std::size_t n = workers == 0 ? perf::workers() : workers;
  const std::string name = with_workers("skynet/", A::name, n);
  A a(n);
  std::uint64_t r = 0;
  for (auto _ : state) {
    if constexpr (has_skynet<A>) {
      r = a.skynet(skynet_leaves);
    } else {
      a.run([&a, &r] { r = skynet_on(a, 0, skynet_leaves); });  // the root on the scheduler
    }
    if (!check(state, name, r, skynet_expected)) break;
  }
}

/// skynet written as coroutines (A::skynet_coro), beside the callable form above.
template <class A>
void skynet_coro_bench(benchmark::State& state, std::size_t workers) {
  const std::size_t n = workers == 0 ? perf::workers() : workers;
  const std::string name = with_workers("skynet_coro/", A::name, n);
  A a(n);
  std::uint64_t r = 0;
  for (auto _ : state) {
    r = a.skynet_coro(skynet_leaves);
    if (!check(state, name, r, skynet_expected)) break;
  }
}

}  // namespace perf
