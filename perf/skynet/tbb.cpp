// skynet on oneTBB: every node runs its ten children in one tbb::task_group and waits.
#include <benchmark/benchmark.h>

#include <array>
#include <string>

#include <oneapi/tbb/task_group.h>

#include "common/config.hpp"
#include "common/failure.hpp"
#include "common/spread.hpp"
#include "common/tbb_arena.hpp"

namespace {

std::uint64_t skynet(std::uint64_t first, std::uint64_t size) {
  if (size == 1) return first;
  const std::uint64_t child = size / perf::skynet_fan_out;
  std::array<std::uint64_t, perf::skynet_fan_out> sums{};
  tbb::task_group g;
  for (std::uint64_t i = 0; i < perf::skynet_fan_out; ++i) {
    g.run([out = &sums[i], lo = first + i * child, child] { *out = skynet(lo, child); });
  }
  g.wait();
  std::uint64_t sum = 0;
  for (const std::uint64_t s : sums)
    sum += s;
  return sum;
}

void skynet_tbb(benchmark::State& state, std::size_t workers) {
  const std::size_t n = workers == 0 ? perf::workers() : workers;
  const std::string name = perf::with_workers("skynet/tbb", n);
  perf::tbb_arena a(n, 1);
  std::uint64_t r = 0;
  for (auto _ : state) {
    a.arena.execute([&r] { r = skynet(0, perf::skynet_leaves); });
    if (!perf::check(state, name, r, perf::skynet_expected)) break;
  }
}

}  // namespace

BENCHMARK_CAPTURE(skynet_tbb, workers, 0)
    ->Name("skynet/tbb")
    ->Iterations(15)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
BENCHMARK_CAPTURE(skynet_tbb, one_worker, 1)
    ->Name("skynet_1w/tbb")
    ->Iterations(8)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Apply(perf::with_spread);
