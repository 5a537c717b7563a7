// What a strand's tasks check, shared by the strand suites: no two of them run at once
// (`busy`), and each producer's tasks arrive in order. `last` is plain memory: if tasks
// overlapped or were not ordered by happens-before, ThreadSanitizer would report the race.
#pragma once

#include <atomic>
#include <cstddef>
#include <vector>

namespace magpie::test {

struct order_check {
  explicit order_check(std::size_t producers) : last(producers, 0) {}
  std::atomic<bool> busy{false};
  std::atomic<std::size_t> overlaps{0};
  std::atomic<std::size_t> out_of_order{0};
  std::atomic<std::size_t> ran{0};
  std::vector<std::size_t> last;

  void task(std::size_t producer, std::size_t seq) {
    if (busy.exchange(true)) overlaps.fetch_add(1);
    if (last[producer] + 1 != seq) out_of_order.fetch_add(1);
    last[producer] = seq;
    busy.store(false);
    ran.fetch_add(1);
  }
};

}  // namespace magpie::test
