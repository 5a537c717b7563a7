// Wake-up latency over any adapter with submit: from a parked scheduler (1 ms gaps) and from a
// spinning one (20 us gaps).
#pragma once

#include <benchmark/benchmark.h>

#include <string>

#include "common/config.hpp"
#include "wakeup/sampler.hpp"

namespace perf {

template <class A>
void wakeup_bench(benchmark::State& state, regime r) {
  const std::string name =
      std::string(r == regime::parked ? "wakeup_parked/" : "wakeup_spinning/") +
      std::string(A::name);
  probe p;  // before the scheduler: outlives it
  A a(workers());
  run_wakeup(state, name.c_str(), r, p, [&a, &p] { a.submit([&p] { p.hit(); }); });
}

}  // namespace perf
