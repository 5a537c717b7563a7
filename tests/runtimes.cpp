// Several runtimes in one process: they share nothing, so each works as if it were alone.
#include <doctest/doctest.h>

#include <atomic>
#include <latch>
#include <stdexcept>
#include <thread>
#include <vector>

#include "magpie/magpie.hpp"
#include "test_support.hpp"

using namespace magpie;
using magpie::test::gate;
using magpie::test::with_workers;

TEST_CASE("tasks of two runtimes submit to each other and every task runs once" *
          doctest::timeout(120)) {
  runtime a(with_workers(1));
  runtime b(with_workers(3));
  constexpr int rounds = 2000;
  std::atomic<int> on_a{0};
  std::atomic<int> on_b{0};
  std::latch done(2 * rounds);
  for (int i = 0; i < rounds; ++i) {
    a.submit([&] {
      b.submit([&] {
        on_b.fetch_add(a.is_current_worker() ? 1000000 : 1);
        done.count_down();
      });
    });
    b.submit([&] {
      a.submit([&] {
        on_a.fetch_add(b.is_current_worker() ? 1000000 : 1);
        done.count_down();
      });
    });
  }
  done.wait();
  CHECK(on_a.load() == rounds);
  CHECK(on_b.load() == rounds);
  const shutdown_report ra = a.shutdown();
  const shutdown_report rb = b.shutdown();
  CHECK(ra.ran == 2 * rounds);
  CHECK(rb.ran == 2 * rounds);
}

TEST_CASE("current_worker and is_current_worker answer for the runtime the thread belongs to" *
          doctest::timeout(120)) {
  runtime a(with_workers(1));
  runtime b(with_workers(3));
  CHECK(current_worker() == -1);
  CHECK_FALSE(a.is_current_worker());
  std::atomic<int> bad{0};
  task_group ga(a);
  task_group gb(b);
  for (int i = 0; i < 100; ++i) {
    ga.spawn([&] {
      const int w = current_worker();
      if (w != 0 || !a.is_current_worker() || b.is_current_worker()) bad.fetch_add(1);
    });
    gb.spawn([&] {
      const int w = current_worker();
      if (w < 0 || w >= 3 || !b.is_current_worker() || a.is_current_worker()) bad.fetch_add(1);
    });
  }
  ga.wait();
  gb.wait();
  CHECK(bad.load() == 0);
}

TEST_CASE("a worker of another runtime uses the outside values of a worker_local" *
          doctest::timeout(120)) {
  runtime a(with_workers(1));
  runtime b(with_workers(1));
  worker_local<int> wl(a);
  const int* from_a = a.async([&] { return &wl.local(); }).get();
  const int* from_b = b.async([&] { return &wl.local(); }).get();  // b's worker 0 is not a's
  const int* outside = &wl.local();
  CHECK(from_a != from_b);
  CHECK(from_b != outside);
  CHECK(from_a != outside);
  int values = 0;
  wl.for_each([&](int) { ++values; });
  CHECK(values == 3);
}

TEST_CASE("shutting one runtime down leaves the other running" * doctest::timeout(120)) {
  runtime a(with_workers(2));
  runtime b(with_workers(2));
  gate gt;
  std::atomic<int> ran_b{0};
  task_group gb(b);
  gb.spawn([&] { gt.pass(); });
  gt.wait_entered();  // b is busy across a's whole shutdown
  a.submit([] {});
  const shutdown_report ra = a.shutdown();
  CHECK(ra.ran == 1);
  CHECK_THROWS_AS(a.submit([] {}), runtime_closed);
  for (int i = 0; i < 100; ++i)
    gb.spawn([&] { ran_b.fetch_add(1); });
  // A task of b that submits to the closed a is refused there, not here.
  std::atomic<bool> refused{false};
  gb.spawn([&] {
    try {
      a.submit([] {});
    } catch (const runtime_closed&) {
      refused.store(true);
    }
  });
  gt.release();
  gb.wait();
  CHECK(ran_b.load() == 100);
  CHECK(refused.load());
  CHECK(b.async([] { return 3; }).get() == 3);
}

TEST_CASE("groups of two runtimes nest, and each waiter helps only its own runtime" *
          doctest::timeout(120)) {
  runtime a(with_workers(1));
  runtime b(with_workers(1));
  std::atomic<int> sum{0};
  task_group outer(a);
  for (int i = 0; i < 20; ++i) {
    outer.spawn([&] {
      task_group inner(b);  // made on a's worker: waits there as an outside thread
      for (int j = 0; j < 10; ++j)
        inner.spawn([&] { sum.fetch_add(1); });
      inner.wait();
    });
  }
  outer.wait();
  CHECK(sum.load() == 200);
}
