// Runs one fork-join workload on a one-worker runtime a given number of times, for
// tools/count-instructions: callgrind counts the instructions of two runs with different round
// counts, and their difference divided by the extra tasks is the cost of one task, free of
// start-up and shutdown. Instruction counts do not drift with the machine's load, unlike times.
// Usage: magpie_count fib|skynet ROUNDS   (prints the tasks spawned per round)
#include <magpie/magpie.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[1], "fib") != 0 && std::strcmp(argv[1], "skynet") != 0)) {
    std::fprintf(stderr, "usage: magpie_count fib|skynet ROUNDS\n");
    return 2;
  }
  const bool is_fib = std::strcmp(argv[1], "fib") == 0;
  const int rounds = std::atoi(argv[2]);
  magpie::config cfg;
  cfg.workers = 1;
  magpie::runtime rt(cfg);
  const int n = 25;
  for (int i = 0; i < rounds; ++i) {
    const std::uint64_t got =
        rt.async([&] { return is_fib ? fib(rt, n) : skynet(rt, 0, perf::skynet_leaves); }).get();
    const std::uint64_t want = is_fib ? 75025 : perf::skynet_expected;
    if (got != want) {
      std::fprintf(stderr, "magpie_count: wrong answer %llu\n", static_cast<unsigned long long>(got));
      return 1;
    }
  }
  std::printf("%llu\n", static_cast<unsigned long long>(is_fib ? fib_spawns(n) : 1'111'110));
  return 0;
}
