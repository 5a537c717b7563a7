#include "sum_lib.hpp"

#include <atomic>

long sum_to(magpie::runtime& rt, int n) {
  std::atomic<long> sum{0};
  magpie::task_group g(rt);
  for (int i = 1; i <= n; ++i)
    g.spawn([&sum, i] { sum += i; });
  g.wait();
  return sum.load();
}
