// strand_post: empty tasks posted by plain threads to strands (serial queues) over any adapter
// with a strand: one strand fed by one producer, and 64 strands fed by two. The clock stops
// once every task has run.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/completion.hpp"
#include "common/config.hpp"
#include "common/failure.hpp"

namespace perf {

inline constexpr std::uint64_t strand_tasks = 1'000'000;

template <class A>
void strand_post_bench(benchmark::State& state, std::size_t strands, std::size_t producers) {
  completion done;  // before the scheduler: outlives it
  A a(workers());
  std::vector<std::unique_ptr<typename A::strand>> s;  // after it: destroyed first
  for (std::size_t i = 0; i < strands; ++i)
    s.push_back(std::make_unique<typename A::strand>(a));
  for (auto _ : state) {
    done.reset(strand_tasks);
    std::vector<std::thread> threads;
    for (std::size_t p = 0; p < producers; ++p) {
      const std::uint64_t share =
          strand_tasks / producers + (p == 0 ? strand_tasks % producers : 0);
      threads.emplace_back([share, p, producers, &s, &done] {
        for (std::uint64_t i = 0; i < share; ++i)
          s[(i * producers + p) % s.size()]->post([&done] { done.arrive(); });
      });
    }
    for (auto& t : threads)
      t.join();
    if (!done.wait_for(hang_limit)) {
      fail(state, "strand_post/" + std::string(A::name) + ": " + std::to_string(done.count()) +
                      " of " + std::to_string(strand_tasks) + " tasks ran within the time limit");
      return;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * strand_tasks));
}

}  // namespace perf
