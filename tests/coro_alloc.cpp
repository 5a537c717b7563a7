// Coroutine frames come from the workers' frame pools: after a warm-up, a fork-join coroutine
// program calls the global allocator for none of its frames. This binary replaces the global
// operator new to count every call.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "coro_support.hpp"
#include "count_allocations.hpp"
#include "magpie/coro.hpp"
#include "magpie/magpie.hpp"
#include "test_support.hpp"

using namespace magpie;
using magpie::test::allocations;
using magpie::test::fib;
using magpie::test::with_workers;

namespace {

// Runs fib(n) `warm` times, then counts the global allocations of `measured` more runs, all
// inside one coroutine on the runtime (so the outside thread's sync_wait is not counted).
task<std::uint64_t> allocations_after_warm_up(int n, int warm, int measured) {
  for (int i = 0; i < warm; ++i)
    co_await fib(n);
  const std::uint64_t before = allocations.load();
  for (int i = 0; i < measured; ++i)
    co_await fib(n);
  co_return allocations.load() - before;
}

}  // namespace

TEST_CASE("no global allocation per frame after warm-up, one worker" * doctest::timeout(60)) {
  runtime rt(with_workers(1));
  // fib(20) makes 21891 frames per run.
  // Long enough a warm-up for every phase of the bounded take-back chains (at most 64
  // transfers, then one trip through the deque) to have reached its deepest deque and pools.
  CHECK(sync_wait(rt, allocations_after_warm_up(20, 40, 5)) == 0);
}

TEST_CASE("frames migrate between workers' pools without a steady flow to malloc" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2));
  const int runs = 5;
  const std::uint64_t frames = 21891ull * runs;  // per fib(20) run
  const std::uint64_t n = sync_wait(rt, allocations_after_warm_up(20, 10, runs));
  MESSAGE("global allocations: " << n << " for " << frames << " frames");
  // Frames made on one worker may be freed on the other; each pool keeps up to 1024 blocks
  // of a size class, so only an imbalance beyond that reaches malloc.
  CHECK(n * 100 < frames);
}
