// runtime::set_active_workers: parking and waking workers while tasks keep flowing.
#include <doctest/doctest.h>

#include <atomic>
#include <barrier>
#include <latch>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "magpie/magpie.hpp"
#include "test_support.hpp"

namespace {

using magpie::test::gate;
using magpie::test::with_workers;

// Waits for an event (not a duration): every worker from `first` on is asleep.
void wait_until_asleep(magpie::runtime& rt, std::size_t first) {
  for (;;) {
    const auto s = rt.stats();
    bool all = true;
    for (std::size_t i = first; i < s.workers.size(); ++i)
      all = all && s.workers[i].asleep;
    if (all) return;
    std::this_thread::yield();
  }
}

}  // namespace

TEST_CASE("set_active_workers rejects 0 and more than worker_count()") {
  magpie::runtime rt(with_workers(3));
  CHECK(rt.active_workers() == 3);
  CHECK_THROWS_WITH_AS(rt.set_active_workers(0), doctest::Contains("set_active_workers"),
                       std::invalid_argument);
  CHECK_THROWS_AS(rt.set_active_workers(4), std::invalid_argument);
  CHECK(rt.active_workers() == 3);
}

TEST_CASE("with one active worker, every new task runs on worker 0" * doctest::timeout(120)) {
  magpie::runtime rt(with_workers(4, magpie::pinning::none));
  rt.set_active_workers(1);
  CHECK(rt.active_workers() == 1);
  wait_until_asleep(rt, 1);
  std::mutex mu;
  std::set<int> where;
  std::latch done(2000);
  for (int i = 0; i < 1000; ++i) {
    rt.submit([&] {
      {
        std::lock_guard lock(mu);
        where.insert(magpie::current_worker());
      }
      done.count_down();
    });
  }
  magpie::task_group g(rt);  // spawned from a worker too: still nobody else runs them
  rt.submit([&] {
    for (int i = 0; i < 1000; ++i) {
      g.spawn([&] {
        {
          std::lock_guard lock(mu);
          where.insert(magpie::current_worker());
        }
        done.count_down();
      });
    }
  });
  done.wait();
  g.wait();
  CHECK(where == std::set<int>{0});
  const auto s = rt.stats();
  CHECK(s.workers[0].active);
  CHECK_FALSE(s.workers[3].active);
}

TEST_CASE("tasks queued on a worker that is made inactive still run" * doctest::timeout(120)) {
  magpie::runtime rt(with_workers(2, magpie::pinning::none));
  std::atomic<int> ran{0};
  // Two tasks that each queue 500 tasks on their own worker's deque and then block: both
  // blocked means one on each worker, so worker 1 holds queued tasks when it is deactivated.
  gate ga, gb;
  const auto holder = [&](gate& g) {
    for (int i = 0; i < 500; ++i)
      rt.submit([&] { ran.fetch_add(1); });
    g.pass();
  };
  rt.submit([&] { holder(ga); });
  rt.submit([&] { holder(gb); });
  ga.wait_entered();
  gb.wait_entered();
  rt.set_active_workers(1);
  ga.release();
  gb.release();
  rt.shutdown();
  CHECK(ran.load() == 1000);
}

TEST_CASE("workers made active again take part: four tasks meet at a barrier" *
          doctest::timeout(120)) {
  magpie::runtime rt(with_workers(4, magpie::pinning::none));
  rt.set_active_workers(1);
  wait_until_asleep(rt, 1);
  rt.set_active_workers(4);
  std::barrier meet(4);  // only four workers running at once can pass it
  std::latch done(4);
  for (int i = 0; i < 4; ++i) {
    rt.submit([&] {
      meet.arrive_and_wait();
      done.count_down();
    });
  }
  done.wait();
  CHECK(rt.active_workers() == 4);
}

TEST_CASE("shutdown with inactive workers drains and joins") {
  magpie::runtime rt(with_workers(3, magpie::pinning::none));
  std::atomic<int> ran{0};
  for (int i = 0; i < 1000; ++i)
    rt.submit([&] { ran.fetch_add(1); });
  rt.set_active_workers(1);
  for (int i = 0; i < 1000; ++i)
    rt.submit([&] { ran.fetch_add(1); });
  const auto r = rt.shutdown();
  CHECK(ran.load() == 2000);
  CHECK(r.ran == 2000);
}

TEST_CASE("config.max_workers: the extra workers start asleep and take work once activated" *
          doctest::timeout(120)) {
  magpie::config c = with_workers(1, magpie::pinning::none);
  c.max_workers = 4;
  magpie::runtime rt(c);
  CHECK(rt.worker_count() == 4);
  CHECK(rt.active_workers() == 1);
  wait_until_asleep(rt, 1);  // started inactive: they park at once and cost no CPU
  std::mutex mu;
  std::set<int> where;
  std::latch first(500);
  for (int i = 0; i < 500; ++i) {
    rt.submit([&] {
      {
        std::lock_guard lock(mu);
        where.insert(magpie::current_worker());
      }
      first.count_down();
    });
  }
  first.wait();
  CHECK(where == std::set<int>{0});
  auto s = rt.stats();
  CHECK(s.workers[0].active);
  for (std::size_t i = 1; i < 4; ++i) {
    CHECK_FALSE(s.workers[i].active);
    CHECK(s.workers[i].tasks_run == 0);
    CHECK(s.workers[i].wakeups == 0);  // asleep since the start: 500 submissions woke none
  }
  CHECK_THROWS_AS(rt.set_active_workers(5), std::invalid_argument);
  rt.set_active_workers(4);  // past the starting count, up to max_workers
  std::barrier meet(4);      // only four workers running at once can pass it
  std::latch done(4);
  for (int i = 0; i < 4; ++i) {
    rt.submit([&] {
      meet.arrive_and_wait();
      done.count_down();
    });
  }
  done.wait();
  CHECK(rt.active_workers() == 4);
  rt.wait_idle();  // inactive-then-active workers take part in quiescence like the others
  s = rt.stats();
  for (std::size_t i = 0; i < 4; ++i)
    CHECK(s.workers[i].active);
}

TEST_CASE("config.max_workers: wait_idle and shutdown with workers that never woke" *
          doctest::timeout(120)) {
  magpie::config c = with_workers(2, magpie::pinning::none);
  c.max_workers = 6;
  magpie::runtime rt(c);
  std::atomic<int> ran{0};
  for (int i = 0; i < 1000; ++i)
    rt.submit([&] { ran.fetch_add(1); });
  rt.wait_idle();
  CHECK(ran.load() == 1000);
  for (int i = 0; i < 1000; ++i)
    rt.submit([&] { ran.fetch_add(1); });
  const auto r = rt.shutdown();
  CHECK(ran.load() == 2000);
  CHECK(r.ran == 2000);
  const auto s = rt.stats();
  for (std::size_t i = 2; i < 6; ++i)
    CHECK(s.workers[i].tasks_run == 0);
}
