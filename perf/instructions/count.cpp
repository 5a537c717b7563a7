// Runs one fork-join workload on a one-worker runtime a given number of times, for
// tools/count-instructions: callgrind counts the instructions of two runs with different round
// counts, and their difference divided by the extra tasks is the cost of one task, free of
// start-up and shutdown. Instruction counts do not drift with the machine's load, unlike times.
// Usage: magpie_count fib|skynet|fib_rw|skynet_rw|fib_coro ROUNDS   (prints the tasks per round;
// the _rw forms run the last child of each node in place with run_and_wait)
#include <magpie/magpie.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/config.hpp"

namespace {

std::uint64_t fib(magpie::runtime& rt, int n) {
  if (n < 2) return static_cast<std::uint64_t>(n);
  std::uint64_t x = 0;
  magpie::task_group g(rt);
  g.spawn([&rt, &x, n] { x = fib(rt, n - 1); });
  const std::uint64_t y = fib(rt, n - 2);
  g.wait();
  return x + y;
}

std::uint64_t fib_spawns(int n) {
  return n < 2 ? 0 : 1 + fib_spawns(n - 1) + fib_spawns(n - 2);
}

std::uint64_t skynet(magpie::runtime& rt, std::uint64_t first, std::uint64_t size) {
  if (size == 1) return first;
  const std::uint64_t child = size / perf::skynet_fan_out;
  std::array<std::uint64_t, perf::skynet_fan_out> sums{};
  magpie::task_group g(rt);
  for (std::uint64_t i = 0; i < perf::skynet_fan_out; ++i) {
    g.spawn([&rt, out = &sums[i], lo = first + i * child, child] { *out = skynet(rt, lo, child); });
  }
  g.wait();
  std::uint64_t sum = 0;
  for (const std::uint64_t s : sums)
    sum += s;
  return sum;
}

// The same trees in the fastest idiom: the last child runs on the caller (run_and_wait).
std::uint64_t fib_rw(magpie::runtime& rt, int n) {
  if (n < 2) return static_cast<std::uint64_t>(n);
  std::uint64_t x = 0;
  std::uint64_t y = 0;
  magpie::task_group g(rt);
  g.spawn([&rt, &x, n] { x = fib_rw(rt, n - 1); });
  g.run_and_wait([&rt, &y, n] { y = fib_rw(rt, n - 2); });
  return x + y;
}

std::uint64_t skynet_rw(magpie::runtime& rt, std::uint64_t first, std::uint64_t size) {
  if (size == 1) return first;
  const std::uint64_t child = size / perf::skynet_fan_out;
  std::array<std::uint64_t, perf::skynet_fan_out> sums{};
  magpie::task_group g(rt);
  for (std::uint64_t i = 0; i + 1 < perf::skynet_fan_out; ++i) {
    g.spawn(
        [&rt, out = &sums[i], lo = first + i * child, child] { *out = skynet_rw(rt, lo, child); });
  }
  g.run_and_wait([&rt, &sums, first, child] {
    sums.back() = skynet_rw(rt, first + (perf::skynet_fan_out - 1) * child, child);
  });
  std::uint64_t sum = 0;
  for (const std::uint64_t s : sums)
    sum += s;
  return sum;
}

// fib as coroutines: a node awaits when_all of its two children (perf's fib_coro).
magpie::task<std::uint64_t> fib_coro(int n) {
  if (n < 2) co_return static_cast<std::uint64_t>(n);
  auto [x, y] = co_await magpie::when_all(fib_coro(n - 1), fib_coro(n - 2));
  co_return x + y;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string w = argc == 3 ? argv[1] : "";
  if (w != "fib" && w != "skynet" && w != "fib_rw" && w != "skynet_rw" && w != "fib_coro") {
    std::fprintf(stderr, "usage: magpie_count fib|skynet|fib_rw|skynet_rw|fib_coro ROUNDS\n");
    return 2;
  }
  const bool is_fib = w.rfind("fib", 0) == 0;
  const bool rw = w.size() > 3 && w.substr(w.size() - 3) == "_rw";
  const int rounds = std::atoi(argv[2]);
  magpie::config cfg;
  cfg.workers = 1;
  magpie::runtime rt(cfg);
  const int n = 25;
  for (int i = 0; i < rounds; ++i) {
    const std::uint64_t got = w == "fib_coro"
                                  ? magpie::sync_wait(rt, fib_coro(n))
                                  : rt.async([&] {
                                        if (is_fib) return rw ? fib_rw(rt, n) : fib(rt, n);
                                        return rw ? skynet_rw(rt, 0, perf::skynet_leaves)
                                                  : skynet(rt, 0, perf::skynet_leaves);
                                      }).get();
    const std::uint64_t want = is_fib ? 75025 : perf::skynet_expected;
    if (got != want) {
      std::fprintf(stderr, "magpie_count: wrong answer %llu\n",
                   static_cast<unsigned long long>(got));
      return 1;
    }
  }
  // Nodes of the tree below the root: each is a task, spawned or (run_and_wait) run in place.
  // fib_coro is divided by the same count (inner nodes of the tree), so it compares with fib.
  std::printf("%llu\n", static_cast<unsigned long long>(is_fib ? fib_spawns(n) : 1'111'110));
  return 0;
}
