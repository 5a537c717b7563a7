// External submit throughput over any adapter with submit: 1 or 2 plain threads submit
// submit_tasks empty tasks between them.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>

#include "common/completion.hpp"
#include "common/config.hpp"
#include "submit/producers.hpp"

namespace perf {

template <class A>
void submit_bench(benchmark::State& state, std::size_t producers) {
  const std::string name = std::string("submit/") + std::string(A::name);
  completion done;  // before the scheduler: outlives it (see run_producers)
  A a(workers());
  run_producers(state, name.c_str(), producers, done,
                [&a, &done] { a.submit([&done] { done.arrive(); }); });
}

}  // namespace perf
