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

// The workers that ran the tasks which called note().
struct where_log {
  std::mutex mu;
  std::set<int> where;
  void note() {
    std::lock_guard lock(mu);
    where.insert(magpie::current_worker());
  }
};

// Submits `n` tasks that meet at a barrier and returns once all passed it: only `n` workers
// running at once can pass it.
void meet_at_barrier(magpie::runtime& rt, std::ptrdiff_t n) {
  std::barrier meet(n);
  std::latch done(n);
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    rt.submit([&] {
      meet.arrive_and_wait();
      done.count_down();
    });
  }
  done.wait();
}

}  // namespace

TEST_CASE("set_active_workers rejects 0 and more than worker_count()" * doctest::timeout(120)) {
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
  where_log log;
  std::latch done(2000);
  for (int i = 0; i < 1000; ++i) {
    rt.submit([&] {
      log.note();
      done.count_down();
    });
  }
  magpie::task_group g(rt);  // spawned from a worker too: still nobody else runs them
  rt.submit([&] {
    for (int i = 0; i < 1000; ++i) {
      g.spawn([&] {
        log.note();
        done.count_down();
      });
    }
  });
  done.wait();
  g.wait();
  CHECK(log.where == std::set<int>{0});
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
  meet_at_barrier(rt, 4);
  CHECK(rt.active_workers() == 4);
}

TEST_CASE("shutdown with inactive workers drains and joins" * doctest::timeout(120)) {
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
  where_log log;
  std::latch first(500);
  for (int i = 0; i < 500; ++i) {
    rt.submit([&] {
      log.note();
      first.count_down();
    });
  }
  first.wait();
  CHECK(log.where == std::set<int>{0});
  auto s = rt.stats();
  CHECK(s.workers[0].active);
  for (std::size_t i = 1; i < 4; ++i) {
    CHECK_FALSE(s.workers[i].active);
    CHECK(s.workers[i].tasks_run == 0);
    CHECK(s.workers[i].wakeups == 0);  // asleep since the start: 500 submissions woke none
  }
  CHECK_THROWS_AS(rt.set_active_workers(5), std::invalid_argument);
  rt.set_active_workers(4);  // past the starting count, up to max_workers
  meet_at_barrier(rt, 4);
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
