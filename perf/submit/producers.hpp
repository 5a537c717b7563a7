// The external-submit driver shared by every scheduler: plain std::threads (not workers) submit
// submit_tasks tasks between them, and the clock stops once every task has run.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "common/completion.hpp"
#include "common/config.hpp"
#include "common/failure.hpp"

namespace perf {

/// submit_one() queues one task that calls done.arrive(). `done` must outlive the scheduler,
/// so that tasks still queued after a reported hang find it when the scheduler drains.
template <class SubmitOne>
void run_producers(benchmark::State& state, const char* name, std::size_t producers,
                   completion& done, SubmitOne submit_one) {
  for (auto _ : state) {
    done.reset(submit_tasks);
    std::vector<std::thread> threads;
    threads.reserve(producers);
    for (std::size_t p = 0; p < producers; ++p) {
      // The first producer takes the remainder, so the total is exact for any count.
      const std::uint64_t share =
          submit_tasks / producers + (p == 0 ? submit_tasks % producers : 0);
      threads.emplace_back([share, &submit_one] {
        for (std::uint64_t i = 0; i < share; ++i)
          submit_one();
      });
    }
    for (auto& t : threads)
      t.join();
    if (!done.wait_for(hang_limit)) {
      fail(state, std::string(name) + " with " + std::to_string(producers) +
                      " producer(s): " + std::to_string(done.count()) + " of " +
                      std::to_string(submit_tasks) + " tasks ran within the time limit");
      return;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * submit_tasks));
}

}  // namespace perf
