// semaphore_flood: one plain thread submits flood_tasks empty tasks of weights 1-4 through a
// limiter of capacity 8 (limited), or the same tasks with plain submit (unlimited), so the
// limiter's cost is a same-run ratio. The clock stops once every task has run.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/completion.hpp"
#include "common/config.hpp"
#include "common/failure.hpp"

namespace perf {

inline constexpr std::uint64_t flood_tasks = 1'000'000;
inline constexpr std::size_t flood_capacity = 8;

template <class A>
void semaphore_flood_bench(benchmark::State& state, bool limited) {
  completion done;  // before the scheduler: outlives it
  A a(workers());
  typename A::limiter l(a, flood_capacity);
  for (auto _ : state) {
    done.reset(flood_tasks);
    for (std::uint64_t i = 0; i < flood_tasks; ++i) {
      if (limited) {
        l.submit(1 + i % 4, [&done] { done.arrive(); });
      } else {
        a.submit([&done] { done.arrive(); });
      }
    }
    if (!done.wait_for(hang_limit)) {
      fail(state, "semaphore_flood/" + std::string(A::name) + ": " + std::to_string(done.count()) +
                      " of " + std::to_string(flood_tasks) + " tasks ran within the time limit");
      return;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * flood_tasks));
}

}  // namespace perf
