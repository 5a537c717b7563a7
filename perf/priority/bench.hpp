// High-priority submit-to-start latency while the normal lane is flooded with flood_task tasks.
// Adapters with submit_high put the urgent task in their high lane (Magpie's priority::high,
// oneTBB's high-priority arena); the others have no priorities, so it queues FIFO behind the
// flood, as it would in their users' programs. The `high_lane` counter says which it was.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include "adapter.hpp"
#include "common/config.hpp"
#include "common/failure.hpp"
#include "magpie/detail/cpu_relax.hpp"
#include "wakeup/sampler.hpp"

namespace perf {

/// What the flood's tasks touch; must outlive the scheduler (it drains the backlog on exit).
struct flood_state {
  std::atomic<std::size_t> queued{0};
  std::atomic<bool> stop{false};
};

inline void busy_for(std::chrono::microseconds d) {
  const auto until = steady::now() + d;
  while (steady::now() < until)
    magpie::detail::cpu_relax();
}

template <class A>
void priority_bench(benchmark::State& state) {
  const std::string name = std::string("priority_flood/") + std::string(A::name);
  probe p;
  flood_state f;
  A a(workers());
  // Tops the backlog up, then sleeps: a producer spinning here would take a core from the two
  // workers. The backlog lasts ~1 ms, several times the sleep, so the lane never runs dry.
  std::thread producer([&a, &f] {
    while (!f.stop.load(std::memory_order_relaxed)) {
      // relaxed: a count, read only to decide how many to add; nothing is published through it.
      while (f.queued.load(std::memory_order_relaxed) < flood_backlog) {
        f.queued.fetch_add(1, std::memory_order_relaxed);
        a.submit([&f] {
          busy_for(flood_task);
          f.queued.fetch_sub(1, std::memory_order_relaxed);
        });
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  const std::size_t n = urgent_samples();
  std::vector<double> us(n);
  bool ok = true;
  for (auto _ : state) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the flood reaches its level
    for (std::size_t i = 0; i < n && ok; ++i) {
      std::this_thread::sleep_for(urgent_gap);
      // relaxed: the task's store comes after submit, which orders this reset before it.
      p.ran.store(false, std::memory_order_relaxed);
      const auto submitted = steady::now();
      if constexpr (can_submit_high<A>) {
        a.submit_high([&p] { p.hit(); });
      } else {
        a.submit([&p] { p.hit(); });
      }
      ok = wait_ran(p);
      us[i] = std::chrono::duration<double, std::micro>(p.started - submitted).count();
    }
    if (!ok) {
      fail(state, name + ": an urgent task did not start within the time limit");
      break;
    }
    std::sort(us.begin(), us.end());
    report_latency(state, us);
    state.counters["high_lane"] = can_submit_high<A> ? 1 : 0;
  }
  f.stop.store(true, std::memory_order_relaxed);
  producer.join();
}

}  // namespace perf
