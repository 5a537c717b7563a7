// parallel_invoke: every call once on every path, exceptions, nesting.
#include "magpie/parallel.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <numeric>
#include <ranges>
#include <set>
#include <span>
#include <stdexcept>
#include <thread>
#include <vector>

#include "magpie/magpie.hpp"
#include "test_support.hpp"

using namespace magpie;
using magpie::test::gate;
using magpie::test::with_workers;

TEST_CASE("parallel_invoke runs every function once and rethrows the first exception" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  std::atomic<int> a{0}, b{0}, c{0};
  parallel_invoke(
      rt, [&] { a.fetch_add(1); }, [&] { b.fetch_add(1); }, [&] { c.fetch_add(1); });
  CHECK(a.load() + b.load() + c.load() == 3);
  CHECK(a.load() == 1);
  CHECK_THROWS_WITH_AS(parallel_invoke(
                           rt, [] {}, [] { throw std::runtime_error("invoke failed"); }),
                       "invoke failed", std::runtime_error);
}

namespace {

// parallel_invoke of `count` calls (1 to 6) that each count themselves in `calls`.
void invoke_counted(runtime& rt, loop_options opts, int count,
                    std::vector<std::atomic<int>>& calls) {
  const auto c = [&calls](std::size_t k) { return [&calls, k] { calls[k].fetch_add(1); }; };
  switch (count) {
    case 1:
      parallel_invoke(rt, opts, c(0));
      break;
    case 2:
      parallel_invoke(rt, opts, c(0), c(1));
      break;
    case 3:
      parallel_invoke(rt, opts, c(0), c(1), c(2));
      break;
    case 4:
      parallel_invoke(rt, opts, c(0), c(1), c(2), c(3));
      break;
    case 5:
      parallel_invoke(rt, opts, c(0), c(1), c(2), c(3), c(4));
      break;
    default:
      parallel_invoke(rt, opts, c(0), c(1), c(2), c(3), c(4), c(5));
      break;
  }
}

// Every one of 1 to 6 calls runs once per parallel_invoke, `rounds` times over.
std::size_t invoke_wrong(runtime& rt, loop_options opts, std::size_t rounds) {
  std::size_t wrong = 0;
  for (std::size_t round = 0; round < rounds; ++round) {
    for (int count = 1; count <= 6; ++count) {
      std::vector<std::atomic<int>> calls(static_cast<std::size_t>(count));
      invoke_counted(rt, opts, count, calls);
      for (auto& k : calls)
        wrong += k.load() != 1 ? 1 : 0;
    }
  }
  return wrong;
}

}  // namespace

TEST_CASE("parallel_invoke: every call once on a worker, outside, and joining" *
          doctest::timeout(120)) {
  const loop_options joins{0, partitioner::adaptive, true};
  for (std::size_t w : {1, 2, 5}) {
    CAPTURE(w);
    runtime rt(with_workers(w, pinning::none));
    CHECK(invoke_wrong(rt, {}, 50) == 0);
    CHECK(invoke_wrong(rt, joins, 50) == 0);
    CHECK(rt.async([&] { return invoke_wrong(rt, {}, 50); }).get() == 0);
    CHECK(rt.async([&] { return invoke_wrong(rt, joins, 50); }).get() == 0);
  }
}

TEST_CASE("parallel_invoke: exceptions in every path, a 1-D grain refused, nesting" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  const loop_options joins{0, partitioner::adaptive, true};
  const auto throws = [] { throw std::runtime_error("call failed"); };
  for (const loop_options& opts : {loop_options{}, joins}) {
    CHECK_THROWS_WITH_AS(parallel_invoke(
                             rt, opts, [] {}, throws),
                         "call failed", std::runtime_error);
    CHECK_THROWS_WITH_AS(parallel_invoke(
                             rt, opts, throws, [] {}, [] {}),
                         "call failed", std::runtime_error);
    CHECK_THROWS_WITH_AS(parallel_invoke(rt, opts, throws), "call failed", std::runtime_error);
    CHECK_THROWS_WITH_AS(rt.async([&] {
                             parallel_invoke(
                                 rt, opts, [] {}, throws);
                           }).get(),
                         "call failed", std::runtime_error);
  }
  CHECK_THROWS_WITH_AS(parallel_invoke(
                           rt, loop_options{8}, [] {}, [] {}),
                       "magpie::parallel_invoke: loop_options::grain must be 0 (each function is "
                       "one piece)",
                       std::invalid_argument);
  // Loops inside calls and calls inside loops: the serial totals.
  std::atomic<long> total{0};
  parallel_invoke(
      rt, joins, [&] { parallel_for(rt, 0, 1000, [&](int i) { total.fetch_add(i); }); },
      [&] {
        parallel_for(rt, 0, 100, [&](int) {
          parallel_invoke(
              rt, [&] { total.fetch_add(1); }, [&] { total.fetch_add(2); });
        });
      });
  CHECK(total.load() == 999 * 1000 / 2 + 300);
}

TEST_CASE("parallel_invoke with caller_joins runs calls on the calling thread" *
          doctest::timeout(120)) {
  runtime rt(with_workers(1, pinning::none));
  gate busy;  // holds the only worker: the caller must run the first call itself
  rt.submit([&] { busy.pass(); });
  busy.wait_entered();
  std::atomic<int> on_caller{0}, runs{0};
  const auto call = [&] {
    runs.fetch_add(1);
    if (current_worker() == -1 && on_caller.fetch_add(1) == 0) busy.release();
  };
  parallel_invoke(rt, loop_options{0, partitioner::adaptive, true}, call, call, call);
  CHECK(runs.load() == 3);
  CHECK(on_caller.load() >= 1);
  rt.shutdown();  // afterwards a joining caller runs every call; a waiting one is refused
  on_caller.store(0);
  parallel_invoke(rt, loop_options{0, partitioner::adaptive, true}, call, call);
  CHECK(on_caller.load() == 2);
  CHECK_THROWS_WITH_AS(parallel_invoke(rt, call, call),
                       "magpie::parallel_invoke: runtime is shut down", runtime_closed);
}
