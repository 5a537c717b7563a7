#include "magpie/magpie.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace magpie;
using magpie::test::gate;
using magpie::test::with_workers;

TEST_CASE("wait from an outside thread returns after every spawned task ran") {
  runtime rt(with_workers(2));
  std::atomic<int> n{0};
  task_group g(rt);
  for (int i = 0; i < 10000; ++i)
    g.spawn([&] { n.fetch_add(1); });
  g.wait();
  CHECK(n.load() == 10000);
}

TEST_CASE("a group can be reused after wait") {
  runtime rt(with_workers(2));
  std::atomic<int> n{0};
  task_group g(rt);
  for (int round = 1; round <= 50; ++round) {
    for (int i = 0; i < 20; ++i)
      g.spawn([&] { n.fetch_add(1); });
    g.wait();
    CHECK(n.load() == round * 20);
  }
}

TEST_CASE("wait rethrows the first exception and cancels the rest") {
  runtime rt(with_workers(1));
  gate gt;
  std::atomic<int> ran{0};
  task_group g(rt);
  g.spawn([&] {
    gt.pass();
    throw std::runtime_error("first");
  });
  gt.wait_entered();
  for (int i = 0; i < 100; ++i)
    g.spawn([&] { ran.fetch_add(1); });
  gt.release();
  CHECK_THROWS_WITH_AS(g.wait(), "first", std::runtime_error);
  CHECK(ran.load() == 0);  // queued behind the thrower on the only worker: all skipped
  CHECK(g.is_canceled());
  // The exception was delivered once; a second wait does not rethrow it.
  CHECK_NOTHROW(g.wait());
}

TEST_CASE("exceptions from nested groups reach the outer waiter") {
  runtime rt(with_workers(2));
  task_group outer(rt);
  outer.spawn([&] {
    task_group inner(rt);
    inner.spawn([] { throw std::invalid_argument("deep"); });
    inner.wait();  // rethrows here, inside a task of `outer`
  });
  CHECK_THROWS_WITH_AS(outer.wait(), "deep", std::invalid_argument);
}

TEST_CASE("cancel skips tasks that have not started") {
  runtime rt(with_workers(1));
  gate gt;
  std::atomic<int> ran{0};
  task_group g(rt);
  g.spawn([&] { gt.pass(); });
  gt.wait_entered();
  for (int i = 0; i < 100; ++i)
    g.spawn([&] { ran.fetch_add(1); });
  CHECK_FALSE(g.is_canceled());
  g.cancel();
  CHECK(g.is_canceled());
  gt.release();
  g.wait();
  CHECK(ran.load() == 0);
  const shutdown_report r = rt.shutdown();
  CHECK(r.ran == 1);
  CHECK(r.canceled == 100);
}

TEST_CASE("waiting on a group from one of its own tasks is an error, not a deadlock") {
  runtime rt(with_workers(2));
  task_group g(rt);
  std::atomic<bool> threw{false};
  g.spawn([&] {
    try {
      g.wait();
    } catch (const std::logic_error& e) {
      threw.store(std::string(e.what()).find("own tasks") != std::string::npos);
    }
  });
  g.wait();
  CHECK(threw.load());
}

TEST_CASE("tasks spawned from outside threads are waited for by a worker") {
  runtime rt(with_workers(2));
  std::atomic<int> n{0};
  task_group outer(rt);
  outer.spawn([&] {
    task_group g(rt);
    std::thread feeder([&] {
      for (int i = 0; i < 1000; ++i)
        g.spawn([&] { n.fetch_add(1); });
    });
    feeder.join();
    g.wait();
    CHECK(n.load() == 1000);
  });
  outer.wait();
  CHECK(n.load() == 1000);
}

TEST_CASE("several outside threads wait on their own groups concurrently") {
  runtime rt(with_workers(2));
  std::vector<std::thread> threads;
  std::atomic<int> total{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 200; ++round) {
        task_group g(rt);
        for (int i = 0; i < 10; ++i)
          g.spawn([&] { total.fetch_add(1); });
        g.wait();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  CHECK(total.load() == 4 * 200 * 10);
}

TEST_CASE("large captures go to the heap and still run once") {
  runtime rt(with_workers(2));
  std::atomic<long> sum{0};
  task_group g(rt);
  for (int i = 0; i < 1000; ++i) {
    std::array<long, 32> big{};  // 256 bytes: does not fit inline
    big[31] = i;
    g.spawn([big, &sum] { sum.fetch_add(big[31]); });
  }
  g.wait();
  CHECK(sum.load() == 999L * 1000 / 2);
}

TEST_CASE("spawn after shutdown throws runtime_closed") {
  runtime rt(with_workers(1));
  task_group g(rt);
  rt.shutdown();
  CHECK_THROWS_AS(g.spawn([] {}), runtime_closed);
  CHECK_NOTHROW(g.wait());
}
