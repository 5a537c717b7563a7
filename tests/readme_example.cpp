// The example in README.md, kept compiling and passing here.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdio>

// clang-format off
// README example begins
#include <magpie/magpie.hpp>

int readme_example() {
  magpie::runtime rt;                  // one pinned worker per processing unit
  std::atomic<int> sum{0};
  rt.submit([&] { sum += 1; });        // fire-and-forget, from any thread

  magpie::task_group g(rt);            // fork-join
  for (int i = 1; i <= 100; ++i)
    g.spawn([&sum, i] { sum += i; });  // on a worker: pushed to its own deque
  g.wait();                            // helps on a worker, sleeps elsewhere; rethrows

  rt.shutdown();                       // drains: every accepted task runs
  std::printf("sum = %d\n", sum.load());  // 5051
  return sum.load();
}
// README example ends
// clang-format on

TEST_CASE("the README example computes 5051" * doctest::timeout(120)) {
  CHECK(readme_example() == 5051);
}
