// Idle cost over any adapter that can run something: one task (submit) or one empty fork-join
// root (run, e.g. an OpenMP parallel region), then a second of nothing.
#pragma once

#include <benchmark/benchmark.h>

#include <string>

#include "adapter.hpp"
#include "common/completion.hpp"
#include "common/config.hpp"
#include "idle/cpu_meter.hpp"

namespace perf {

template <class A>
void idle_bench(benchmark::State& state) {
  const std::string name = std::string("idle/") + std::string(A::name);
  completion done;  // before the scheduler: outlives it
  A a(workers());
  run_idle(state, name.c_str(), [&a, &done] {
    done.reset(1);
    if constexpr (can_submit<A>) {
      a.submit([&done] { done.arrive(); });
    } else {
      a.run([&done] { done.arrive(); });
    }
    return done.wait_for(hang_limit);
  });
}

}  // namespace perf
