#include "magpie/magpie.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace magpie;
using magpie::test::gate;
using magpie::test::with_workers;

TEST_CASE("wait from an outside thread returns after every spawned task ran" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2));
  std::atomic<int> n{0};
  task_group g(rt);
  for (int i = 0; i < 10000; ++i)
    g.spawn([&] { n.fetch_add(1); });
  g.wait();
  CHECK(n.load() == 10000);
}

TEST_CASE("a task_group destroyed without wait waits for its tasks" * doctest::timeout(120)) {
  config c;
  c.workers = 2;
  runtime rt(c);
  std::atomic<int> n{0};
  {
    task_group g(rt);
    for (int i = 0; i < 1000; ++i)
      g.spawn([&] { n.fetch_add(1); });
  }
  CHECK(n.load() == 1000);
}

TEST_CASE("a group can be reused after wait" * doctest::timeout(120)) {
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

TEST_CASE("wait rethrows the first exception and cancels the rest" * doctest::timeout(120)) {
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
  // The exception was delivered once; a second wait does not rethrow it.
  CHECK_NOTHROW(g.wait());
}

TEST_CASE("a group reused after wait rethrew runs what is spawned into it later" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2));
  task_group g(rt);
  g.spawn([] { throw std::runtime_error("boom"); });
  CHECK_THROWS_WITH_AS(g.wait(), "boom", std::runtime_error);
  CHECK_FALSE(g.is_canceled());  // the cancellation the exception caused ends with the wait
  std::atomic<int> ran{0};
  for (int i = 0; i < 10; ++i)
    g.spawn([&] { ran.fetch_add(1); });
  g.wait();
  CHECK(ran.load() == 10);
  const shutdown_report r = rt.shutdown();
  CHECK(r.canceled == 0);
}

TEST_CASE("cancel stays final across waits" * doctest::timeout(120)) {
  runtime rt(with_workers(1));
  task_group g(rt);
  g.cancel();
  g.wait();
  std::atomic<int> ran{0};
  g.spawn([&] { ran.fetch_add(1); });
  g.wait();
  CHECK(ran.load() == 0);
  CHECK(g.is_canceled());
}

TEST_CASE("run_and_wait runs the callable on the caller as a task of the group" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2));
  std::atomic<int> ran{0};
  int where = -2;
  rt.async([&] {
      task_group g(rt);
      for (int i = 0; i < 5; ++i)
        g.spawn([&] { ran.fetch_add(1); });
      g.run_and_wait([&] {
        where = current_worker();
        ran.fetch_add(1);
      });
      CHECK(ran.load() == 6);
      CHECK(where == current_worker());
    }).get();
  task_group outside(rt);
  outside.spawn([&] { ran.fetch_add(1); });
  outside.run_and_wait([&] { ran.fetch_add(1); });  // from a thread that is not a worker
  CHECK(ran.load() == 8);
}

TEST_CASE("run_and_wait: an exception of the callable cancels the group and is rethrown" *
          doctest::timeout(120)) {
  runtime rt(with_workers(1));
  task_group g(rt);
  CHECK_THROWS_WITH_AS(g.run_and_wait([] { throw std::runtime_error("inline"); }), "inline",
                       std::runtime_error);
  std::atomic<int> ran{0};
  g.run_and_wait([&] { ran.fetch_add(1); });  // reusable afterwards
  CHECK(ran.load() == 1);
}

TEST_CASE("a group made on one worker and waited for on another thread still joins" *
          doctest::timeout(120)) {
  // The group's home counts its spawns locally; a wait elsewhere polls (group_state.hpp).
  runtime rt(with_workers(2));
  std::atomic<int> ran{0};
  std::unique_ptr<task_group> g;
  rt.async([&] {
      g = std::make_unique<task_group>(rt);
      for (int i = 0; i < 50; ++i)
        g->spawn([&] { ran.fetch_add(1); });
    }).get();
  g->wait();  // on the test's thread, not the home worker
  CHECK(ran.load() == 50);
}

TEST_CASE("exceptions from nested groups reach the outer waiter" * doctest::timeout(120)) {
  runtime rt(with_workers(2));
  task_group outer(rt);
  outer.spawn([&] {
    task_group inner(rt);
    inner.spawn([] { throw std::invalid_argument("deep"); });
    inner.wait();  // rethrows here, inside a task of `outer`
  });
  CHECK_THROWS_WITH_AS(outer.wait(), "deep", std::invalid_argument);
}

TEST_CASE("cancel skips tasks that have not started" * doctest::timeout(120)) {
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

TEST_CASE("waiting on a group from one of its own tasks is an error, not a deadlock" *
          doctest::timeout(120)) {
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

TEST_CASE("tasks spawned from outside threads are waited for by a worker" * doctest::timeout(120)) {
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

TEST_CASE("several outside threads wait on their own groups concurrently" * doctest::timeout(120)) {
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

TEST_CASE("large captures go to the heap and still run once" * doctest::timeout(120)) {
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

TEST_CASE("spawn after shutdown throws runtime_closed" * doctest::timeout(120)) {
  runtime rt(with_workers(1));
  task_group g(rt);
  rt.shutdown();
  CHECK_THROWS_AS(g.spawn([] {}), runtime_closed);
  CHECK_NOTHROW(g.wait());
}

TEST_CASE("a limited group runs its tasks oldest first, one at a time, without holding workers" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2));
  gate gt;
  std::vector<int> order;  // written by one task at a time (limit 1), read after wait
  task_group g(rt);
  g.set_limit(1);
  g.spawn([&] {
    gt.pass();
    order.push_back(0);
  });
  gt.wait_entered();
  for (int i = 1; i <= 20; ++i)
    g.spawn([&order, i] { order.push_back(i); });
  // The 20 waiting tasks are inside the group, not on a worker: the second worker is free.
  std::latch probe(1);
  rt.submit([&] { probe.count_down(); });
  probe.wait();
  CHECK_FALSE(g.wait_for(std::chrono::milliseconds(1)));  // the first task is still held
  gt.release();
  g.wait();
  REQUIRE(order.size() == 21);
  for (int i = 0; i <= 20; ++i)
    CHECK(order[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("a limited group never runs more than limit tasks at once" * doctest::timeout(120)) {
  runtime rt(with_workers(4));
  for (const std::size_t limit : {1u, 2u, 3u}) {
    std::atomic<std::size_t> running{0};
    std::atomic<std::size_t> most{0};
    std::atomic<int> ran{0};
    task_group g(rt);
    g.set_limit(limit);
    for (int i = 0; i < 2000; ++i) {
      g.spawn([&] {
        const std::size_t now = running.fetch_add(1) + 1;
        std::size_t seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        ran.fetch_add(1);
        running.fetch_sub(1);
      });
    }
    g.wait();
    CHECK(ran.load() == 2000);
    CHECK(most.load() <= limit);
  }
}

TEST_CASE("a limited group spawned from its own tasks on every worker loses nothing" *
          doctest::timeout(120)) {
  runtime rt(with_workers(3));
  std::atomic<int> leaves{0};
  task_group g(rt);
  g.set_limit(2);
  for (int i = 0; i < 200; ++i) {
    g.spawn([&] {
      for (int j = 0; j < 10; ++j)
        g.spawn([&] { leaves.fetch_add(1); });
    });
  }
  g.wait();
  CHECK(leaves.load() == 2000);
}

TEST_CASE("raising a group's limit starts waiting tasks at once" * doctest::timeout(120)) {
  runtime rt(with_workers(3));
  gate first;
  gate second;
  task_group g(rt);
  g.set_limit(1);
  g.spawn([&] { first.pass(); });
  first.wait_entered();
  g.spawn([&] { second.pass(); });  // waits: the limit is taken
  g.set_limit(2);                   // starts it although the first still runs
  second.wait_entered();
  first.release();
  second.release();
  g.wait();
}

TEST_CASE("canceling a limited group skips its waiting tasks and counts them" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2));
  gate gt;
  std::atomic<int> ran{0};
  {
    task_group g(rt);
    g.set_limit(1);
    g.spawn([&] { gt.pass(); });
    gt.wait_entered();
    for (int i = 0; i < 50; ++i)
      g.spawn([&] { ran.fetch_add(1); });
    g.cancel();
    gt.release();
    g.wait();
  }
  CHECK(ran.load() == 0);
  const shutdown_report r = rt.shutdown();
  CHECK(r.canceled == 50);
}

TEST_CASE("a limit of zero is rejected" * doctest::timeout(120)) {
  runtime rt(with_workers(1));
  task_group g(rt);
  CHECK_THROWS_WITH_AS(g.set_limit(0),
                       "magpie::task_group::set_limit: the limit must be at least 1",
                       std::invalid_argument);
}

TEST_CASE("spawn into a limited group after shutdown throws runtime_closed" *
          doctest::timeout(120)) {
  runtime rt(with_workers(1));
  task_group g(rt);
  g.set_limit(1);
  rt.shutdown();
  CHECK_THROWS_AS(g.spawn([] {}), runtime_closed);
  CHECK(g.wait_for(std::chrono::seconds(0)));
}

TEST_CASE("wait_for from an outside thread times out while a task is held, then succeeds" *
          doctest::timeout(120)) {
  runtime rt(with_workers(1));
  gate gt;
  task_group g(rt);
  g.spawn([&] { gt.pass(); });
  gt.wait_entered();
  CHECK_FALSE(g.wait_for(std::chrono::milliseconds(2)));
  CHECK_FALSE(g.wait_for(std::chrono::seconds(0)));
  gt.release();
  CHECK(g.wait_for(std::chrono::hours(24)));
  CHECK(g.wait_for(std::chrono::nanoseconds::max()));  // saturates instead of overflowing
}

TEST_CASE("wait_for on a worker times out while the group's task runs elsewhere" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2));
  gate gt;
  task_group g(rt);
  g.spawn([&] { gt.pass(); });
  gt.wait_entered();  // one worker is held; the other one runs the waiter below
  std::atomic<int> timed_out{-1};
  std::latch done(1);
  rt.submit([&] {
    timed_out.store(g.wait_for(std::chrono::milliseconds(2)) ? 0 : 1);
    done.count_down();
  });
  done.wait();
  CHECK(timed_out.load() == 1);
  gt.release();
  g.wait();
}

TEST_CASE("wait_for on a worker runs the group's tasks itself and rethrows their exception" *
          doctest::timeout(120)) {
  runtime rt(with_workers(1));
  std::atomic<int> ran{0};
  std::atomic<bool> finished{false};
  std::atomic<bool> rethrown{false};
  task_group outer(rt);
  outer.spawn([&] {
    task_group inner(rt);
    for (int i = 0; i < 100; ++i)
      inner.spawn([&] { ran.fetch_add(1); });
    finished.store(inner.wait_for(std::chrono::hours(1)));  // only this worker can run them
    inner.spawn([] { throw std::runtime_error("late"); });
    try {
      inner.wait_for(std::chrono::hours(1));
    } catch (const std::runtime_error&) {
      rethrown.store(true);
    }
  });
  outer.wait();
  CHECK(ran.load() == 100);
  CHECK(finished.load());
  CHECK(rethrown.load());
}

TEST_CASE("canceling a group cancels the groups nested in its tasks, three levels deep" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2));
  gate held;     // holds the innermost group's first task on one worker
  gate spawner;  // holds the task that queued the innermost group's other tasks
  constexpr int queued = 50;
  std::atomic<int> ran{0};
  std::atomic<bool> inner_saw_cancel{false};
  std::atomic<bool> middle_saw_cancel{false};
  task_group outer(rt);
  outer.spawn([&] {
    task_group middle(rt);
    middle.spawn([&] {
      task_group inner(rt);
      inner.spawn([&] { held.pass(); });
      held.wait_entered();  // running on the other worker
      for (int i = 0; i < queued; ++i)
        inner.spawn([&] { ran.fetch_add(1); });
      spawner.pass();  // both workers are held now; the 50 wait in this worker's deque
      inner_saw_cancel.store(inner.is_canceled());
      inner.wait();  // pops the 50 and skips them
    });
    middle.wait();
    middle_saw_cancel.store(middle.is_canceled());
  });
  spawner.wait_entered();
  CHECK_FALSE(outer.is_canceled());
  outer.cancel();
  spawner.release();
  held.release();
  outer.wait();
  CHECK(ran.load() == 0);
  CHECK(inner_saw_cancel.load());
  CHECK(middle_saw_cancel.load());
  const shutdown_report r = rt.shutdown();
  CHECK(r.canceled == queued);
  CHECK(r.ran == 3);  // outer's task, middle's task, and inner's first (held) task
}

TEST_CASE("an exception in a task cancels the groups nested in its sibling tasks" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2));
  gate held;
  std::atomic<int> ran{0};
  task_group outer(rt);
  outer.spawn([&] {
    task_group inner(rt);
    inner.spawn([&] { held.pass(); });
    held.wait_entered();
    for (int i = 0; i < 20; ++i)
      inner.spawn([&] { ran.fetch_add(1); });
    outer.spawn([] { throw std::runtime_error("sibling failed"); });
    inner.wait();  // helps: runs the thrower (LIFO) first, then skips the 20
  });
  // Released only after the throw: a freed worker could otherwise steal a counter before it.
  while (!outer.is_canceled())
    std::this_thread::yield();
  held.release();
  CHECK_THROWS_WITH_AS(outer.wait(), "sibling failed", std::runtime_error);
  CHECK(ran.load() == 0);
}

TEST_CASE("canceling a nested group leaves its parent running" * doctest::timeout(120)) {
  runtime rt(with_workers(2));
  std::atomic<bool> parent_canceled{true};
  task_group outer(rt);
  outer.spawn([&] {
    task_group inner(rt);
    inner.cancel();
    parent_canceled.store(outer.is_canceled());
  });
  outer.wait();
  CHECK_FALSE(parent_canceled.load());
  CHECK_FALSE(outer.is_canceled());
}

TEST_CASE("wait_for from one of the group's own tasks is an error, not a timeout" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2));
  task_group g(rt);
  std::atomic<bool> threw{false};
  g.spawn([&] {
    try {
      static_cast<void>(g.wait_for(std::chrono::hours(1)));
    } catch (const std::logic_error& e) {
      threw.store(std::string(e.what()).find("own tasks") != std::string::npos);
    }
  });
  g.wait();
  CHECK(threw.load());
}
