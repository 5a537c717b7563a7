// skynet on Magpie: every node spawns its ten children into one task_group and waits.
#include <benchmark/benchmark.h>

#include <array>
#include <string>

#include <magpie/magpie.hpp>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"

namespace {

std::uint64_t skynet(magpie::runtime& rt, std::uint64_t first, std::uint64_t size) {
  if (size == 1) return first;
  const std::uint64_t child = size / perf::skynet_fan_out;
  std::array<std::uint64_t, perf::skynet_fan_out> sums{};
  magpie::task_group g(rt);
  for (std::uint64_t i = 0; i < perf::skynet_fan_out; ++i) {
    g.spawn([&rt, out = &sums[i], lo = first + i * child, child] { *out = skynet(rt, lo, child); });
  }
  g.wait();
  std::uint64_t sum = 0;
  for (const std::uint64_t s : sums)
    sum += s;
  return sum;
}

void skynet_magpie(benchmark::State& state, std::size_t workers) {
  magpie::config cfg;
  const std::size_t n = workers == 0 ? perf::workers() : workers;
  const std::string name = perf::with_workers("skynet/magpie", n);
  cfg.workers = n;
  magpie::runtime rt(cfg);
  std::uint64_t r = 0;
  for (auto _ : state) {
    magpie::task_group root(rt);  // the root on a worker, as in fib/magpie
    root.spawn([&rt, &r] { r = skynet(rt, 0, perf::skynet_leaves); });
    root.wait();
    if (!perf::check(state, name, r, perf::skynet_expected)) break;
  }
}

}  // namespace

BENCHMARK_CAPTURE(skynet_magpie, workers, 0)
    ->Name("skynet/magpie")
    ->Iterations(20)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
BENCHMARK_CAPTURE(skynet_magpie, one_worker, 1)
    ->Name("skynet_1w/magpie")
    ->Iterations(10)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
