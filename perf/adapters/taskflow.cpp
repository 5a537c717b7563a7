// Taskflow (a peer, compiled only when MAGPIE_PEER_TASKFLOW_DIR names its source): a
// tf::Executor of `workers` threads. Recursive workloads as its fibonacci example writes them:
// a tf::TaskGroup from the executor, silent_async for every child but the last, the last run
// inline, then corun (which runs other tasks while it waits), the root started with
// Executor::async. Loops with for_each_by_index over a tf::IndexRange, pieces of `grain`
// through a DynamicPartitioner, or its default partitioner when grain is 0.
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include <taskflow/algorithm/for_each.hpp>
#include <taskflow/taskflow.hpp>

#include "common/config.hpp"
#include "nqueens/nqueens.hpp"
#include "registry.hpp"

namespace {

std::uint64_t taskflow_fib(tf::Executor& ex, int n) {
  if (n < 2) return static_cast<std::uint64_t>(n);
  std::uint64_t x = 0;
  tf::TaskGroup tg = ex.task_group();
  tg.silent_async([&ex, &x, n] { x = taskflow_fib(ex, n - 1); });
  const std::uint64_t y = taskflow_fib(ex, n - 2);
  tg.corun();
  return x + y;
}

std::uint64_t taskflow_skynet(tf::Executor& ex, std::uint64_t first, std::uint64_t size) {
  if (size == 1) return first;
  const std::uint64_t child = size / perf::skynet_fan_out;
  std::array<std::uint64_t, perf::skynet_fan_out> sums{};
  tf::TaskGroup tg = ex.task_group();
  for (std::uint64_t i = 0; i + 1 < perf::skynet_fan_out; ++i) {
    tg.silent_async([&ex, out = &sums[i], lo = first + i * child, child] {
      *out = taskflow_skynet(ex, lo, child);
    });
  }
  sums.back() = taskflow_skynet(ex, first + (perf::skynet_fan_out - 1) * child, child);
  tg.corun();
  std::uint64_t sum = 0;
  for (const std::uint64_t s : sums)
    sum += s;
  return sum;
}

std::uint64_t taskflow_nqueens(tf::Executor& ex, const perf::queens_board& b, int row) {
  if (row >= perf::nqueens_cutoff) return perf::nqueens_serial(b);
  std::uint32_t open = b.open_squares();
  if (open == 0) return 0;
  perf::queens_counts counts{};
  tf::TaskGroup tg = ex.task_group();
  std::size_t k = 0;
  for (; (open & (open - 1)) != 0; open &= open - 1, ++k) {  // all but the last open square
    tg.silent_async([&ex, out = &counts[k], child = b.place(perf::lowest_bit(open)), row] {
      *out = taskflow_nqueens(ex, child, row + 1);
    });
  }
  counts[k] = taskflow_nqueens(ex, b.place(open), row + 1);
  tg.corun();
  return perf::queens_total(counts);
}

struct taskflow_adapter {
  static constexpr const char* name = "taskflow";

  explicit taskflow_adapter(std::size_t workers) : ex(workers) {}

  std::uint64_t fib(int n) {
    return ex.async([this, n] { return taskflow_fib(ex, n); }).get();
  }
  std::uint64_t skynet(std::uint64_t leaves) {
    return ex.async([this, leaves] { return taskflow_skynet(ex, 0, leaves); }).get();
  }
  std::uint64_t nqueens(int n) {
    return ex.async([this, n] { return taskflow_nqueens(ex, perf::queens_start(n), 0); }).get();
  }

  template <class Body>
  void parallel_for(std::size_t first, std::size_t last, std::size_t grain, Body&& body) {
    const tf::IndexRange<std::size_t> range(first, last, 1);
    auto piece = [&body](tf::IndexRange<std::size_t> r) { body(r.begin(), r.end()); };
    tf::Taskflow flow;
    if (grain == 0) {
      flow.for_each_by_index(range, piece);
    } else {
      flow.for_each_by_index(range, piece, tf::DynamicPartitioner(grain));
    }
    ex.run(flow).wait();
  }

  tf::Executor ex;
};

}  // namespace

MAGPIE_BENCH_ADAPTER(taskflow_adapter)
