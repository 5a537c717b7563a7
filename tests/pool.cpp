// The thread-pool operations: pending() and running(), wait_idle(), async with arguments, and
// errors that name the call the user made.
#include <doctest/doctest.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "magpie/magpie.hpp"
#include "test_support.hpp"

using namespace magpie;
using magpie::test::gate;
using magpie::test::scaled;
using magpie::test::with_workers;

static_assert(noexcept(std::declval<const runtime&>().pending()));
static_assert(noexcept(std::declval<const runtime&>().running()));

TEST_CASE("pending and running count queued and running tasks" * doctest::timeout(120)) {
  runtime rt(with_workers(1, pinning::none));
  CHECK(rt.pending() == 0);
  CHECK(rt.running() == 0);
  gate g;
  rt.submit([&g] { g.pass(); });
  g.wait_entered();  // the only worker is inside the task: what follows stays queued
  std::atomic<int> ran{0};
  for (int i = 0; i < 5; ++i)
    rt.submit([&ran] { ran.fetch_add(1); });
  CHECK(rt.running() == 1);
  CHECK(rt.pending() == 5);
  g.release();
  rt.wait_idle();
  CHECK(ran.load() == 5);
  CHECK(rt.pending() == 0);
  CHECK(rt.running() == 0);
}

namespace {

// Each task submits two children, which each spawn a group of two and submit one more.
void fan_out(runtime& rt, std::atomic<std::size_t>& ran, int depth) {
  ran.fetch_add(1, std::memory_order_relaxed);
  if (depth == 0) return;
  for (int i = 0; i < 2; ++i)
    rt.submit([&rt, &ran, depth] { fan_out(rt, ran, depth - 1); });
}

// Tasks one fan_out(depth) runs in all: 2^(depth+1) - 1.
std::size_t fan_size(int depth) {
  return (std::size_t{1} << (depth + 1)) - 1;
}

}  // namespace

TEST_CASE("wait_idle waits for every task and the tasks they submit" * doctest::timeout(300)) {
  runtime rt(with_workers(4, pinning::none));
  std::atomic<std::size_t> ran{0};
  std::atomic<std::size_t> grouped{0};
  const std::size_t tasks = 1000;
  std::size_t expected = 0;
  for (int round = 0; round < static_cast<int>(scaled(20)); ++round) {
    for (std::size_t i = 0; i < tasks; ++i) {
      rt.submit([&rt, &ran] { fan_out(rt, ran, 3); });
      if (i % 100 == 0) {
        rt.submit([&rt, &grouped] {
          task_group tg(rt);
          tg.spawn([&grouped] { grouped.fetch_add(1); });
          tg.spawn([&grouped] { grouped.fetch_add(1); });
          tg.wait();
          rt.async([&grouped] { grouped.fetch_add(1); }).get();
        });
      }
    }
    expected += tasks * fan_size(3);
    rt.wait_idle();  // the runtime stays open: the next round submits again
    REQUIRE(ran.load() == expected);
    REQUIRE(grouped.load() == static_cast<std::size_t>(round + 1) * 30);
    CHECK(rt.pending() == 0);
    CHECK(rt.running() == 0);
  }
}

TEST_CASE("wait_idle on an idle runtime returns; after shutdown too" * doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  rt.wait_idle();
  rt.wait_idle();
  std::atomic<int> ran{0};
  rt.submit([&ran] { ran.fetch_add(1); });
  rt.wait_idle();
  CHECK(ran.load() == 1);
  rt.wait_idle();
  rt.shutdown();
  rt.wait_idle();
}

TEST_CASE("wait_idle while another thread shuts the runtime down returns" * doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  gate g;
  std::atomic<int> ran{0};
  rt.submit([&g] { g.pass(); });
  g.wait_entered();
  for (int i = 0; i < 100; ++i)
    rt.submit([&ran] { ran.fetch_add(1); });
  std::thread waiter([&rt] { rt.wait_idle(); });
  std::thread closer([&rt] { rt.shutdown(); });
  g.release();
  waiter.join();
  closer.join();
  CHECK(ran.load() == 100);
}

TEST_CASE("wait_idle from several threads while others submit" * doctest::timeout(300)) {
  runtime rt(with_workers(3, pinning::none));
  std::atomic<std::size_t> ran{0};
  const std::size_t per_thread = scaled(20'000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (std::size_t i = 0; i < per_thread; ++i) {
        rt.submit([&rt, &ran] { fan_out(rt, ran, 1); });
        if (i % 1000 == 0) rt.wait_idle();
      }
      rt.wait_idle();
    });
  }
  for (auto& t : threads)
    t.join();
  rt.wait_idle();
  CHECK(ran.load() == 2 * per_thread * fan_size(1));
}

TEST_CASE("wait_idle from one of the runtime's workers throws logic_error" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  std::string message;
  bool threw = false;
  rt.submit([&] {
    try {
      rt.wait_idle();
    } catch (const std::logic_error& e) {
      threw = true;
      message = e.what();
    }
  });
  rt.wait_idle();
  CHECK(threw);
  CHECK(message.find("magpie::runtime::wait_idle") != std::string::npos);
  // A worker of another runtime may wait for this one.
  runtime other(with_workers(1, pinning::none));
  std::atomic<int> ran{0};
  other
      .async([&] {
        rt.submit([&ran] { ran.fetch_add(1); });
        rt.wait_idle();
      })
      .get();
  CHECK(ran.load() == 1);
}

namespace {

int add3(int a, int b, int c) {
  return a + b + c;
}

}  // namespace

TEST_CASE("async passes decayed copies of its arguments like std::async" * doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  CHECK(rt.async(add3, 1, 2, 3).get() == 6);
  CHECK(rt.async(&add3, 1, 2, 3).get() == 6);
  const std::string s = "magpie";
  CHECK(rt.async([](const std::string& x, int n) { return x.size() + n; }, s, 1).get() == 7);
  // Move-only arguments are moved in and handed to f as rvalues.
  auto p = std::make_unique<int>(41);
  CHECK(rt.async([](std::unique_ptr<int> q) { return *q + 1; }, std::move(p)).get() == 42);
  // A copy, not a reference: the caller's variable is untouched.
  int x = 1;
  rt.async([](int y) { return y = 5; }, x).get();
  CHECK(x == 1);
  // std::ref passes a reference on purpose.
  rt.async([](int& y) { y = 5; }, std::ref(x)).get();
  CHECK(x == 5);
  // A priority second argument still selects the lane.
  CHECK(rt.async([] { return 3; }, priority::high).get() == 3);
  int (*null_fn)(int) = nullptr;
  CHECK_THROWS_AS(rt.async(null_fn, 1), std::invalid_argument);
}

TEST_CASE("errors after shutdown name the call the user made" * doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  rt.shutdown();
  CHECK_THROWS_WITH_AS(rt.async([] { return 1; }), "magpie::runtime::async: runtime is shut down",
                       runtime_closed);
  CHECK_THROWS_WITH_AS(rt.async(add3, 1, 2, 3), "magpie::runtime::async: runtime is shut down",
                       runtime_closed);
  CHECK_THROWS_WITH_AS(parallel_for(rt, 0, 10'000, 100, [](int) {}),
                       "magpie::parallel_for: runtime is shut down", runtime_closed);
  CHECK_THROWS_WITH_AS(parallel_for(rt, range2d{0, 100, 0, 100, 10, 10},
                                    [](std::size_t, std::size_t, std::size_t, std::size_t) {}),
                       "magpie::parallel_for: runtime is shut down", runtime_closed);
  CHECK_THROWS_WITH_AS(parallel_reduce(
                           rt, 0, 10'000, 0L, [](int i) { return static_cast<long>(i); },
                           [](long a, long b) { return a + b; }, loop_options{100}),
                       "magpie::parallel_reduce: runtime is shut down", runtime_closed);
  CHECK_THROWS_WITH_AS(parallel_invoke(
                           rt, [] {}, [] {}),
                       "magpie::parallel_invoke: runtime is shut down", runtime_closed);
}

TEST_CASE("wait_idle with fewer active workers waits for the work they hand over" *
          doctest::timeout(120)) {
  runtime rt(with_workers(3, pinning::none));
  std::atomic<std::size_t> ran{0};
  for (int i = 0; i < 300; ++i)
    rt.submit([&rt, &ran] { fan_out(rt, ran, 2); });
  rt.set_active_workers(1);  // the others finish or hand over their deques and sleep
  for (int i = 0; i < 300; ++i)
    rt.submit([&rt, &ran] { fan_out(rt, ran, 2); });
  rt.wait_idle();
  CHECK(ran.load() == 600 * fan_size(2));
  rt.set_active_workers(3);
  rt.wait_idle();
}
