// A worker's activity record on its own: the marker's idle/busy changes and finished count, and
// busy time, checked against clock readings taken around each change (activity reads the clock
// itself), so every bound is an order between readings of one monotonic clock, never a duration.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "activity.hpp"
#include "test_support.hpp"

namespace {

using magpie::detail::activity;
using magpie::detail::clock_ticks;
using magpie::test::scaled;

// The three counters a worker bumps after each task, and its activity record.
struct worker_record {
  std::atomic<std::uint64_t> ran{0}, discarded{0}, canceled{0};
  activity act{ran, discarded, canceled};
};

// Spins until the clock moves, so that a run has a length of at least one tick.
std::uint64_t next_tick(std::uint64_t after) {
  std::uint64_t t = clock_ticks();
  while (t <= after)
    t = clock_ticks();
  return t;
}

}  // namespace

TEST_CASE("the marker starts idle and changes once per idle/busy transition" *
          doctest::timeout(120)) {
  worker_record w;
  const activity::marker start = w.act.now();
  CHECK(start == activity::marker{0, 1});
  CHECK_FALSE(activity::busy(start));
  w.act.went_idle();  // already idle: no change
  CHECK(w.act.now() == start);
  w.act.got_busy();
  CHECK(w.act.now() == activity::marker{0, 2});
  CHECK(activity::busy(w.act.now()));
  w.act.got_busy();  // already busy: no change
  CHECK(w.act.now().changes == 2);
  w.ran.store(3);
  w.discarded.store(2);
  w.canceled.store(1);
  CHECK(w.act.now() == activity::marker{6, 2});  // finished: run + discarded + skipped
  w.act.went_idle();
  CHECK(w.act.now() == activity::marker{6, 3});
  CHECK_FALSE(activity::busy(w.act.now()));
}

TEST_CASE("busy time is the sum of the runs of work, bounded by clock readings around them" *
          doctest::timeout(120)) {
  worker_record w;
  CHECK(w.act.busy_ticks(clock_ticks()) == 0);
  std::uint64_t lower = 0, upper = 0;
  for (int run = 0; run < 3; ++run) {
    const std::uint64_t before_busy = clock_ticks();
    w.act.got_busy();
    const std::uint64_t after_busy = clock_ticks();
    const std::uint64_t before_idle = next_tick(after_busy);
    // While busy, the run in progress counts up to the `now` asked about, tick for tick.
    const std::uint64_t in_run = w.act.busy_ticks(before_idle);
    CHECK(w.act.busy_ticks(before_idle + 1000) == in_run + 1000);
    w.act.went_idle();
    const std::uint64_t after_idle = clock_ticks();
    lower += before_idle - after_busy;
    upper += after_idle - before_busy;
    const std::uint64_t total = w.act.busy_ticks(after_idle);
    CHECK(total >= lower);
    CHECK(total <= upper);
    CHECK(total >= in_run);
    // While idle, the total does not depend on `now`: the finished run is counted once.
    CHECK(w.act.busy_ticks(after_idle + 1'000'000) == total);
    next_tick(after_idle);  // a gap before the next run, which must not count
  }
}

TEST_CASE("a reader sampling while its worker changes state sees values only grow" *
          doctest::timeout(60)) {
  worker_record w;
  const std::size_t runs = scaled(100000);
  // Every run starts after `start`, so busy_ticks(start) is the finished runs alone: it only grows.
  const std::uint64_t start = clock_ticks();
  std::atomic<bool> stop{false};
  std::uint64_t went_back = 0, samples = 0, last_done = 0;
  std::thread reader([&] {
    activity::marker last = w.act.now();
    while (!stop.load()) {
      const activity::marker m = w.act.now();
      const std::uint64_t done = w.act.busy_ticks(start);
      if (m.changes < last.changes || m.finished < last.finished || done < last_done) ++went_back;
      last = m;
      last_done = done;
      ++samples;
    }
  });
  for (std::size_t i = 0; i < runs; ++i) {
    w.act.got_busy();
    w.ran.fetch_add(1);
    w.act.went_idle();
  }
  stop.store(true);
  reader.join();
  MESSAGE("reader samples: " << samples);
  CHECK(went_back == 0);
  CHECK(last_done <= w.act.busy_ticks(start));
  CHECK(w.act.now() == activity::marker{runs, 2 * runs + 1});
}
